"""sim.jit.pairwise_sum adds in numpy's order: the same bits as ndarray.sum()."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sim.jit import clip, maximum, minimum, pairwise_sum

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(np.float64, st.integers(0, 700), elements=finite))
def test_pairwise_sum_is_numpys_sum_bit_for_bit(a):
    assert pairwise_sum(a) == a.sum()


def test_pairwise_sum_across_block_boundaries():
    """Sizes around numpy's 8-wide unroll, its 128 block and deep recursion, with magnitudes 1e-3..1e6."""
    rng = np.random.default_rng(3)
    for n in [1, 7, 8, 9, 127, 128, 129, 255, 256, 257, 1000, 8191, 8192, 8193, 65537, 300001]:
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 7, size=n)
        assert pairwise_sum(a) == a.sum(), n
        # and the order matters: a sequential sum differs for some of these (so the test can fail)
    b = rng.standard_normal(100_000) * 10.0 ** rng.integers(-3, 7, size=100_000)
    seq = 0.0
    for x in b.tolist():
        seq += x
    assert seq != b.sum() and pairwise_sum(b) == b.sum()


def test_float_helpers_are_numpys_clip_maximum_and_minimum():
    """The scalar helpers every kernel uses give numpy's bits, signed zeros and NaN included."""
    special = np.array([-np.inf, -2.0, -1.0, -0.0, 0.0, 1e-300, 0.5, 1.0, 2.0, np.inf, np.nan])
    for n in (1, 3, 41):  # numpy's SIMD body and its tail
        for x in special:
            for lo in special[:-1]:
                assert _same(np.full(n, maximum(x, lo)), np.maximum(np.full(n, x), lo))
                assert _same(np.full(n, minimum(x, lo)), np.minimum(np.full(n, x), lo))
                for hi in special[:-1]:
                    if lo <= hi:
                        assert _same(np.full(n, clip(x, lo, hi)), np.clip(np.full(n, x), lo, hi))


def _same(a, b):
    """Equal arrays, bit for bit (NaN equal to NaN, -0.0 different from 0.0)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
