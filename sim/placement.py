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

from sim.kernels import placement as kp
from sim.kernels.placement import add_placement_month, placement_outcomes, round_flows

__all__ = ["Allocations", "RoundResult", "add_placement_month", "allocate", "assign_students", "interval_match",
           "match", "placement_outcomes", "realism", "round_flows"]


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


def allocate(rng: np.random.Generator, need: np.ndarray, slots: np.ndarray, firm_sector: np.ndarray,
             tie_school: np.ndarray, tie_firm: np.ndarray, tie_strength: np.ndarray,
             reach: float) -> tuple[Allocations, np.ndarray]:
    """Allocate students ``need[school, sector]`` to firm ``slots`` (see :func:`match`), as arrays.

    Returns the allocations and the new ties formed through search as an
    array of ``(school, firm)`` rows.

    Pass 1 goes along ties, strongest first (random order among equals): each
    tie takes ``min(students of the firm's sector left at the school, slots
    left at the firm)`` in turn. Pass 2 searches beyond ties: each firm with
    slots left searches with chance ``reach``; by sector, the searching firms
    and the schools with students left, each in random order, are matched by
    :func:`interval_match`. Random draws, in order: a tiebreak per tie, a
    search draw per firm, then per sector with searchers a permutation of its
    firms and (if any school has students left) of its schools. The passes run
    as compiled loops (:mod:`sim.kernels.placement`).
    """
    n_k = need.shape[1]
    need_flat = np.array(need, dtype=np.int64).ravel()  # a copy: [school * n_k + sector]
    left = np.array(slots, dtype=np.int64)
    firm_sector = np.asarray(firm_sector, dtype=np.int64)
    tie_school, tie_firm = np.asarray(tie_school, dtype=np.int64), np.asarray(tie_firm, dtype=np.int64)
    # the tiebreaks (one per tie) and the search draws (one per firm), drawn in one call
    u = rng.random(tie_school.size + left.size)
    s1, f1, m1, searching, n_firms, n_schools = kp.ties_pass(need_flat, left, tie_school, tie_firm,
                                                             np.asarray(tie_strength, dtype=np.float64), u,
                                                             float(reach), firm_sector, n_k)
    # pass 2: search beyond ties, by sector
    perms = []
    for nf, ns in zip(n_firms.tolist(), n_schools.tolist(), strict=True):
        if nf:
            perms.append(rng.permutation(nf))
            if ns:
                perms.append(rng.permutation(ns))
    if not perms:
        return Allocations(s1, f1, m1), np.zeros((0, 2), dtype=np.int64)
    school, firm, students, new = kp.search_pass(need_flat, left, searching, firm_sector, n_k,
                                                 np.concatenate(perms).astype(np.int64, copy=False), s1, f1, m1)
    return Allocations(school, firm, students), new


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
    if not len(allocations):
        return np.full(school.size, -1, dtype=np.int64)
    if not isinstance(allocations, Allocations):
        s_, f_, m_ = (np.array(c, dtype=np.int64) for c in zip(*allocations, strict=True))
        allocations = Allocations(s_, f_, m_)
    elif allocations.school.dtype != np.int64:
        allocations = Allocations(*(np.asarray(c, dtype=np.int64) for c in (allocations.school, allocations.firm,
                                                                             allocations.students)))
    return kp.assign_students(allocations.school, allocations.firm, allocations.students,
                              np.asarray(school, dtype=np.int64), np.asarray(sector, dtype=np.int64),
                              np.asarray(firm_sector, dtype=np.int64), n_sectors)


def realism(level: np.ndarray, mentor_days: np.ndarray, equipment: np.ndarray, lag: np.ndarray,
            production_motive: np.ndarray, school_effort: np.ndarray) -> np.ndarray:
    """Probability a placement is real training, not odd jobs (打杂).

    ``clip(0.2 + 0.35 [deep] + 0.1 min(mentor days, 2) / 2 + 0.15 equipment
    + 0.15 (1 - min(lag, 6) / 6) - 0.2 [production motive, shallow]
    + 0.1 (school effort - 0.5), 0.02, 0.98)``, elementwise (arrays broadcast).
    """
    arrays = np.broadcast_arrays(np.asarray(level, dtype=np.int64), np.asarray(mentor_days, dtype=np.float64),
                                 np.asarray(equipment, dtype=np.float64), np.asarray(lag, dtype=np.float64),
                                 np.asarray(production_motive, dtype=np.bool_),
                                 np.asarray(school_effort, dtype=np.float64))
    shape = arrays[0].shape
    return kp.realism(*(np.ascontiguousarray(a).ravel() for a in arrays)).reshape(shape)
