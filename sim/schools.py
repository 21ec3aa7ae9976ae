"""Vocational schools (中职, 高职, 职业本科) and their yearly adjustments.

Design note
-----------
Each school is a Mesa agent (:class:`School`) whose state is one row of
:class:`SchoolState` (programme mix, curriculum lag by sector, equipment
realism, effort), so all schools adjust at once. The functions below are the
yearly rules; the model applies them in one compiled pass
(:func:`sim.kernels.yearly.school_year`, tested equal to them bit for bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

from sim.network import OnNetwork

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import ConsortiumModel

TIERS = ("secondary", "higher", "undergraduate")
#: Preparation of a tier's final-year students, relative to higher vocational (assumption).
TIER_SKILL = np.array([-0.1, 0.0, 0.1])


@dataclass
class SchoolState:
    """Per-school arrays."""

    tier: np.ndarray
    cohort_size: np.ndarray
    shares: np.ndarray  # [school, sector] programme mix of the intake
    lag: np.ndarray  # [school, sector] curriculum lag, years
    equipment: np.ndarray  # realism index 0-1
    effort: np.ndarray  # 0-1

    @property
    def n(self) -> int:
        """Number of schools."""
        return int(self.tier.size)


class School(OnNetwork, FixedAgent):
    """A vocational school seeking firm partners for placements and curriculum.

    Decision rule (each September): a school observes evaluations, special
    funds and its partners' activity and sets its partnership effort (base
    effort for its own sake + evaluation pressure + funding + returns from
    active partners; schools gain from cooperating even alone, 校热); it moves
    its programme mix toward local demand with inertia (faster with a
    dynamic-adjustment mechanism); it updates each programme's curriculum,
    which falls behind the sector's moving technology frontier unless it is
    updated by the school's own effort, co-written by deep partners (weighted
    by firm voice) or refreshed by joint projects (1+N labs); and it searches
    for partner firms by sectoral fit (faster through a platform). Trainee
    quality follows curriculum currency, equipment realism and effort
    (the Guangming Daily field study, 2026-01-08; programme adjustment with
    inertia after Ballot & Taymaz 2000's training supply).
    """

    kind = "school"

    def __init__(self, model: ConsortiumModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def _s(self) -> SchoolState:
        return self.model.school_state

    @property
    def tier(self) -> str:
        """Secondary / higher / undergraduate."""
        return TIERS[int(self._s.tier[self.index])]

    @property
    def effort(self) -> float:
        """Partnership effort, 0-1."""
        return float(self._s.effort[self.index])

    @property
    def curriculum_lag(self) -> float:
        """Mean curriculum lag over its programmes, years."""
        w = self._s.shares[self.index]
        return float((self._s.lag[self.index] * w).sum() / max(w.sum(), 1e-12))

    @property
    def equipment(self) -> float:
        """Equipment realism, 0-1."""
        return float(self._s.equipment[self.index])

    def step(self) -> None:
        """Schools act through the model's yearly phases (vectorised)."""


def trainee_base_skill(ss: SchoolState) -> np.ndarray:
    """Mean skill of a school's final-year students by sector, before the placement.

    Rises with the tier, equipment realism and effort; falls with curriculum lag.
    """
    base = 0.75 + TIER_SKILL[ss.tier][:, None] + 0.2 * ss.equipment[:, None] + 0.1 * ss.effort[:, None]
    return np.clip(base - 0.04 * ss.lag, 0.2, None)


def preparation_quality(ss: SchoolState) -> np.ndarray:
    """Multiplier on a trainee's productivity in placement, by school and sector (1 = typical)."""
    return np.clip(trainee_base_skill(ss) / 0.85, 0.5, 1.4)


def adjust_programmes(ss: SchoolState, demand_share: np.ndarray, rate: float) -> None:
    """Move each school's intake mix a share ``rate`` of the way to local demand."""
    ss.shares = (1.0 - rate) * ss.shares + rate * demand_share[None, :]
    ss.shares /= ss.shares.sum(axis=1, keepdims=True)


def update_curriculum(ss: SchoolState, frontier_speed: float, own_rate: float, cowriting: np.ndarray) -> None:
    """A year of curriculum drift: the frontier moves; own effort and co-writing close the gap.

    ``cowriting[school, sector]`` is the extra share of the gap closed by deep
    partners (already weighted by firm voice).
    """
    ss.lag = ss.lag + frontier_speed
    close = np.clip(own_rate * ss.effort[:, None] + cowriting, 0.0, 0.95)
    ss.lag = ss.lag * (1.0 - close)


def update_effort(ss: SchoolState, base: float, evaluation: float, funding_per_school: float,
                  active_partner: np.ndarray) -> None:
    """Schools' partnership effort: for its own sake, evaluations, funds, partners' returns."""
    funding = np.clip(funding_per_school / 2_000_000.0, 0.0, 1.0)
    ss.effort = np.clip(base + evaluation + 0.1 * funding + 0.05 * active_partner, 0.0, 1.0)
