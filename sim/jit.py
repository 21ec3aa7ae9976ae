"""Compiled kernels: one way to compile, and the reductions numpy does, done the same way.

The model's hot loops are numpy calls on small arrays (308 firms, ~10,000
graduates at the baseline size), where numpy's per-call overhead dominates.
Fusing such a chain of calls into one loop compiled by numba removes it. The
rules that keep results bit-identical to the numpy code a kernel replaces:

* elementwise ``+ - * /``, ``sqrt``, ``min``/``max``, comparisons, integer
  work and sequential accumulations (``bincount``, ``add.at``, ``cumsum``) give
  the same bits in a loop as in numpy;
* ``exp``, ``log``, ``pow`` and other transcendental functions may not (numpy
  uses its own SIMD versions on CPUs with AVX-512): compute them with numpy
  and pass the result in;
* a float ``sum``/``mean`` over an array is pairwise in numpy: use
  :func:`pairwise_sum`, which adds in numpy's order.

``njit`` compiles on first call and caches the machine code next to the source
(``__pycache__``), so a fresh process loads it in milliseconds; set
``NUMBA_DISABLE_JIT=1`` to run the kernels as plain Python (debugging,
coverage) and ``NUMBA_CACHE_DIR`` when the source tree is read-only. numba
invalidates a cached kernel when its own file changes, not when a kernel it
calls from another module does: after editing this module (its
``pairwise_sum``, ``minimum``, ``maximum`` and ``clip`` are called from
``sim/kernels/``), delete ``sim/kernels/__pycache__``.
"""

from __future__ import annotations

import functools

import numba
import numpy as np

#: numba.njit with an on-disk cache; no fastmath (it would reorder arithmetic and change results)
njit = functools.partial(numba.njit, cache=True, nogil=True)

_BLOCK = 128  # numpy's PW_BLOCKSIZE


@njit
def _leaf(a: np.ndarray, lo: int, n: int) -> float:
    """The sum numpy's pairwise_sum takes for n <= 128: eight running sums, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit
def _pairwise(a: np.ndarray, lo: int, n: int) -> float:
    """The recursion of numpy's pairwise_sum (halves rounded down to multiples of 8), with an explicit stack."""
    if n <= _BLOCK:
        return _leaf(a, lo, n)
    task_lo = np.empty(128, np.int64)
    task_n = np.empty(128, np.int64)
    task_combine = np.empty(128, np.bool_)
    values = np.empty(128, np.float64)
    top, nv = 0, 0
    task_lo[0], task_n[0], task_combine[0] = lo, n, False
    top = 1
    while top:
        top -= 1
        t_lo, t_n, combine = task_lo[top], task_n[top], task_combine[top]
        if combine:
            nv -= 1
            values[nv - 1] = values[nv - 1] + values[nv]
        elif t_n <= _BLOCK:
            values[nv] = _leaf(a, t_lo, t_n)
            nv += 1
        else:
            n2 = t_n // 2
            n2 -= n2 % 8
            task_lo[top], task_n[top], task_combine[top] = t_lo, t_n, True
            task_lo[top + 1], task_n[top + 1], task_combine[top + 1] = t_lo + n2, t_n - n2, False
            task_lo[top + 2], task_n[top + 2], task_combine[top + 2] = t_lo, n2, False
            top += 3
    return values[0]


@njit
def pairwise_sum(a: np.ndarray) -> float:
    """``a.sum()`` for a contiguous 1-D float64 array, in numpy's order (bit-identical)."""
    n = a.size
    if n == 0:
        return 0.0
    return _pairwise(a, 0, n)


@njit
def minimum(a: float, b: float) -> float:
    """``np.minimum`` of two floats, bit for bit: a NaN from either side, else the smaller, ``b`` on a tie (-0.0 vs 0.0)."""
    if a != a:
        return a
    return a if a < b else b


@njit
def maximum(a: float, b: float) -> float:
    """``np.maximum`` of two floats, bit for bit: a NaN from either side, else the larger, ``b`` on a tie (-0.0 vs 0.0)."""
    if a != a:
        return a
    return a if a > b else b


@njit
def clip(x: float, lo: float, hi: float) -> float:
    """``np.clip`` of one float, bit for bit: ``lo`` below, ``hi`` above, else ``x`` itself (NaN and -0.0 pass)."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
