"""The task a worker runs: a chunk of runs, written to the store as one batch.

Design note
-----------
:func:`run_chunk` is the only function executors run. It takes a
:class:`ChunkTask` (store directory, batch name, base scenario, the runs with
their seeds and overrides, the kept indicators, the time limit and the
retries), runs each run with the sweep's run function (``sim.run`` unless the
sweep names another), catches every exception of a run and records it as data
(error text and traceback), retries a failed run up to ``retries`` more times,
and writes the whole chunk as one batch (:meth:`Store.write_batch`). It
returns only a small :class:`ChunkReport`; results never travel back through
the executor, so a driver or scheduler that dies holds nothing of value.

A task may run twice (a Dask worker killed after it wrote its batch, or a
driver resuming): if its batch is already committed it returns at once.
A per-run time limit interrupts the run's thread with :class:`RunTimeout`
(an asynchronous exception, so it also works in Dask's worker threads); it
fires between Python bytecodes, so a run stuck inside one long C call is only
stopped when that call returns. A timed-out run is not retried. A worker whose model code differs from the
driver's (:func:`~experiments.provenance.code_fingerprint`, e.g. a checkout
changed while a cluster sweep runs) records its runs as failed rather than
mixing results of two code versions into one sweep.

With ``network_snapshots`` set (the default), the first replication of each
design point also leaves a network snapshot, ``DIR/networks/<run_id>.json``
(:mod:`experiments.snapshots`): built from the finished model right after the
run, held in memory, and written just before the batch is committed, so a
committed run's snapshot is on disk and a redone run writes the same file
again. A snapshot that cannot be built (a run function without a model)
never fails the run; a store write that fails (a full disk) stops the chunk
like any other store write.
"""

from __future__ import annotations

import ctypes
import os
import socket
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from experiments import snapshots
from experiments.provenance import code_fingerprint
from experiments.store import Store, attempts_frame, empty_summary
from experiments.sweepfile import resolve_run_function
from sim.indicators import NAMES as INDICATOR_NAMES
from sim.scenario import Scenario


class RunTimeout(Exception):
    """A run exceeded the sweep's per-run time limit."""


class CodeMismatch(RuntimeError):
    """The worker's model code differs from the driver's."""


@dataclass(frozen=True, slots=True)
class RunSpec:
    """One run: its id, design point, replication, seed and varied values."""

    run_id: int
    point_id: int
    replication: int
    seed: int
    overrides: dict[str, Any]


@dataclass(frozen=True)
class ChunkTask:
    """A chunk of runs for one worker call, written as batch ``batch``."""

    store_dir: str
    batch: str
    base: Scenario
    runs: tuple[RunSpec, ...]
    keep: tuple[str, ...]
    run_function: str
    time_limit: float | None = None
    retries: int = 1
    #: When set, the task writes nothing unless its parent process is still
    #: this one (a forked worker of a driver that was killed stays silent).
    parent_pid: int | None = None
    #: A callable used instead of ``run_function`` (tests, notebooks).
    run_callable: Callable[..., Any] | None = None
    #: The driver's :func:`~experiments.provenance.code_fingerprint`; a worker
    #: with other model code records every run of the chunk as failed.
    code_fingerprint: str | None = None
    #: Write a network snapshot for replication 0 of each design point.
    network_snapshots: bool = True


@dataclass
class ChunkReport:
    """What a chunk did: ids finished and failed, run seconds, task seconds."""

    batch: str
    done: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    run_seconds: list[float] = field(default_factory=list)
    task_seconds: float = 0.0
    already_committed: bool = False
    worker: str = ""


def worker_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def call_with_time_limit(fn: Callable[[], Any], limit: float | None) -> Any:
    """Call ``fn()``; raise :class:`RunTimeout` in this thread after ``limit`` seconds."""
    if not limit:
        return fn()
    tid = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def fire() -> None:
        with lock:
            if state["active"]:
                state["fired"] = True
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(RunTimeout))

    timer = threading.Timer(limit, fire)
    timer.daemon = True
    timer.start()
    try:
        try:
            return fn()
        finally:
            with lock:
                state["active"] = False
            timer.cancel()
    except RunTimeout:
        raise RunTimeout(f"the run exceeded the time limit of {limit:g} s") from None
    finally:
        if state["fired"]:  # clear an exception scheduled but not yet raised
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)


def _check_result(res: Any, keep: tuple[str, ...]) -> None:
    summary = getattr(res, "summary", None)
    if not isinstance(summary, dict):
        raise TypeError("the run function returned no .summary dict")
    missing = [n for n in INDICATOR_NAMES if n not in summary]
    if missing:
        raise ValueError(f"the run's summary lacks indicator(s) {', '.join(missing)}")
    if keep:
        ts = getattr(res, "timeseries", None)
        if not isinstance(ts, pd.DataFrame):
            raise TypeError("the run function returned no .timeseries DataFrame")
        lack = [c for c in ("step", "year", *keep) if c not in ts.columns]
        if lack:
            raise ValueError(f"the run's timeseries lacks column(s) {', '.join(lack)}")


def _snapshot_of(res: Any, run: RunSpec) -> bytes | None:
    """The encoded network snapshot of a finished run, or None (no model, or it cannot be read)."""
    model = getattr(res, "model", None)
    if model is None:
        return None
    try:
        doc = snapshots.build_snapshot(model, run_id=run.run_id, point_id=run.point_id,
                                       replication=run.replication, seed=run.seed)
    except Exception as exc:  # noqa: BLE001 - a snapshot is extra; the run itself succeeded
        warnings.warn(f"run {run.run_id}: no network snapshot ({type(exc).__name__}: {exc})", stacklevel=2)
        return None
    return snapshots.encode(doc)


def committed_report(store: Store, batch: str) -> ChunkReport:
    """The report of a batch already in the store (a task that ran before)."""
    report = ChunkReport(batch=batch, worker=worker_name(), already_committed=True)
    report.done = sorted(set(store.read_summary([batch])["run_id"].astype(int)))
    att = store.read_attempts([batch])
    fails = att[(att["status"] != "done") & ~att["run_id"].isin(report.done)].drop_duplicates("run_id", keep="last")
    report.failed = dict(zip(fails["run_id"].astype(int), fails["error"], strict=True))
    return report


def run_chunk(task: ChunkTask) -> ChunkReport:
    """Run every run of ``task``, write them to the store as one batch, return a report."""
    t_task = time.perf_counter()
    store = Store(task.store_dir)
    me = worker_name()
    report = ChunkReport(batch=task.batch, worker=me)
    if store.is_committed(task.batch):
        return committed_report(store, task.batch)
    fn = task.run_callable or resolve_run_function(task.run_function)
    mismatch = None
    if task.code_fingerprint and code_fingerprint() != task.code_fingerprint:
        mismatch = CodeMismatch(f"this worker's model code (sim/ fingerprint {code_fingerprint()}) differs from the "
                                f"driver's ({task.code_fingerprint}); update the worker's checkout and --resume")
    summaries: list[dict[str, Any]] = []
    series: dict[str, list[np.ndarray]] = {c: [] for c in ("run_id", "step", "year", *task.keep)}
    scenarios: dict[int, Scenario] = {}  # one validated scenario per design point in the chunk
    attempts: list[dict[str, Any]] = []
    networks: dict[int, bytes] = {}  # run id -> encoded snapshot, written just before the commit
    for run in task.runs:
        for attempt in range(1, task.retries + 2):
            started = time.time()
            t0 = time.perf_counter()
            try:
                if mismatch is not None:
                    raise mismatch
                scenario = scenarios.get(run.point_id)
                if scenario is None:
                    scenario = (task.base.with_overrides(run.overrides, source=f"run {run.run_id}")
                                if run.overrides else task.base)
                    scenarios[run.point_id] = scenario
                res = call_with_time_limit(lambda sc=scenario, seed=run.seed: fn(sc, seed), task.time_limit)
                _check_result(res, task.keep)
            except Exception as exc:  # noqa: BLE001 - a run's failure is data
                seconds = time.perf_counter() - t0
                error = f"{type(exc).__name__}: {exc}"
                attempts.append({"run_id": run.run_id, "attempt": attempt, "status": "failed", "error": error,
                                 "traceback": traceback.format_exc(), "seconds": seconds, "started": started,
                                 "finished": time.time(), "worker": me, "batch": task.batch})
                if isinstance(exc, (RunTimeout, CodeMismatch)) or attempt > task.retries:
                    report.failed[run.run_id] = error
                    break
                continue
            seconds = time.perf_counter() - t0
            row = {"run_id": run.run_id}
            row.update({k: float(v) for k, v in res.summary.items() if isinstance(v, (int, float))})
            summaries.append(row)
            if task.keep:
                ts = res.timeseries
                series["run_id"].append(np.full(len(ts), run.run_id, dtype=np.int64))
                series["step"].append(ts["step"].to_numpy(dtype=np.int64))
                series["year"].append(ts["year"].to_numpy(dtype=np.int64))
                for name in task.keep:
                    series[name].append(ts[name].to_numpy(dtype=np.float64))
            attempts.append({"run_id": run.run_id, "attempt": attempt, "status": "done", "error": "",
                             "traceback": "", "seconds": seconds, "started": started, "finished": time.time(),
                             "worker": me, "batch": task.batch})
            report.done.append(run.run_id)
            report.run_seconds.append(seconds)
            if task.network_snapshots and snapshots.wanted(run.replication):
                snap = _snapshot_of(res, run)
                if snap is not None:
                    networks[run.run_id] = snap
            del res
            break
    if task.parent_pid is not None and os.getppid() != task.parent_pid:
        os._exit(0)  # the driver that forked us is gone: a resumed sweep owns the directory now
    summary = pd.DataFrame(summaries) if summaries else empty_summary()
    if summaries:
        first = ["run_id", *INDICATOR_NAMES]
        summary = summary[first + [c for c in summary.columns if c not in first]].astype({"run_id": "int64"})
    timeseries = (pd.DataFrame({c: np.concatenate(parts) for c, parts in series.items()})
                  if task.keep and series["run_id"] else None)
    for run_id, data in networks.items():
        snapshots.write_snapshot(task.store_dir, run_id, data)
    store.write_batch(task.batch, summary, timeseries, attempts_frame(attempts))
    report.task_seconds = time.perf_counter() - t_task
    return report
