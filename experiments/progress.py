"""A progress bar for sweeps: runs done, failed, rate and time left.

Design note
-----------
One line on standard error. On a terminal it is redrawn in place a few times a
second; otherwise (a log file, a Slurm job) a plain line is printed at most
every ``log_interval`` seconds, so logs stay short. The rate counts only runs
finished in this session, so a resumed sweep does not look faster than it is.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _hms(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):  # NaN or infinite
        return "--:--"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Progress of a sweep: call :meth:`update` with counts, :meth:`close` at the end."""

    def __init__(self, total: int, done: int = 0, failed: int = 0, *, enabled: bool = True,
                 stream: TextIO | None = None, width: int = 28, log_interval: float = 10.0,
                 label: str = "sweep") -> None:
        self.total = total
        self.start_done = done + failed
        self.done = done
        self.failed = failed
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.label = label
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = 0.2 if self.tty else log_interval
        self.t0 = time.monotonic()
        self._last = 0.0

    def line(self) -> str:
        """The progress line for the current counts."""
        finished = self.done + self.failed
        frac = finished / self.total if self.total else 1.0
        filled = int(self.width * frac)
        bar = "#" * filled + "-" * (self.width - filled)
        elapsed = time.monotonic() - self.t0
        new = finished - self.start_done
        rate = new / elapsed if elapsed > 0 else 0.0
        left = (self.total - finished) / rate if rate > 0 else float("nan")
        return (f"{self.label} [{bar}] {finished}/{self.total} runs | {self.done} done, {self.failed} failed | "
                f"{rate:.1f} runs/s | elapsed {_hms(elapsed)}, left {_hms(left)}")

    def update(self, done: int, failed: int, force: bool = False) -> None:
        """Record new counts and redraw when due."""
        self.done, self.failed = done, failed
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        if self.tty:
            self.stream.write("\r" + self.line() + "\x1b[K")
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Draw the final state and end the line."""
        if not self.enabled:
            return
        self.update(self.done, self.failed, force=True)
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
