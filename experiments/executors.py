"""Executors: where chunks of runs execute, behind one interface.

Design note
-----------
Every backend is a :class:`concurrent.futures.Executor` wrapped in an
:class:`ExecutorHandle` that also says how many tasks to keep in flight, how
to rebuild a broken pool and what to record in the provenance:

* ``inprocess`` -- runs each task in the calling process when it is
  submitted (for debugging with breakpoints; no parallelism).
* ``local`` (default) -- a :class:`~concurrent.futures.ProcessPoolExecutor`
  of forked workers. A worker that dies (killed, out of memory) breaks the
  whole pool (``BrokenProcessPool``); the runner rebuilds it with
  :meth:`ExecutorHandle.restart` and requeues the unfinished runs. Workers die
  with the driver (Linux ``PR_SET_PDEATHSIG``), close the driver's lock files,
  and ignore Ctrl-C (the driver handles it).
* ``dask`` -- Dask distributed through ``Client.get_executor()``: a
  :class:`distributed.LocalCluster` of single-threaded worker processes by
  default, or an existing scheduler (``--scheduler tcp://host:8786``, e.g. one
  started by dask-jobqueue on Slurm or PBS; see ``docs/sweeps.md``). Workers
  must see the result directory (a shared file system), since they write
  their own batches. A killed worker's tasks are rescheduled by Dask; a task
  whose batch is already committed returns at once.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
from collections.abc import Callable
from typing import Any

from experiments.store import close_inherited_locks

EXECUTORS = ("local", "inprocess", "dask")


class InProcessExecutor(cf.Executor):
    """Runs each submitted call at once, in this process; returns a finished future."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        """Run ``fn(*args, **kwargs)`` now and return its (finished) future."""
        future: cf.Future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            future.set_exception(exc)
        return future


def _init_local_worker(parent_pid: int) -> None:
    """Initialise a forked worker: close inherited locks, die with the driver, ignore Ctrl-C."""
    close_inherited_locks()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent_pid:  # the driver died before we got here
        os._exit(0)


class ExecutorHandle:
    """An executor plus what the runner needs to know about it."""

    def __init__(self, kind: str, workers: int, factory: Callable[[], cf.Executor],
                 slots: Callable[[], int] | None = None, close: Callable[[], None] | None = None,
                 parent_pid: int | None = None, info: dict[str, Any] | None = None) -> None:
        self.kind = kind
        self.workers = workers
        self._factory = factory
        self._slots = slots
        self._close = close
        self.parent_pid = parent_pid
        self.info = info or {}
        self.executor = factory()

    def slots(self) -> int:
        """How many tasks to keep in flight (about two per worker thread)."""
        return max(1, self._slots() if self._slots else 2 * self.workers)

    def restart(self) -> None:
        """Replace a broken pool by a new one."""
        with contextlib.suppress(Exception):
            self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._factory()

    def close(self) -> None:
        """Shut the executor (and any cluster it started) down."""
        with contextlib.suppress(Exception):
            self.executor.shutdown(wait=True, cancel_futures=True)
        if self._close:
            with contextlib.suppress(Exception):
                self._close()

    def __enter__(self) -> ExecutorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def default_workers() -> int:
    """Worker count when none is given: the CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def make_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None) -> ExecutorHandle:
    """Build the executor ``kind`` (``local``, ``inprocess`` or ``dask``)."""
    if scheduler and kind in (None, "local"):
        kind = "dask"
    if kind not in EXECUTORS:
        raise ValueError(f"unknown executor {kind!r}; allowed: {', '.join(EXECUTORS)}")
    if kind == "inprocess":
        return ExecutorHandle("inprocess", 1, InProcessExecutor, slots=lambda: 1, info={"executor": "inprocess"})
    if kind == "local":
        n = workers or default_workers()
        parent = os.getpid()
        ctx = multiprocessing.get_context("fork")
        return ExecutorHandle(
            "local", n,
            lambda: cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_init_local_worker,
                                           initargs=(parent,)),
            parent_pid=parent, info={"executor": "local", "workers": n})
    return _dask_executor(workers, scheduler)


def _dask_executor(workers: int | None, scheduler: str | None) -> ExecutorHandle:
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        client = Client(scheduler, timeout="30s")
    else:
        n = workers or default_workers()
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)

    def nthreads() -> int:
        try:
            return sum(client.nthreads().values())
        except Exception:  # noqa: BLE001 - scheduler momentarily unreachable
            return 1

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    n_now = nthreads()
    info = {"executor": "dask", "scheduler": client.scheduler.address, "workers": n_now,
            "local_cluster": cluster is not None}
    return ExecutorHandle("dask", n_now, lambda: client.get_executor(pure=False),
                          slots=lambda: 2 * max(1, nthreads()), close=close, info=info)
