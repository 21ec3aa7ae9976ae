"""Joint technical projects: SMEs' bottlenecks solved by school teams (1+N labs).

Design note
-----------
Each month a firm meets a technical bottleneck with probability
``firms.bottleneck_rate / 12``. It takes the problem to a school when it has
access: a deep partner always, a tie of strength >= 0.3 often, otherwise only
through a platform. IP contracts make a project more likely to start and give
the firm a larger share of the returns. Projects last months (weeks through a
platform: the study's two-week case) and succeed with a chance that rises with
the school's equipment. A success saves the firm money (log-normal, median
``firms.bottleneck_value``), refreshes the school's curriculum in that sector
(a solved problem becomes teaching material) and opens a job for a student.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Start probability given a bottleneck, by access route (assumption).
ACCESS_DEEP, ACCESS_TIE, ACCESS_PLATFORM, ACCESS_NONE = 0.9, 0.5, 0.6, 0.03
#: Curriculum years recovered by one solved project in the school's programme.
CURRICULUM_REFRESH_YEARS = 0.15
SUCCESS_BASE, SUCCESS_EQUIPMENT = 0.5, 0.3
MEAN_MONTHS, MEAN_MONTHS_PLATFORM_CUT = 6.0, 0.8


@dataclass
class Projects:
    """Running projects as arrays."""

    firm: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    school: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    months_left: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    success: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    started: int = 0
    completed: int = 0
    failed: int = 0

    def add(self, firm, school, months, success, value) -> None:
        """Start projects."""
        self.firm = np.concatenate([self.firm, firm])
        self.school = np.concatenate([self.school, school])
        self.months_left = np.concatenate([self.months_left, months])
        self.success = np.concatenate([self.success, success])
        self.value = np.concatenate([self.value, value])
        self.started += int(len(firm))

    def finish(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance a month; returns (firm, school, value) of the projects that succeeded."""
        self.months_left = self.months_left - 1
        done = self.months_left <= 0
        if not done.any():  # nothing finishes this month
            return self.firm[:0], self.school[:0], self.value[:0]
        ok = done & self.success
        out = self.firm[ok], self.school[ok], self.value[ok]
        self.completed += int(ok.sum())
        self.failed += int((done & ~self.success).sum())
        keep = ~done
        self.firm, self.school = self.firm[keep], self.school[keep]
        self.months_left, self.success, self.value = self.months_left[keep], self.success[keep], self.value[keep]
        return out


def access_probability(level: np.ndarray, strong_tie: np.ndarray, platform: float) -> np.ndarray:
    """Chance a firm with a bottleneck starts a project with a school, before IP effects."""
    route_tie = np.where(strong_tie, ACCESS_TIE, ACCESS_NONE)
    route = np.maximum(route_tie, ACCESS_PLATFORM * platform)
    return np.where(level == 2, ACCESS_DEEP, route)


def ip_start_factor(ip_effectiveness: float) -> float:
    """Without IP rules, firms fear losing what they bring: fewer projects start."""
    return 0.5 + 0.5 * ip_effectiveness


def firm_share(ip_effectiveness: float) -> float:
    """Share of a project's saving the firm keeps (disputes erode it without IP contracts)."""
    return 0.6 + 0.4 * ip_effectiveness


def expected_yearly_value(rate: float, median_value: float, equipment: float, ip_effectiveness: float) -> float:
    """Expected saving a year for a firm with full access: rate x P(success) x E[value] x share."""
    mean_value = median_value * np.exp(0.5)
    return rate * (SUCCESS_BASE + SUCCESS_EQUIPMENT * equipment) * mean_value * firm_share(ip_effectiveness) \
        * ip_start_factor(ip_effectiveness)


def durations(rng: np.random.Generator, n: int, platform: float) -> np.ndarray:
    """Project length in months: geometric, shorter through a platform."""
    mean = max(1.0, MEAN_MONTHS * (1.0 - MEAN_MONTHS_PLATFORM_CUT * platform))
    return rng.geometric(1.0 / mean, size=n).astype(np.int64)
