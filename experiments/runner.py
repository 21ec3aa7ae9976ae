"""The sweep driver: plan, dispatch chunks, survive failures, record everything.

Design note
-----------
:func:`run_sweep` plans the whole sweep before anything runs (design points,
then runs with seeds from :mod:`experiments.seeds`), writes the plan into the
store, and dispatches the runs that are not done yet in chunks to an executor
(:mod:`experiments.executors`). Workers write their own batches
(:mod:`experiments.worker`), so the driver keeps only counts.

Failures:

* a run that raises is retried in the worker up to ``retries`` times and then
  recorded as failed (error text and traceback in ``runs.parquet``); the sweep
  goes on;
* a task that dies with its worker (``BrokenProcessPool``, Dask's
  ``KilledWorker``, a lost connection) is requeued: its unfinished runs are
  retried one at a time with nothing else in flight, so a run that kills its
  worker again is identified, and after ``retries`` such deaths it is
  recorded as failed (``worker died: ...``) instead of stopping the sweep;
* a killed driver loses only the chunks in flight; ``--resume`` deletes the
  files of uncommitted batches (and temporary network snapshot files) and
  runs what is missing (pending and failed runs). Finished runs are never run
  again or rewritten.

Shards (``shard=(i, n)``) run the runs with ``run_id % n == i``; they share
the directory with the other shards of a job array, start it if they are
first, and need no long-running driver.
"""

from __future__ import annotations

import concurrent.futures as cf
import concurrent.futures.process as cf_process
import math
import os
import secrets
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from experiments.designs import design_points, points_frame
from experiments.executors import ExecutorHandle, make_executor
from experiments.progress import Progress
from experiments.provenance import (
    code_fingerprint,
    command_line,
    new_provenance,
    now_iso,
    session_record,
)
from experiments.seeds import replication_seeds
from experiments.snapshots import clean_snapshot_temps
from experiments.store import PLAN_COLUMNS, Store, attempts_frame, empty_summary
from experiments.sweepfile import SweepSpec, is_trusted_run_function, resolve_run_function
from experiments.worker import (
    ChunkReport,
    ChunkTask,
    RunSpec,
    committed_report,
    run_chunk,
    worker_name,
)
from sim.errors import InputError
from sim.scenario import show

#: Seconds between rewrites of runs.parquet while a sweep runs.
RUNS_REFRESH_SECONDS = 30.0
#: Largest automatic chunk (runs per task).
MAX_AUTO_CHUNK = 20


@dataclass
class SweepOutcome:
    """Counts at the end of a sweep session."""

    out: Path
    total: int
    done: int
    failed: int
    pending: int
    ran: int
    seconds: float
    session: str
    failures: dict[int, str] = field(default_factory=dict)


def plan(spec: SweepSpec) -> tuple[list[dict[str, Any]], pd.DataFrame, pd.DataFrame]:
    """Design points (values), the points table and the runs plan of ``spec``.

    Runs are numbered point-major: ``run_id = point_id * replications + r``;
    replication ``r`` has the same seed at every point (common random numbers).
    """
    points = design_points(spec)
    seeds = replication_seeds(spec.seed, spec.replications)
    n, r = len(points), spec.replications
    plan_df = pd.DataFrame({
        "run_id": pd.Series(range(n * r), dtype="int64"),
        "point_id": pd.Series([p for p in range(n) for _ in range(r)], dtype="int64"),
        "replication": pd.Series([i for _ in range(n) for i in range(r)], dtype="int64"),
        "seed": pd.Series([seeds[i] for _ in range(n) for i in range(r)], dtype="int64"),
    })
    return points, points_frame(spec, points), plan_df


def sweep_doc(spec: SweepSpec, n_points: int) -> dict[str, Any]:
    """The planned sweep as JSON-ready data (``sweep.json``)."""
    design = None
    if spec.design:
        d = spec.design
        design = {"method": d.method, "samples": d.samples, "levels": d.levels, "num_levels": d.num_levels,
                  "second_order": d.second_order,
                  "ranges": {k: list(v) for k, v in d.ranges.items()}}
    return {
        "name": spec.name, "description": spec.description, "sweep_file": spec.path, "sweep_sha256": spec.digest,
        "base": spec.base_ref, "replications": spec.replications, "seed": spec.seed, "keep": list(spec.keep),
        "set": spec.set, "vary": spec.vary, "design": design, "varied_keys": spec.varied_keys,
        "time_limit": spec.time_limit, "retries": spec.retries, "run_function": spec.run_function,
        "allow_external_run_function": spec.allow_external_run_function,
        "network_snapshots": spec.network_snapshots,
        "points": n_points, "runs": n_points * spec.replications,
        "identity": {"base_scenario": spec.base.to_toml(), "keep": list(spec.keep),
                     "run_function": spec.run_function},
    }


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` -> (I, N), with 0 <= I < N (Slurm's ``$SLURM_ARRAY_TASK_ID/N``)."""
    try:
        i_s, n_s = text.split("/")
        i, n = int(i_s), int(n_s)
    except ValueError:
        raise InputError(f"--shard {show(text)}: not I/N; allowed: I/N with 0 <= I < N, e.g. 0/8.") from None
    if n < 1 or not 0 <= i < n:
        raise InputError(f"--shard {show(text)}: allowed: I/N with 0 <= I < N (I counts from 0, like $SLURM_ARRAY_TASK_ID).")
    return i, n


def _check_identity(store: Store, doc: dict[str, Any]) -> None:
    old = store.sweep_doc().get("identity", {})
    for key, label in (("base_scenario", "the base scenario or the fixed overrides ([set], top-level keys)"),
                       ("keep", "the kept indicators (keep)"), ("run_function", "run_function")):
        if old.get(key) != doc["identity"][key]:
            raise InputError(
                f"{store.root}: the sweep file changed since this directory was started: {label} differ; "
                "allowed: resume with the sweep as it was (see DIR/sweep.toml), or use another --out."
            )


def auto_chunk_size(runs: int, slots: int) -> int:
    """Runs per task: about eight tasks per slot, at most :data:`MAX_AUTO_CHUNK`.

    Small enough that a killed worker or driver loses little (at most one
    chunk per worker) and the progress bar moves; large enough that dispatch
    and one batch of files per chunk stay cheap next to the runs.
    """
    return max(1, min(MAX_AUTO_CHUNK, math.ceil(runs / (8 * max(1, slots)))))


def _chunks(runs: list[RunSpec], size: int) -> list[list[RunSpec]]:
    return [runs[i:i + size] for i in range(0, len(runs), size)]


def run_sweep(spec: SweepSpec, out: str | os.PathLike[str], *, executor: str = "local",
              workers: int | None = None, scheduler: str | None = None, resume: bool = False,
              shard: tuple[int, int] | None = None, retries: int | None = None, progress: bool = True,
              chunk_size: int | None = None, command: str | None = None,
              run_callable: Callable[..., Any] | None = None, stream: TextIO | None = None,
              executor_handle: ExecutorHandle | None = None) -> SweepOutcome:
    """Run (or resume, or run one shard of) the sweep ``spec`` into directory ``out``.

    Raises :class:`InputError` when ``out`` is not empty and ``resume`` is not
    set, when another sweep holds ``out``, or when ``out`` holds another sweep.
    ``run_callable`` replaces the sweep's run function (tests, notebooks);
    ``executor_handle`` replaces the executor built from ``executor``.
    """
    t_start = time.perf_counter()
    store = Store(out)
    command = command or command_line()
    retries = spec.retries if retries is None else retries
    if retries < 0:
        raise InputError(f"--retries {retries}: allowed: an integer >= 0.")
    if store.root.exists() and not store.root.is_dir():
        raise InputError(f"--out {store.root}: exists and is not a directory; allowed: a new or empty directory.")
    if shard is not None and not store.is_empty() and not store.is_store() and not (store.root / "sweep.toml").exists():
        raise InputError(f"--out {store.root}: exists, is not empty and holds no sweep; allowed: a new or empty "
                         "directory, or the directory of this sweep's other shards.")
    restart = store.is_half_initialised()
    if restart:
        _check_half_initialised(store, spec)
    if shard is None and not resume and not store.is_empty() and not restart:
        raise InputError(
            f"--out {store.root}: exists and is not empty; refusing to overwrite. "
            "Allowed: a new or empty directory, or --resume to continue the sweep in it."
        )
    if resume and not store.is_empty() and not store.is_store() and not restart:
        raise InputError(f"--out {store.root}: not a sweep result directory (no runs.parquet); cannot --resume it.")

    if run_callable is None:
        if not spec.allow_external_run_function and not is_trusted_run_function(spec.run_function):
            raise InputError(f"{spec.path}: key 'run_function': value {show(spec.run_function)} is not allowed; "
                             "allowed: a function under sim. or experiments. unless the sweep sets "
                             "allow_external_run_function = true (docs/sweeps.md, security note).")
        _import_run_function(spec.run_function)
    points, points_df, plan_df = plan(spec)
    doc = sweep_doc(spec, len(points))
    lock = store.sweep_lock(shard)
    handle = None
    prog = None
    # unique per session (two sessions of one process in one second must not share batch names)
    session_id = ((f"s{shard[0]}of{shard[1]}-" if shard else "d")
                  + f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}")
    try:
        if shard is None and not resume and store.is_store():
            raise InputError(f"--out {store.root}: another sweep started in it meanwhile; refusing to overwrite.")
        created = store.initialize(
            sweep_text=spec.text, sweep_doc=doc, base_toml=spec.base.to_toml(), points=points_df, plan=plan_df,
            provenance=new_provenance(spec.name, spec.path, spec.digest, command))
        if created and restart:
            print(f"consim: note: {store.root}: an earlier start of this sweep stopped before its plan was "
                  "written in full (no runs.parquet, no run done); started it again.", file=stream or sys.stderr)
        if not created:
            _check_identity(store, doc)
            for note in store.quarantine_unreadable("part-" if shard is None else f"part-s{shard[0]}of{shard[1]}-"):
                print(f"consim: warning: {note}", file=stream or sys.stderr)
        store.clean_uncommitted("part-" if shard is None else f"part-s{shard[0]}of{shard[1]}-")
        clean_snapshot_temps(store.root, shard)

        runs_now = store.run_table()
        scope = runs_now if shard is None else runs_now[runs_now["run_id"] % shard[1] == shard[0]]
        todo = scope[scope["status"] != "done"].sort_values("run_id")
        done0 = int((scope["status"] == "done").sum())
        todo_specs = [RunSpec(int(r.run_id), int(r.point_id), int(r.replication), int(r.seed), points[int(r.point_id)])
                      for r in todo.itertuples(index=False)]

        _warn_if_code_changed(store, stream)
        shard_txt = f"{shard[0]}/{shard[1]}" if shard else None
        session = session_record(command, executor if not scheduler else "dask", workers, shard_txt)
        session["id"] = session_id
        store.update_provenance(lambda d: d.setdefault("sessions", []).append(session))

        prog = Progress(len(scope), done=done0, failed=0, enabled=progress, stream=stream,
                        label=spec.name + (f" shard {shard_txt}" if shard else ""))
        failures: dict[int, str] = {}
        done_now = 0
        if todo_specs:
            handle = executor_handle or make_executor(executor, workers, scheduler)
            size = chunk_size or spec.chunk_size or auto_chunk_size(len(todo_specs), handle.slots())
            done_now, failures = _dispatch(store, spec, handle, _chunks(todo_specs, size), session_id, retries,
                                           run_callable, prog, done0)
        prog.close()
        runs_final = store.write_runs()
        counts = store.counts(runs_final if shard is None else runs_final[runs_final["run_id"] % shard[1] == shard[0]])
        _end_session(store, session_id, len(todo_specs), done_now, len(failures))
        return SweepOutcome(out=store.root, total=counts["total"], done=counts["done"], failed=counts["failed"],
                            pending=counts["pending"], ran=len(todo_specs), seconds=time.perf_counter() - t_start,
                            session=session_id, failures=failures)
    except KeyboardInterrupt:
        if prog is not None:
            prog.close()
        if store.is_store():
            c = store.counts(store.write_runs())
            _end_session(store, session_id, None, None, None, interrupted=True)
            print(f"{store.root}: interrupted with {c['done']}/{c['total']} runs done; "
                  "continue with the same command and --resume.", file=stream or sys.stderr)
        raise
    finally:
        if handle is not None and handle is not executor_handle:
            handle.close()
        lock.close()


def _check_half_initialised(store: Store, spec: SweepSpec) -> None:
    """Allow starting again in a half-initialised directory only with the same sweep file."""
    try:
        old = store.sweep_toml_path.read_text(encoding="utf-8") if store.sweep_toml_path.exists() else None
    except (OSError, UnicodeDecodeError):
        old = ""
    if old is not None and old != spec.text:
        raise InputError(
            f"--out {store.root}: holds the start of another sweep that never ran (its sweep.toml differs from "
            f"{spec.path}; no runs.parquet); allowed: the same sweep file, another --out, or remove the directory."
        )


def _import_run_function(ref: str) -> None:
    """Import the run function (and the model) before workers start.

    A bad reference becomes an input error, and forked workers run the code the driver loaded.
    """
    try:
        resolve_run_function(ref)
    except (ImportError, AttributeError, TypeError, ValueError) as e:
        raise InputError(f"run_function = {show(ref)}: cannot import it ({type(e).__name__}: {e}); "
                         "allowed: \"module:function\" of an importable module (default \"sim.run:run\").") from None
    try:
        import sim.model  # noqa: F401 - sim.run imports it lazily
    except ImportError:
        pass


def _warn_if_code_changed(store: Store, stream: TextIO | None) -> None:
    """On resume, say so when the model code differs from the code of earlier sessions."""
    now = code_fingerprint()  # also fixes the value forked workers inherit
    earlier = {s.get("code", {}).get("fingerprint") for s in store.provenance().get("sessions", [])} - {None}
    if earlier and now not in earlier:
        print(f"consim: warning: the model code (sim/ fingerprint {now}) differs from the code of this sweep's "
              f"earlier sessions ({', '.join(sorted(earlier))}); runs done before and after this session may "
              "not be comparable (provenance.json records each session's code).", file=stream or sys.stderr)


def _end_session(store: Store, session_id: str, attempted: int | None, done: int | None, failed: int | None,
                 interrupted: bool = False) -> None:
    def change(doc: dict[str, Any]) -> None:
        for s in doc.get("sessions", []):
            if s.get("id") == session_id:
                s["finished"] = now_iso()
                if attempted is not None:
                    s.update(runs_attempted=attempted, done=done, failed=failed)
                if interrupted:
                    s["interrupted"] = True
        doc["finished"] = now_iso()

    store.update_provenance(change)


def _dispatch(store: Store, spec: SweepSpec, handle: ExecutorHandle, chunks: list[list[RunSpec]], session_id: str,
              retries: int, run_callable: Callable[..., Any] | None, prog: Progress,
              done0: int) -> tuple[int, dict[int, str]]:
    """Submit chunks, collect reports, requeue after worker deaths. Returns (runs done, failures)."""
    queue: deque[list[RunSpec]] = deque(chunks)
    suspects: deque[RunSpec] = deque()   # runs of tasks that died with their worker
    deaths: dict[int, int] = {}          # attributable worker deaths per run
    inflight: dict[cf.Future, tuple[str, list[RunSpec], bool, int]] = {}
    failures: dict[int, str] = {}
    done_now = 0
    counter = 0
    last_refresh = time.monotonic()
    generation = 0  # executor generation: a broken pool is rebuilt once, not once per lost task

    def submit(runs: list[RunSpec], isolated: bool) -> None:
        nonlocal counter
        batch = f"part-{session_id}-{counter:05d}"
        counter += 1
        # an absolute path: Dask workers on other nodes may start in another directory
        task = ChunkTask(store_dir=str(store.root.absolute()), batch=batch, base=spec.base, runs=tuple(runs), keep=spec.keep,
                         run_function=spec.run_function, time_limit=spec.time_limit, retries=retries,
                         parent_pid=handle.parent_pid, run_callable=run_callable,
                         code_fingerprint=code_fingerprint(), network_snapshots=spec.network_snapshots)
        inflight[handle.executor.submit(run_chunk, task)] = (batch, runs, isolated, generation)

    def record_driver_failure(run: RunSpec, error: str) -> None:
        nonlocal counter
        batch = f"part-{session_id}-x{counter:05d}"
        counter += 1
        now = time.time()
        att = attempts_frame([{"run_id": run.run_id, "attempt": deaths.get(run.run_id, 1), "status": "failed",
                               "error": error, "traceback": "", "seconds": float("nan"), "started": now,
                               "finished": now, "worker": worker_name(), "batch": batch}])
        store.write_batch(batch, empty_summary(), None, att)
        failures[run.run_id] = error

    while queue or suspects or inflight:
        if suspects:
            if not inflight:  # one suspect at a time, alone, so a death is attributable
                submit([suspects.popleft()], isolated=True)
        else:
            while queue and len(inflight) < handle.slots():
                submit(queue.popleft(), isolated=False)
        finished, _ = cf.wait(list(inflight), timeout=0.5, return_when=cf.FIRST_COMPLETED)
        broken = False
        for fut in finished:
            batch, runs, isolated, gen = inflight.pop(fut)
            try:
                report: ChunkReport = fut.result()
            except Exception as exc:  # noqa: BLE001 - the task died with its worker
                broken = broken or (isinstance(exc, cf_process.BrokenProcessPool) and gen == generation)
                if store.is_committed(batch):  # it finished before dying
                    report = committed_report(store, batch)
                    done_now += len(report.done)
                    failures.update(report.failed)
                    continue
                died = isinstance(exc, cf_process.BrokenProcessPool) or type(exc).__name__ in ("KilledWorker", "CommClosedError")
                error = (f"worker died: {type(exc).__name__}: {exc}" if died
                         else f"task failed outside the run (worker set-up, pickling, store): {type(exc).__name__}: {exc}")
                for run in runs:
                    if isolated:
                        deaths[run.run_id] = deaths.get(run.run_id, 0) + 1
                        if deaths[run.run_id] > retries:
                            record_driver_failure(run, error)
                            continue
                    suspects.append(run)
                continue
            done_now += len(report.done)
            failures.update(report.failed)
        if broken:
            handle.restart()
            generation += 1
        prog.update(done0 + done_now, len(failures))
        if time.monotonic() - last_refresh > RUNS_REFRESH_SECONDS:
            store.write_runs()
            last_refresh = time.monotonic()
    return done_now, failures


def default_out(spec: SweepSpec) -> Path:
    """Default result directory: ``results/<sweep name>``."""
    return Path("results") / spec.name


def print_outcome(outcome: SweepOutcome, stream: TextIO | None = None) -> None:
    """One paragraph on how a sweep session ended."""
    stream = stream or sys.stderr
    msg = (f"{outcome.out}: {outcome.done}/{outcome.total} runs done, {outcome.failed} failed, "
           f"{outcome.pending} pending ({outcome.ran} run in {outcome.seconds:.1f} s)")
    print(msg, file=stream)
    if outcome.failed:
        print(f"  failed runs are recorded in {outcome.out}/runs.parquet (error, traceback); "
              f"`consim status {outcome.out}` lists them; --resume retries them.", file=stream)


__all__ = ["PLAN_COLUMNS", "SweepOutcome", "default_out", "parse_shard", "plan", "print_outcome", "run_sweep",
           "sweep_doc"]
