"""The yearly placement round (顶岗实习): matching students to slots, and training quality.

Design note
-----------
Matching runs by sector in two passes. First along partnership ties, strongest
first: a tied school sends students to a tied firm up to its slots. Then each
firm with slots left reaches schools it has no tie with, with the chance the
consortium's search reach gives (a platform widens it), and new ties form
where students are placed. Allocation within a pass is the overlap of
cumulative supply and demand intervals (:func:`interval_match`), so it is
linear in the number of schools and firms. Slots and students are conserved:
offered = filled + unfilled, needing = placed + unplaced.

A placement is real training rather than odd jobs (打杂) with a probability
that rises with deep engagement, mentor time, the school's equipment realism
and curriculum currency, and falls when a production-motive shallow host uses
trainees as cheap labour (the study: 打杂化).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.sorting import argsort_stable, lexsort2


@dataclass
class RoundResult:
    """Outcome of one placement round."""

    slots_offered: int
    slots_filled: int
    students_needing: int
    students_placed: int
    real_training: int
    new_ties: int


def interval_match(supply: np.ndarray, demand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy allocation of ``supply[i]`` units to ``demand[j]`` in the given orders.

    Returns ``(i, j, amount)`` for every positive overlap of the cumulative
    intervals; total allocated = min(sum(supply), sum(demand)).
    """
    supply = np.asarray(supply, dtype=np.int64)
    demand = np.asarray(demand, dtype=np.int64)
    cs = np.concatenate([[0], np.cumsum(supply)])
    if demand.size and demand.min() == 1 and demand.max() == 1:  # unit demands: unit j goes to supplier of unit j
        total = min(int(cs[-1]), demand.size)
        j = np.arange(total, dtype=np.int64)
        return np.searchsorted(cs, j, side="right") - 1, j, np.ones(total, dtype=np.int64)
    cd = np.concatenate([[0], np.cumsum(demand)])
    total = min(cs[-1], cd[-1])
    if total <= 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    bounds = np.unique(np.concatenate([cs[cs <= total], cd[cd <= total]]))
    lo, hi = bounds[:-1], bounds[1:]
    i = np.searchsorted(cs, lo, side="right") - 1
    j = np.searchsorted(cd, lo, side="right") - 1
    amount = hi - lo
    keep = amount > 0
    return i[keep], j[keep], amount[keep]


@dataclass
class Allocations:
    """Students sent from schools to firms, in allocation order: ``(school[i], firm[i], students[i])``."""

    school: np.ndarray
    firm: np.ndarray
    students: np.ndarray

    def __len__(self) -> int:
        return int(self.school.size)

    def as_list(self) -> list[tuple[int, int, int]]:
        """The allocations as ``(school, firm, students)`` tuples."""
        return list(zip(self.school.tolist(), self.firm.tolist(), self.students.tolist(), strict=True))


def _first_of_each(ids: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of each value in ``ids`` (hash-based and linear for long arrays)."""
    if ids.size > 4096:
        return ~pd.Series(ids, copy=False).duplicated(keep="first").to_numpy()
    first = np.zeros(ids.size, dtype=bool)
    first[np.unique(ids, return_index=True)[1]] = True
    return first


#: Up to this many ties, :func:`_along_ties` walks them one by one (rounds of array calls above it).
_SEQUENTIAL_MAX = 2000


def _along_ties(need: np.ndarray, left: np.ndarray, res: np.ndarray, firm: np.ndarray) -> np.ndarray:
    """Greedy pass over ties in the given order; returns the students each tie takes (``need``, ``left`` updated).

    Sequentially, tie ``t`` takes ``min(need[res[t]], left[firm[t]])``. Each
    take empties one of the two, so ties whose school programme or firm is
    exhausted take nothing. Done in rounds: a live tie that comes first among
    the live ties of both its programme and its firm sees exactly the state
    the sequential pass would show it, and such ties share no resource, so a
    round settles them all at once. The result equals the sequential loop.
    """
    take = np.zeros(res.size, dtype=np.int64)
    live = ((need[res] > 0) & (left[firm] > 0)).nonzero()[0]
    if live.size <= _SEQUENTIAL_MAX and need.size + left.size <= 16 * _SEQUENTIAL_MAX:
        # few ties: the sequential pass itself, over Python lists, is cheaper than the rounds' array calls
        nd, lf, got = need.tolist(), left.tolist(), []
        for r, f in zip(res[live].tolist(), firm[live].tolist(), strict=True):
            a, b = nd[r], lf[f]
            t = a if a < b else b
            nd[r], lf[f] = a - t, b - t
            got.append(t)
        take[live] = got
        need[:] = nd
        left[:] = lf
        return take
    while live.size:
        ready = _first_of_each(res[live]) & _first_of_each(firm[live])
        r = live[ready]
        t = np.minimum(need[res[r]], left[firm[r]])
        take[r] = t
        need[res[r]] -= t
        left[firm[r]] -= t
        rest = live[~ready]
        live = rest[(need[res[rest]] > 0) & (left[firm[rest]] > 0)]
    return take


def allocate(rng: np.random.Generator, need: np.ndarray, slots: np.ndarray, firm_sector: np.ndarray,
             tie_school: np.ndarray, tie_firm: np.ndarray, tie_strength: np.ndarray,
             reach: float) -> tuple[Allocations, np.ndarray]:
    """Allocate students ``need[school, sector]`` to firm ``slots`` (see :func:`match`), as arrays.

    Returns the allocations and the new ties formed through search as an
    array of ``(school, firm)`` rows.
    """
    n_k = need.shape[1]
    need_flat = need.astype(np.int64).ravel()  # a copy: [school * n_k + sector]
    left = slots.astype(np.int64).copy()
    # pass 1: along ties, strongest first (random order among equals). Ties whose firm offers no slot or
    # whose school has no student of the firm's sector take nothing whatever their rank (resources only
    # shrink), so only the others are ranked; their relative order is that of the full ranking.
    tie_school, tie_firm = np.asarray(tie_school, dtype=np.int64), np.asarray(tie_firm, dtype=np.int64)
    tiebreak = rng.random(tie_school.size)
    res = tie_school * n_k + firm_sector[tie_firm]
    able = ((left[tie_firm] > 0) & (need_flat[res] > 0)).nonzero()[0]
    order = able[lexsort2(tiebreak[able], -np.asarray(tie_strength)[able])]
    t_school, t_firm = tie_school[order], tie_firm[order]
    take = _along_ties(need_flat, left, res[order], t_firm)
    got = take > 0
    parts = [(t_school[got], t_firm[got], take[got])]
    # pass 2: search beyond ties, by sector
    new_parts = []
    searching = ((left > 0) & (rng.random(left.size) < reach)).nonzero()[0]
    for k in np.unique(firm_sector[searching]) if searching.size else []:
        firms = searching[firm_sector[searching] == k]
        firms = firms[rng.permutation(firms.size)]
        schools = (need_flat[k::n_k] > 0).nonzero()[0]
        if schools.size == 0:
            continue
        schools = schools[rng.permutation(schools.size)]
        fi, sj, amount = interval_match(left[firms], need_flat[schools * n_k + k])
        a, b = firms[fi], schools[sj]
        parts.append((b, a, amount))
        new_parts.append(np.column_stack([b, a]))
        np.subtract.at(need_flat, b * n_k + k, amount)
        np.subtract.at(left, a, amount)
    alloc = Allocations(*(np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(3)))
    new = np.concatenate(new_parts).astype(np.int64) if new_parts else np.zeros((0, 2), dtype=np.int64)
    return alloc, new


def match(rng: np.random.Generator, need: np.ndarray, slots: np.ndarray, firm_sector: np.ndarray,
          tie_school: np.ndarray, tie_firm: np.ndarray, tie_strength: np.ndarray,
          reach: float) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """Allocate students ``need[school, sector]`` to firm ``slots``.

    Returns the allocations ``(school, firm, students)`` and the new
    ``(school, firm)`` ties formed through search. (:func:`allocate` returns
    the same as arrays.)
    """
    alloc, new = allocate(rng, need, slots, firm_sector, tie_school, tie_firm, tie_strength, reach)
    return alloc.as_list(), [(int(s), int(f)) for s, f in new.tolist()]


def assign_students(allocations: Allocations | list[tuple[int, int, int]], school: np.ndarray, sector: np.ndarray,
                    n_sectors: int, firm_sector: np.ndarray) -> np.ndarray:
    """Host firm per student (-1 if unplaced), filling each (school, sector) group in order.

    Students must be sorted by (school, sector), as :class:`sim.students.FinalYear` makes them.
    """
    host = np.full(school.size, -1, dtype=np.int64)
    if not len(allocations):
        return host
    if not isinstance(allocations, Allocations):
        s_, f_, m_ = (np.array(c, dtype=np.int64) for c in zip(*allocations, strict=True))
        allocations = Allocations(s_, f_, m_)
    s, f, m = allocations.school, allocations.firm, allocations.students
    group = school * n_sectors + sector
    g = s * n_sectors + firm_sector[f]
    start = np.searchsorted(group, g)
    # students already given to earlier allocations of the same group
    order = argsort_stable(g)
    m_sorted = m[order]
    before = np.cumsum(m_sorted) - m_sorted
    g_sorted = g[order]
    first_of_group = np.concatenate([[True], g_sorted[1:] != g_sorted[:-1]])
    group_base = before[first_of_group.nonzero()[0][np.cumsum(first_of_group) - 1]]
    used = np.empty_like(m)
    used[order] = before - group_base
    a = start + used
    total = int(m.sum())
    seq = np.arange(total) - np.repeat(np.cumsum(m) - m, m)
    host[np.repeat(a, m) + seq] = np.repeat(f, m)
    return host


def realism(level: np.ndarray, mentor_days: np.ndarray, equipment: np.ndarray, lag: np.ndarray,
            production_motive: np.ndarray, school_effort: np.ndarray) -> np.ndarray:
    """Probability a placement is real training, not odd jobs (打杂)."""
    r = (0.2 + 0.35 * (level == 2) + 0.1 * np.minimum(mentor_days, 2.0) / 2.0 + 0.15 * equipment
         + 0.15 * (1.0 - np.minimum(lag, 6.0) / 6.0) - 0.2 * (production_motive & (level == 1))
         + 0.1 * (school_effort - 0.5))
    return np.clip(r, 0.02, 0.98)
