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


def match(rng: np.random.Generator, need: np.ndarray, slots: np.ndarray, firm_sector: np.ndarray,
          tie_school: np.ndarray, tie_firm: np.ndarray, tie_strength: np.ndarray,
          reach: float) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """Allocate students ``need[school, sector]`` to firm ``slots``.

    Returns the allocations ``(school, firm, students)`` and the new
    ``(school, firm)`` ties formed through search.
    """
    need = need.copy()
    left = slots.astype(np.int64).copy()
    allocations: list[tuple[int, int, int]] = []
    # pass 1: along ties, strongest first (random order among equals)
    order = np.lexsort((rng.random(tie_school.size), -tie_strength))
    for t in order:
        s, f = int(tie_school[t]), int(tie_firm[t])
        k = firm_sector[f]
        take = min(need[s, k], left[f])
        if take > 0:
            need[s, k] -= take
            left[f] -= take
            allocations.append((s, f, int(take)))
    # pass 2: search beyond ties, by sector
    new_ties: list[tuple[int, int]] = []
    searching = np.flatnonzero((left > 0) & (rng.random(left.size) < reach))
    for k in np.unique(firm_sector[searching]) if searching.size else []:
        firms = searching[firm_sector[searching] == k]
        firms = firms[rng.permutation(firms.size)]
        schools = np.flatnonzero(need[:, k] > 0)
        if schools.size == 0:
            continue
        schools = schools[rng.permutation(schools.size)]
        fi, sj, amount = interval_match(left[firms], need[schools, k])
        for a, b, m in zip(firms[fi], schools[sj], amount, strict=True):
            allocations.append((int(b), int(a), int(m)))
            new_ties.append((int(b), int(a)))
            need[b, k] -= m
            left[a] -= m
    return allocations, new_ties


def assign_students(allocations: list[tuple[int, int, int]], school: np.ndarray, sector: np.ndarray,
                    n_sectors: int, firm_sector: np.ndarray) -> np.ndarray:
    """Host firm per student (-1 if unplaced), filling each (school, sector) group in order.

    Students must be sorted by (school, sector), as :class:`sim.students.FinalYear` makes them.
    """
    host = np.full(school.size, -1, dtype=np.int64)
    if not allocations:
        return host
    group = school * n_sectors + sector
    n_groups = int(group.max()) + 1 if group.size else 0
    start = np.searchsorted(group, np.arange(n_groups))
    used = np.zeros(max(n_groups, 1), dtype=np.int64)
    for s, f, m in allocations:
        g = s * n_sectors + int(firm_sector[f])
        a = start[g] + used[g]
        host[a:a + m] = f
        used[g] += m
    return host


def realism(level: np.ndarray, mentor_days: np.ndarray, equipment: np.ndarray, lag: np.ndarray,
            production_motive: np.ndarray, school_effort: np.ndarray) -> np.ndarray:
    """Probability a placement is real training, not odd jobs (打杂)."""
    r = (0.2 + 0.35 * (level == 2) + 0.1 * np.minimum(mentor_days, 2.0) / 2.0 + 0.15 * equipment
         + 0.15 * (1.0 - np.minimum(lag, 6.0) / 6.0) - 0.2 * (production_motive & (level == 1))
         + 0.1 * (school_effort - 0.5))
    return np.clip(r, 0.02, 0.98)
