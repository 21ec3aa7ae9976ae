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

import numpy as np

from sim.kernels import placement as kp

#: Start probability given a bottleneck, by access route (assumption).
ACCESS_DEEP, ACCESS_TIE, ACCESS_PLATFORM, ACCESS_NONE = 0.9, 0.5, 0.6, 0.03
#: Curriculum years recovered by one solved project in the school's programme.
CURRICULUM_REFRESH_YEARS = 0.15
SUCCESS_BASE, SUCCESS_EQUIPMENT = 0.5, 0.3
MEAN_MONTHS, MEAN_MONTHS_PLATFORM_CUT = 6.0, 0.8
_NEVER = 1 << 62
#: what :meth:`Projects.finish` returns when nothing finishes (read-only)
_NONE = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0))
for _a in _NONE:
    _a.setflags(write=False)


class _Column:
    """A column of the project book: the first ``_n`` entries of a buffer with room to grow.

    Assigning replaces the buffer with a copy of the given array (as the
    column's dtype) and sets the book's length to its size.
    """

    def __init__(self, dtype) -> None:
        self.dtype = dtype

    def __set_name__(self, owner, name: str) -> None:
        self.buffer = f"_{name.lstrip('_')}_buffer"

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        return getattr(obj, self.buffer)[:obj._n]

    def __set__(self, obj, value) -> None:
        column = np.array(value, dtype=self.dtype)
        setattr(obj, self.buffer, column)
        obj._n = column.size


class Projects:
    """Running projects as arrays: ``firm``, ``school``, ``months_left``, ``success``, ``value``, and counts.

    The book keeps each project's due month on its own clock, so a month in
    which nothing is due costs no array work; ``months_left`` is derived. The
    columns are views of buffers with room to grow, which the model's monthly
    passes (:meth:`finish_and_book`, :meth:`start_drawn`) edit in place.
    """

    firm = _Column(np.int64)
    school = _Column(np.int64)
    success = _Column(np.bool_)
    value = _Column(np.float64)
    _due = _Column(np.int64)

    def __init__(self, firm: np.ndarray | None = None, school: np.ndarray | None = None,
                 months_left: np.ndarray | None = None, success: np.ndarray | None = None,
                 value: np.ndarray | None = None, started: int = 0, completed: int = 0, failed: int = 0) -> None:
        self.firm = np.zeros(0, np.int64) if firm is None else firm
        self.school = np.zeros(0, np.int64) if school is None else school
        self.success = np.zeros(0, bool) if success is None else success
        self.value = np.zeros(0) if value is None else value
        self.started, self.completed, self.failed = started, completed, failed
        self._clock = 0  # months advanced so far
        self.months_left = np.zeros(0, np.int64) if months_left is None else months_left

    @property
    def months_left(self) -> np.ndarray:
        """Months until each project is due (due when it reaches 0 or less)."""
        return self._due - self._clock

    @months_left.setter
    def months_left(self, months: np.ndarray) -> None:
        self._due = np.asarray(months, dtype=np.int64) + self._clock  # the month each is due, on the book's clock
        self._soonest = int(self._due.min()) if self._due.size else _NEVER

    def __repr__(self) -> str:
        return (f"Projects(firm={self.firm!r}, school={self.school!r}, months_left={self.months_left!r}, "
                f"success={self.success!r}, value={self.value!r}, started={self.started}, "
                f"completed={self.completed}, failed={self.failed})")

    def add(self, firm, school, months, success, value) -> None:
        """Start projects."""
        due = np.asarray(months, dtype=np.int64) + self._clock
        self.firm = np.concatenate([self.firm, firm])
        self.school = np.concatenate([self.school, school])
        self.success = np.concatenate([self.success, success])
        self.value = np.concatenate([self.value, value])
        self._due = np.concatenate([self._due, due])
        self.started += int(len(firm))
        if due.size:
            self._soonest = min(self._soonest, int(due.min()))

    def finish(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance a month; returns (firm, school, value) of the projects that succeeded."""
        self._clock += 1
        if self._soonest > self._clock:  # nothing finishes this month
            return _NONE
        (ok_firm, ok_school, ok_value, self.firm, self.school, self._due, self.success, self.value,
         n_ok, n_failed, self._soonest) = kp.split_book(self.firm, self.school, self._due, self.success, self.value,
                                                        self._clock)
        self.completed += n_ok
        self.failed += n_failed
        return ok_firm, ok_school, ok_value

    def finishing(self) -> bool:
        """True if some project is due when the next month is finished."""
        return self._soonest <= self._clock + 1

    def finish_and_book(self, share: float, firm_sector: np.ndarray, project_value_year: np.ndarray,
                        lag: np.ndarray, extra_offers: np.ndarray, ties: tuple, step: int) -> int:
        """:meth:`finish`, :func:`book_results` of the successes and marking their ties active, in one pass.

        ``ties``: ``(sorted keys, tie index of each, active, last_active)`` of
        the partnership ties; the tie of each succeeded project gets
        ``active`` and ``last_active = step``. Returns how many succeeded.
        """
        self._clock += 1
        if self._soonest > self._clock:  # nothing finishes this month
            return 0
        skey, order, active, last_active = ties
        self._n, n_ok, n_failed, self._soonest = kp.finish_in_place(
            self._firm_buffer, self._school_buffer, self._due_buffer, self._success_buffer, self._value_buffer,
            self._n, self._clock, float(share), firm_sector, project_value_year, lag, CURRICULUM_REFRESH_YEARS,
            extra_offers, skey, order, active, last_active, step)
        self.completed += n_ok
        self.failed += n_failed
        return n_ok

    def _make_room(self, extra: int) -> None:
        """Grow the column buffers (doubling) so that ``extra`` more projects fit."""
        need = self._n + extra
        columns = ("_firm_buffer", "_school_buffer", "_due_buffer", "_success_buffer", "_value_buffer")
        if all(getattr(self, c).size >= need for c in columns):
            return
        size = max(need, 2 * self._n, 16)
        for c in columns:
            old = getattr(self, c)
            new = np.zeros(size, dtype=old.dtype)
            new[:self._n] = old[:self._n]
            setattr(self, c, new)

    def start_drawn(self, firm: np.ndarray, school: np.ndarray, sector: np.ndarray, has_cdf: np.ndarray,
                    cdfs: np.ndarray, u: np.ndarray, n_draw: int, months: np.ndarray, equipment: np.ndarray,
                    median_value: float, shock: np.ndarray) -> None:
        """:func:`draw_schools` with the first ``n_draw`` uniforms, then :meth:`start` with the rest, in one pass.

        ``months`` and ``shock`` hold one entry per project that starts (the
        firms that have or get a school).
        """
        self._make_room(months.size)
        started, soonest = kp.start_in_place(
            self._firm_buffer, self._school_buffer, self._due_buffer, self._success_buffer, self._value_buffer,
            self._n, firm, school, sector, has_cdf, cdfs, u, int(n_draw), months, self._clock, SUCCESS_BASE,
            SUCCESS_EQUIPMENT, equipment, float(median_value), shock)
        self._n += started
        self.started += started
        self._soonest = min(self._soonest, soonest)

    def start(self, firm: np.ndarray, school: np.ndarray, months: np.ndarray, u: np.ndarray, equipment: np.ndarray,
              median_value: float, shock: np.ndarray) -> None:
        """Start projects that succeed if ``u < SUCCESS_BASE + SUCCESS_EQUIPMENT * equipment[school]``.

        Each is worth ``median_value * shock`` (``shock`` log-normal) and lasts
        ``months``; the same as :meth:`add` with those ``success`` and ``value``.
        """
        (self.firm, self.school, self._due, self.success, self.value,
         soonest) = kp.append_projects(self.firm, self.school, self._due, self.success, self.value, firm,
                                       school, months, self._clock, u, SUCCESS_BASE, SUCCESS_EQUIPMENT, equipment,
                                       float(median_value), shock)
        self.started += int(firm.size)
        self._soonest = min(self._soonest, soonest)


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
    return rng.geometric(1.0 / mean, size=n).astype(np.int64, copy=False)


def book_results(firm: np.ndarray, school: np.ndarray, value: np.ndarray, share: float, firm_sector: np.ndarray,
                 project_value_year: np.ndarray, lag: np.ndarray, extra_offers: np.ndarray) -> None:
    """Book succeeded projects in place: the firm's share of the value, the school's curriculum, a job offer."""
    kp.project_results(firm, school, value, float(share), firm_sector, project_value_year, lag,
                       CURRICULUM_REFRESH_YEARS, extra_offers)


#: The firms that start a project, their partner schools and what drawing the missing ones takes.
starters = kp.starters
#: Schools drawn for firms without a partner; the firms and schools that have one.
draw_schools = kp.draw_schools
#: Per sector, the CDF of the schools' programme shares (from the transposed shares) and whether it exists.
share_cdfs = kp.share_cdfs
