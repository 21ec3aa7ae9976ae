"""The result store: one directory per sweep, written atomically, never edited.

Design note
-----------
Layout (the public part is fixed by ``interface.md``)::

    DIR/points.parquet        point_id + the varied keys' values
    DIR/runs.parquet          run_id, point_id, replication, seed, status, error,
                              seconds (+ attempts, traceback, worker, finished)
    DIR/summary/part-*.parquet     run_id + every summary indicator
    DIR/timeseries/part-*.parquet  run_id, step, year + the kept indicators
    DIR/attempts/part-*.parquet    one row per attempt (done or failed, with
                                   error text and traceback): the run log
    DIR/networks/<run_id>.json     network snapshots, replication 0 of each
                                   point (:mod:`experiments.snapshots`; extra
                                   files, written by workers before the commit)
    DIR/provenance.json       code and package versions, commands, times
    DIR/sweep.toml, sweep.json, base.toml   the sweep as written, as planned,
                              and its resolved base scenario

Workers write their own results, a batch (a chunk of runs) at a time, so
nothing waits in a driver's memory and a killed driver or worker loses at
most the batches in flight. Each file is written to a temporary file in the
same folder and renamed (:func:`os.replace`), so a reader never sees half a
file. A batch ``B`` is written timeseries first, then attempts, then
``summary/B`` last: the summary file is the commit. Readers take only batches
whose summary file exists, and a restarted sweep deletes the files of
uncommitted batches (its own, when it is a shard) before it starts.

A committed file can still be damaged later (a full disk on a network file
system, a copy cut short, a stray edit). On resume,
:meth:`Store.quarantine_unreadable` reads every committed file of the
session's batches; a batch with an unreadable file is moved whole to
``DIR/damaged/`` (summary first, so it is uncommitted at once), a warning
names the file, and its runs run again. Readers raise
:class:`DamagedFileError` (an input error naming the file) instead of a
pyarrow traceback. ``runs.parquet`` is the last file an initialisation
writes; a directory holding only the earlier ones
(:meth:`Store.is_half_initialised`) is started again by the same sweep.

``runs.parquet`` is derived: the plan (run, point, replication, seed) plus
the status each run has in the committed batches. It is rebuilt under a lock
whenever a sweep or shard ends, and :meth:`Store.run_table` computes the same
table live (``consim status`` uses it).

Locks (:func:`fcntl.flock`): a sweep holds ``.lock`` exclusively, a shard of a
job array holds it shared plus its own ``.lock.shard-I-of-N`` exclusively, so
two sweeps in one directory are refused while the shards of one array run
side by side. Short metadata updates take ``.meta.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.atomic import atomic_write_bytes, fsync_dir
from sim.errors import InputError
from sim.indicators import NAMES as INDICATOR_NAMES

#: Files an initialisation writes before ``runs.parquet`` (the marker, written last).
INIT_FILES = ("sweep.toml", "base.toml", "sweep.json", "points.parquet", "provenance.json")
#: Folder of a sweep directory that batches with an unreadable file are moved to.
DAMAGED_DIR = "damaged"
PLAN_COLUMNS = ["run_id", "point_id", "replication", "seed"]
RUN_COLUMNS = PLAN_COLUMNS + ["status", "error", "seconds", "attempts", "worker", "finished", "traceback"]
ATTEMPT_COLUMNS = ["run_id", "attempt", "status", "error", "traceback", "seconds", "started", "finished",
                   "worker", "batch"]
STATUSES = ("pending", "done", "failed")

#: File descriptors of locks this process holds; a forked worker closes them
#: (:func:`close_inherited_locks`) so a killed driver's locks die with it.
_HELD_LOCK_FDS: list[int] = []


def close_inherited_locks() -> None:
    """Close lock descriptors inherited through fork (call in worker processes)."""
    while _HELD_LOCK_FDS:
        with contextlib.suppress(OSError):
            os.close(_HELD_LOCK_FDS.pop())


# ---------------------------------------------------------------- atomic files
def atomic_write_parquet(path: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` as Parquet to ``path`` atomically."""
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    atomic_write_bytes(path, buf.getvalue())


def atomic_write_json(path: Path, doc: Any) -> None:
    """Write ``doc`` as indented JSON to ``path`` atomically."""
    atomic_write_bytes(path, (json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8"))


class DamagedFileError(InputError):
    """A committed result file cannot be read (truncated, emptied, overwritten)."""


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}{'...' if len(text) > 160 else ''}"


def empty_summary() -> pd.DataFrame:
    """A zero-row summary table with the standard columns."""
    cols: dict[str, Any] = {"run_id": pd.Series([], dtype="int64")}
    cols.update({n: pd.Series([], dtype="float64") for n in INDICATOR_NAMES})
    return pd.DataFrame(cols)


def attempts_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The attempts table of a batch from row dicts (columns in fixed order and types)."""
    frame = pd.DataFrame(rows, columns=ATTEMPT_COLUMNS)
    return frame.astype({"run_id": "int64", "attempt": "int64", "status": "str", "error": "str",
                         "traceback": "str", "seconds": "float64", "started": "float64",
                         "finished": "float64", "worker": "str", "batch": "str"})


# ---------------------------------------------------------------- locks
class DirLock:
    """A non-blocking :func:`fcntl.flock` on a file; refuses with :class:`InputError`."""

    def __init__(self, path: Path, shared: bool = False, what: str = "a sweep") -> None:
        self.path = Path(path)
        self.shared = shared
        self.what = what
        self.fd: int | None = None

    def acquire(self) -> DirLock:
        """Take the lock or raise :class:`InputError` naming the holder."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            holder = ""
            with contextlib.suppress(OSError):
                holder = self.path.read_text().strip()
            raise InputError(
                f"{self.path.parent}: {self.what} is already running in this directory"
                f"{' (' + holder + ')' if holder else ''}; allowed: one sweep per directory at a time "
                "(wait for it to finish, or use another --out)."
            ) from None
        if not self.shared:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
        self.fd = fd
        _HELD_LOCK_FDS.append(fd)
        return self

    def release(self) -> None:
        """Release the lock."""
        if self.fd is None:
            return
        with contextlib.suppress(ValueError):
            _HELD_LOCK_FDS.remove(self.fd)
        with contextlib.suppress(OSError):
            if not self.shared:
                os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
        self.fd = None

    def __enter__(self) -> DirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


# ---------------------------------------------------------------- the store
class Store:
    """One sweep's result directory (see the module note for the layout)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.points_path = self.root / "points.parquet"
        self.runs_path = self.root / "runs.parquet"
        self.summary_dir = self.root / "summary"
        self.timeseries_dir = self.root / "timeseries"
        self.attempts_dir = self.root / "attempts"
        self.provenance_path = self.root / "provenance.json"
        self.sweep_toml_path = self.root / "sweep.toml"
        self.sweep_json_path = self.root / "sweep.json"
        self.base_path = self.root / "base.toml"

    # ------------------------------------------------------------ state
    def is_store(self) -> bool:
        """Whether the directory holds an initialised sweep."""
        return self.runs_path.exists() and self.sweep_json_path.exists()

    def is_empty(self) -> bool:
        """Whether the directory is missing or holds nothing but lock files."""
        if not self.root.exists():
            return True
        return all(p.name in (".lock", ".meta.lock") or p.name.startswith(".lock.shard-") for p in self.root.iterdir())

    def is_half_initialised(self) -> bool:
        """Whether the directory holds only what an initialisation stopped half-way leaves.

        That is some of :data:`INIT_FILES`, empty result folders, lock files and
        temporary files, but no ``runs.parquet`` (the marker written last):
        no run has been planned into it, let alone run.
        """
        if not self.root.is_dir() or self.runs_path.exists() or self.is_empty():
            return False
        for p in self.root.iterdir():
            name = p.name
            if name in (".lock", ".meta.lock") or name.startswith(".lock.shard-") or name.endswith(".tmp"):
                continue
            if name in INIT_FILES and p.is_file():
                continue
            if (name in ("summary", "timeseries", "attempts") and p.is_dir()
                    and all(q.name.endswith(".tmp") for q in p.iterdir())):
                continue
            return False
        return True

    def require(self) -> Store:
        """Raise :class:`InputError` unless this is an initialised sweep directory."""
        if not self.root.is_dir():
            raise InputError(f"{self.root}: no such directory; allowed: a sweep result directory (consim sweep --out).")
        if not self.is_store():
            raise InputError(f"{self.root}: not a sweep result directory (no runs.parquet / sweep.json).")
        return self

    # ------------------------------------------------------------ locks
    def sweep_lock(self, shard: tuple[int, int] | None = None) -> contextlib.ExitStack:
        """Hold the directory for a sweep (exclusive) or for one shard of an array."""
        self.root.mkdir(parents=True, exist_ok=True)
        stack = contextlib.ExitStack()
        try:
            if shard is None:
                stack.enter_context(DirLock(self.root / ".lock", shared=False, what="another sweep"))
            else:
                stack.enter_context(DirLock(self.root / ".lock", shared=True, what="a whole-sweep run (not a shard)"))
                i, n = shard
                stack.enter_context(DirLock(self.root / f".lock.shard-{i}-of-{n}", what=f"shard {i}/{n}"))
        except BaseException:
            stack.close()
            raise
        return stack

    @contextlib.contextmanager
    def meta_lock(self) -> Iterator[None]:
        """Blocking exclusive lock for short metadata updates."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / ".meta.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # ------------------------------------------------------------ initialisation
    def initialize(self, *, sweep_text: str, sweep_doc: dict[str, Any], base_toml: str, points: pd.DataFrame,
                   plan: pd.DataFrame, provenance: dict[str, Any]) -> bool:
        """Write the plan of a new sweep, or check it matches the one already here.

        Returns True when this call created the store. Safe when several
        shards start at once (the first one writes, the others compare).
        """
        with self.meta_lock():
            if self.is_store():
                self._check_same_plan(points, plan)
                return False
            for d in (self.summary_dir, self.timeseries_dir, self.attempts_dir):
                d.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.sweep_toml_path, sweep_text.encode("utf-8"))
            atomic_write_bytes(self.base_path, base_toml.encode("utf-8"))
            atomic_write_json(self.sweep_json_path, sweep_doc)
            atomic_write_parquet(self.points_path, points)
            atomic_write_json(self.provenance_path, provenance)
            atomic_write_parquet(self.runs_path, self._runs_from(plan, None, None))  # last: marks the store
            return True

    def _check_same_plan(self, points: pd.DataFrame, plan: pd.DataFrame) -> None:
        old_points = self.points()
        old_plan = self.plan()
        same = (old_points.shape == points.shape and list(old_points.columns) == list(points.columns)
                and old_points.astype(str).equals(points.astype(str))
                and old_plan.shape == plan.shape and old_plan[PLAN_COLUMNS].equals(plan[PLAN_COLUMNS].astype(old_plan.dtypes)))
        if not same:
            raise InputError(
                f"{self.root}: holds a different sweep (its design points or seeds differ from this sweep file's); "
                "allowed: resume with the same sweep file, or use another --out."
            )

    # ------------------------------------------------------------ reading
    def points(self) -> pd.DataFrame:
        """The design points."""
        return pq.read_table(self.points_path).to_pandas()

    def plan(self) -> pd.DataFrame:
        """run_id, point_id, replication, seed of every planned run."""
        return pq.read_table(self.runs_path, columns=PLAN_COLUMNS).to_pandas()

    def sweep_doc(self) -> dict[str, Any]:
        """The planned sweep's description (``sweep.json``)."""
        return json.loads(self.sweep_json_path.read_text(encoding="utf-8"))

    def provenance(self) -> dict[str, Any]:
        """The provenance record."""
        return json.loads(self.provenance_path.read_text(encoding="utf-8"))

    def committed(self) -> list[str]:
        """Names of committed batches (their summary file exists), sorted."""
        if not self.summary_dir.is_dir():
            return []
        return sorted(p.stem for p in self.summary_dir.glob("part-*.parquet"))

    def is_committed(self, batch: str) -> bool:
        """Whether batch ``batch`` has been committed."""
        return (self.summary_dir / f"{batch}.parquet").exists()

    def _read_parts(self, folder: Path, batches: list[str] | None = None,
                    columns: list[str] | None = None) -> list[pd.DataFrame]:
        batches = self.committed() if batches is None else batches
        frames = []
        for b in batches:
            path = folder / f"{b}.parquet"
            try:
                table = pq.read_table(path, columns=columns) if columns else pq.read_table(path)
            except FileNotFoundError:
                continue
            except (pa.ArrowException, OSError) as e:
                raise DamagedFileError(
                    f"{path}: damaged result file, cannot be read ({_reason(e)}); allowed: intact batch files. "
                    f"`consim sweep SWEEP.toml --out {self.root} --resume` moves the damaged batch to "
                    f"{self.root / DAMAGED_DIR}/ and runs its runs again."
                ) from None
            frames.append(table.to_pandas())
        return frames

    def read_summary(self, batches: list[str] | None = None) -> pd.DataFrame:
        """Summary rows of the committed batches (one per finished run)."""
        frames = [f for f in self._read_parts(self.summary_dir, batches) if len(f)]
        if not frames:
            return empty_summary()
        out = pd.concat(frames, ignore_index=True)
        return out.drop_duplicates("run_id", keep="first").sort_values("run_id", ignore_index=True)

    def done_run_ids(self) -> set[int]:
        """Run ids with a committed summary row."""
        ids: set[int] = set()
        for f in self._read_parts(self.summary_dir, columns=["run_id"]):
            ids.update(int(x) for x in f["run_id"])
        return ids

    def read_attempts(self, batches: list[str] | None = None) -> pd.DataFrame:
        """Every recorded attempt of the committed batches."""
        frames = [f for f in self._read_parts(self.attempts_dir, batches) if len(f)]
        if not frames:
            return attempts_frame([])
        return pd.concat(frames, ignore_index=True)

    def read_timeseries(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The kept per-step indicators of the finished runs (``run_id``, ``step``, ``year``, ...)."""
        frames = [f for f in self._read_parts(self.timeseries_dir, columns=columns) if len(f)]
        if not frames:
            return pd.DataFrame(columns=columns or ["run_id", "step", "year"])
        out = pd.concat(frames, ignore_index=True)
        return out.drop_duplicates(["run_id", "step"], keep="first").sort_values(["run_id", "step"], ignore_index=True)

    # ------------------------------------------------------------ writing
    def write_batch(self, batch: str, summary: pd.DataFrame, timeseries: pd.DataFrame | None,
                    attempts: pd.DataFrame) -> None:
        """Write one batch: timeseries, then attempts, then the summary (the commit)."""
        if timeseries is not None and len(timeseries):
            atomic_write_parquet(self.timeseries_dir / f"{batch}.parquet", timeseries)
        atomic_write_parquet(self.attempts_dir / f"{batch}.parquet", attempts)
        atomic_write_parquet(self.summary_dir / f"{batch}.parquet", summary if len(summary) else empty_summary())

    def clean_uncommitted(self, prefix: str = "part-") -> list[Path]:
        """Delete temporary files and files of uncommitted batches whose names start with ``prefix``.

        Call only while holding the lock that owns those batch names.
        """
        removed = []
        if prefix == "part-" and self.root.is_dir():  # the whole directory is ours: metadata temporaries too
            for p in self.root.glob(".*.tmp"):
                p.unlink(missing_ok=True)
                removed.append(p)
        committed = set(self.committed())
        for folder in (self.timeseries_dir, self.attempts_dir, self.summary_dir):
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                name = p.name
                stale_tmp = name.startswith("." + prefix) and name.endswith(".tmp")
                orphan = name.startswith(prefix) and name.endswith(".parquet") and p.stem not in committed
                if stale_tmp or orphan:
                    p.unlink(missing_ok=True)
                    removed.append(p)
        return removed

    def damaged_batches(self, prefix: str = "part-") -> list[tuple[str, Path, str]]:
        """Committed batches (names starting with ``prefix``) with a file that cannot be read.

        Each as (batch, the first unreadable file, the reason). Reads every
        file of every committed batch in full; nothing is changed.
        """
        found = []
        for batch in self.committed():
            if not batch.startswith(prefix):
                continue
            for folder in (self.summary_dir, self.attempts_dir, self.timeseries_dir):
                path = folder / f"{batch}.parquet"
                try:
                    pq.read_table(path)
                except FileNotFoundError:
                    continue
                except Exception as e:  # noqa: BLE001 - whatever makes a file unreadable
                    found.append((batch, path, _reason(e)))
                    break
        return found

    def quarantine_unreadable(self, prefix: str = "part-") -> list[str]:
        """Move committed batches with an unreadable file to ``DIR/damaged/``; one note per batch moved.

        Call while holding the lock that owns those batch names (before
        :meth:`clean_uncommitted`). The summary file moves first, so the
        batch is uncommitted before the rest moves; its runs become pending
        and the sweep runs them again. Nothing is deleted.
        """
        notes = []
        for batch, bad_path, reason in self.damaged_batches(prefix):
            dest = self.root / DAMAGED_DIR
            dest.mkdir(exist_ok=True)
            for folder in (self.summary_dir, self.attempts_dir, self.timeseries_dir):
                path = folder / f"{batch}.parquet"
                if not path.exists():
                    continue
                target = dest / f"{folder.name}-{path.name}"
                n = 1
                while target.exists():
                    n += 1
                    target = dest / f"{folder.name}-{batch}.{n}.parquet"
                os.replace(path, target)
            fsync_dir(self.summary_dir)
            notes.append(f"{bad_path}: damaged result file, cannot be read ({reason}); moved batch {batch} "
                         f"to {dest}/; its runs will run again.")
        return notes

    # ------------------------------------------------------------ the runs table
    def _runs_from(self, plan: pd.DataFrame, done: set[int] | None, attempts: pd.DataFrame | None) -> pd.DataFrame:
        runs = plan[PLAN_COLUMNS].copy().astype({"run_id": "int64", "point_id": "int64",
                                                 "replication": "int64", "seed": "int64"})
        n = len(runs)
        status = np.full(n, "pending", dtype=object)
        error = np.full(n, "", dtype=object)
        tb = np.full(n, "", dtype=object)
        worker = np.full(n, "", dtype=object)
        seconds = np.full(n, np.nan)
        finished = np.full(n, np.nan)
        count = np.zeros(n, dtype="int64")
        if attempts is not None and len(attempts):
            pos = pd.Series(np.arange(n), index=runs["run_id"].to_numpy())
            att = attempts[attempts["run_id"].isin(pos.index)].sort_values(["finished", "attempt"], kind="stable")
            count_by = att.groupby("run_id").size()
            count[pos[count_by.index].to_numpy()] = count_by.to_numpy()
            ok = att[att["status"] == "done"].drop_duplicates("run_id", keep="first")
            bad = att[(att["status"] != "done") & ~att["run_id"].isin(ok["run_id"])].drop_duplicates("run_id", keep="last")
            for frame, label in ((bad, "failed"), (ok, "done")):
                idx = pos[frame["run_id"]].to_numpy()
                status[idx] = label
                error[idx] = frame["error"].to_numpy() if label == "failed" else ""
                tb[idx] = frame["traceback"].to_numpy() if label == "failed" else ""
                seconds[idx] = frame["seconds"].to_numpy()
                finished[idx] = frame["finished"].to_numpy()
                worker[idx] = frame["worker"].to_numpy()
        if done:
            mask = runs["run_id"].isin(done).to_numpy()
            status[mask] = "done"
            error[mask] = ""
            tb[mask] = ""
        runs["status"] = pd.Series(status, dtype="str")
        runs["error"] = pd.Series(error, dtype="str")
        runs["seconds"] = seconds
        runs["attempts"] = count
        runs["worker"] = pd.Series(worker, dtype="str")
        runs["finished"] = finished
        runs["traceback"] = pd.Series(tb, dtype="str")
        return runs[RUN_COLUMNS]

    def run_table(self, exclude: set[str] | frozenset[str] = frozenset()) -> pd.DataFrame:
        """runs.parquet computed live from the plan and the committed batches (but those in ``exclude``)."""
        batches = [b for b in self.committed() if b not in exclude]
        done = set(int(x) for x in self.read_summary(batches)["run_id"])
        return self._runs_from(self.plan(), done, self.read_attempts(batches))

    def write_runs(self) -> pd.DataFrame:
        """Rebuild ``runs.parquet`` from the committed batches (atomic, under the metadata lock)."""
        with self.meta_lock():
            runs = self.run_table()
            atomic_write_parquet(self.runs_path, runs)
        return runs

    def counts(self, runs: pd.DataFrame | None = None) -> dict[str, int]:
        """Number of runs by status (and in total)."""
        runs = self.run_table() if runs is None else runs
        vc = runs["status"].value_counts()
        out = {s: int(vc.get(s, 0)) for s in STATUSES}
        out["total"] = len(runs)
        return out

    def update_provenance(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Read, change and rewrite ``provenance.json`` under the metadata lock."""
        with self.meta_lock():
            doc = self.provenance() if self.provenance_path.exists() else {}
            change(doc)
            atomic_write_json(self.provenance_path, doc)
        return doc
