"""Students as arrays: enrolment by school, programme (sector) and study year; graduates.

Design note
-----------
Students are many, so they are not Mesa agents. :class:`Enrolment` holds
counts ``[school, sector, study_year]`` (three study years; the last is the
final year, which goes on placement and graduates). Each September the final
year becomes a :class:`FinalYear`: one array element per student, with skill,
credential, placement host and whether the placement was real training.
At graduation the students move to :class:`Graduates`, which tracks each one's
employer and wage for :data:`sim.labour_market.TRACK_MONTHS` months; older
graduates are dropped from the arrays but stay in the conservation totals.

Conservation: ``entered == in_school + graduated`` at every step, and every
graduate is either employed in the city's firms or not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.kernels.yearly import advance_counts, expand_students, remainder_rows

STUDY_YEARS = 3
NO_FIRM = -1


def largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares`` (sums exactly to ``total``)."""
    shares = np.clip(np.asarray(shares, dtype=float), 0.0, None)
    s = shares.sum()
    if total <= 0 or s <= 0:
        return np.zeros(len(shares), dtype=np.int64)
    raw = shares / s * total
    base = np.floor(raw).astype(np.int64)
    rest = int(total - base.sum())
    if rest > 0:
        order = np.argsort(-(raw - base), kind="stable")[:rest]
        base[order] += 1
    return base


def largest_remainder_rows(totals: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """:func:`largest_remainder` of ``totals[i]`` and ``shares[i]`` for every row ``i`` at once (same result)."""
    shares = np.ascontiguousarray(shares, dtype=np.float64)
    out = np.zeros(shares.shape, dtype=np.int64)
    remainder_rows(np.ascontiguousarray(totals, dtype=np.int64), shares, out)
    return out


@dataclass
class Enrolment:
    """Counts of students by school, sector and study year."""

    counts: np.ndarray  # int64 [schools, sectors, STUDY_YEARS]
    entered: int = 0
    graduated: int = 0

    @classmethod
    def start(cls, cohort_size: np.ndarray, shares: np.ndarray) -> Enrolment:
        """Study years below the final one filled with the initial programme mix.

        The model starts in summer, just after a graduation: the final year is
        empty until the first September. Students already enrolled count as entered.
        """
        n_s, n_k = shares.shape
        e = cls(counts=np.zeros((n_s, n_k, STUDY_YEARS), dtype=np.int64))
        for _ in range(STUDY_YEARS - 1):  # each year below the final one takes the same intake
            e.advance(cohort_size, shares)
        return e

    @property
    def in_school(self) -> int:
        """Students currently enrolled."""
        return int(self.counts.sum())

    def advance(self, cohort_size: np.ndarray, shares: np.ndarray) -> None:
        """September: every study year moves up; the new intake follows the programme mix."""
        entered = advance_counts(self.counts, np.ascontiguousarray(cohort_size, dtype=np.int64),
                                 np.ascontiguousarray(shares, dtype=np.float64))
        if entered < 0:
            raise RuntimeError("final-year students must graduate before the year advances")
        self.entered += entered

    def graduate(self) -> int:
        """June: the final year leaves school. Returns how many graduated."""
        n = int(self.counts[:, :, -1].sum())
        self.counts[:, :, -1] = 0
        self.graduated += n
        return n


@dataclass
class FinalYear:
    """Final-year students of the current academic year, one element each."""

    school: np.ndarray
    sector: np.ndarray
    skill: np.ndarray
    host: np.ndarray  # firm index or NO_FIRM
    host_level: np.ndarray  # engagement level of the host (0 when none)
    real_training: np.ndarray  # bool

    @classmethod
    def from_counts(cls, counts: np.ndarray, base_skill: np.ndarray, rng: np.random.Generator,
                    skill_sd: float = 0.15) -> FinalYear:
        """Expand ``counts[school, sector]`` into students with skill ~ N(base_skill[school, sector], sd)."""
        counts = np.ascontiguousarray(counts, dtype=np.int64)
        noise = rng.normal(0.0, skill_sd, size=int(counts.sum()))
        school, sector, skill = expand_students(counts, np.ascontiguousarray(base_skill, dtype=np.float64), noise)
        n = noise.size
        return cls(school=school, sector=sector, skill=skill,
                   host=np.full(n, NO_FIRM, dtype=np.int64), host_level=np.zeros(n, dtype=np.int64),
                   real_training=np.zeros(n, dtype=bool))

    def __len__(self) -> int:
        return int(self.school.size)


@dataclass
class Graduates:
    """Recent graduates, tracked for ``TRACK_MONTHS`` months after graduation."""

    fields: tuple[str, ...] = ("school", "sector", "skill", "credential", "host", "host_level", "real_training",
                               "employer", "wage", "grad_step", "offered", "poached", "first_employer",
                               "left_first_step")
    school: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    sector: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    skill: np.ndarray = field(default_factory=lambda: np.zeros(0))
    credential: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    host: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    host_level: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    real_training: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    employer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    wage: np.ndarray = field(default_factory=lambda: np.zeros(0))
    grad_step: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    offered: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    poached: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    first_employer: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    left_first_step: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # -1 while still there
    dropped: int = 0  # graduates no longer tracked
    #: bumped whenever graduates are added or dropped (caches keyed on it know the rows changed)
    version: int = field(default=0, compare=False)
    # each field is a window ``buf[lo:lo + len(self)]`` of a buffer with spare room (``_buf[field] = (buf,
    # lo)``): adding a cohort copies the cohort into the room after the window, dropping the oldest rows
    # moves the window's start, and the rows are moved to the front only when the room runs out
    _buf: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.school.size)

    def append(self, **cols: np.ndarray) -> None:
        """Add a cohort (every field must be given, same length)."""
        n = len(self)
        for f in self.fields:
            cur, new = getattr(self, f), np.asarray(cols[f])
            need = n + new.size
            buf, lo = self._buf.get(f, (None, 0))
            dtype = cur.dtype if cur.dtype == new.dtype else np.result_type(cur.dtype, new.dtype)
            if buf is None or cur.base is not buf or buf.size < need or buf.dtype != dtype:
                buf, lo = np.empty(max(need + need // 2, 64), dtype=dtype), 0
                buf[:n] = cur
            elif lo + need > buf.size:  # no room after the window: move it to the front
                buf[:n] = cur
                lo = 0
            buf[lo + n:lo + need] = new
            self._buf[f] = (buf, lo)
            setattr(self, f, buf[lo:lo + need])
        self.version += 1

    def keep(self, mask: np.ndarray) -> None:
        """Keep only ``mask``-selected graduates (the rest are counted as dropped)."""
        mask = np.asarray(mask, dtype=bool)
        k = int(mask.sum())
        self.dropped += mask.size - k
        start = int(mask.argmax()) if k else mask.size
        tail = k == mask.size - start  # the dropped are the oldest rows, at the front
        for f in self.fields:
            cur = getattr(self, f)
            buf, lo = self._buf.get(f, (None, 0))
            if buf is None or cur.base is not buf:
                setattr(self, f, cur[mask])
                continue
            if tail:  # the window starts later
                lo += start
            else:
                buf[:k] = cur[mask]
                lo = 0
            self._buf[f] = (buf, lo)
            setattr(self, f, buf[lo:lo + k])
        self.version += 1
