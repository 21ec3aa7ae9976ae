"""``consim sweep`` and ``consim status`` (the parser lives in :mod:`sim.cli`).

Design note
-----------
:func:`sweep_command` loads and validates the sweep file, then either writes
a Slurm job-array script (``--write-sbatch``), runs one shard (``--shard
I/N``), or runs the whole sweep with a progress bar on the chosen executor
(``--executor local|inprocess|dask``, ``--scheduler ADDRESS`` for an existing
Dask cluster). It refuses a non-empty ``--out`` unless ``--resume`` is given.
:func:`status_command` counts runs by status, live, from the result
directory, and lists batches whose files cannot be read (their runs count
as pending until ``--resume`` moves them aside and runs them again). Both raise :class:`sim.errors.InputError` for bad input, which
``consim`` turns into exit status 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from experiments.runner import default_out, parse_shard, print_outcome, run_sweep
from experiments.store import Store
from experiments.sweepfile import load_sweep
from sim.errors import InputError


def _arg(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    return getattr(args, name, default)


def sweep_command(args: argparse.Namespace) -> int:
    """Run ``consim sweep`` with parsed ``args``; returns the exit status."""
    spec = load_sweep(args.sweep_file)
    out = Path(args.out) if _arg(args, "out") else default_out(spec)
    workers = _arg(args, "workers")
    if workers is not None and workers < 1:
        raise InputError(f"--workers {workers}: allowed: an integer >= 1.")
    retries = _arg(args, "retries")
    if retries is not None and retries < 0:
        raise InputError(f"--retries {retries}: allowed: an integer >= 0.")
    scheduler = _arg(args, "scheduler")
    executor = _arg(args, "executor") or ("dask" if scheduler else "local")
    if scheduler and executor != "dask":
        raise InputError(f"--scheduler needs the dask executor; got --executor {executor}.")

    sbatch = _arg(args, "write_sbatch")
    shard_text = _arg(args, "shard")
    if sbatch:
        n_runs = spec.replications * _n_points(spec)
        if shard_text:
            shards = int(shard_text.split("/")[-1]) if shard_text.split("/")[-1].isdigit() else 0
            if shards < 1:
                raise InputError(f"--shard {shard_text!r} with --write-sbatch: allowed: N (the number of shards) or I/N.")
        else:
            shards = spec.slurm.get("shards", min(n_runs, max(1, math.ceil(n_runs / 200))))
        shards = min(shards, n_runs)
        from experiments.slurm import write_sbatch

        path = write_sbatch(sbatch, spec, args.sweep_file, out, shards, cpus=workers, retries=retries)
        print(f"wrote {path}: a Slurm job array of {shards} shards for {n_runs} runs into {out.resolve()}; "
              f"submit it with: sbatch {path}")
        return 0
    shard = parse_shard(shard_text) if shard_text else None
    if shard and scheduler:
        raise InputError("--shard and --scheduler exclude each other: a shard runs on its own node's processes.")
    outcome = run_sweep(spec, out, executor=executor, workers=workers, scheduler=scheduler,
                        resume=bool(_arg(args, "resume")), shard=shard, retries=retries,
                        progress=not _arg(args, "no_progress", False))
    print_outcome(outcome)
    return 0


def _n_points(spec: Any) -> int:
    from experiments.designs import design_points

    return len(design_points(spec))


def status_command(args: argparse.Namespace) -> int:
    """Run ``consim status DIR [--json]``; returns the exit status."""
    store = Store(args.dir).require()
    damaged = store.damaged_batches()
    runs = store.run_table(exclude={batch for batch, _, _ in damaged})
    counts = store.counts(runs)
    doc = store.sweep_doc()
    prov = store.provenance()
    failed = runs[runs["status"] == "failed"]
    sessions = prov.get("sessions", [])
    info = {
        "dir": str(store.root), "sweep": doc.get("name"), "points": doc.get("points"),
        "replications": doc.get("replications"), "total": counts["total"], "done": counts["done"],
        "failed": counts["failed"], "pending": counts["pending"], "complete": counts["done"] == counts["total"],
        "run_seconds_mean": float(runs.loc[runs["status"] == "done", "seconds"].mean()) if counts["done"] else None,
        "started": prov.get("started"), "last_finished": prov.get("finished"),
        "sessions": len(sessions),
        "failures": [{"run_id": int(r.run_id), "point_id": int(r.point_id), "replication": int(r.replication),
                      "error": r.error} for r in failed.head(20).itertuples(index=False)],
        "damaged": [{"batch": batch, "file": str(path), "error": reason} for batch, path, reason in damaged],
    }
    if _arg(args, "json"):
        print(json.dumps(info, indent=2, ensure_ascii=False))
        return 0
    print(f"{store.root}: sweep {info['sweep']!r}, {info['points']} points x {info['replications']} replications")
    width = len(str(counts["total"]))
    for label in ("done", "failed", "pending"):
        share = counts[label] / counts["total"] if counts["total"] else 0.0
        print(f"  {label:<8} {counts[label]:>{width}}  ({share:.0%})")
    print(f"  total    {counts['total']:>{width}}")
    if info["run_seconds_mean"] is not None:
        print(f"  mean run time {info['run_seconds_mean']:.2f} s; sessions {len(sessions)}; "
              f"started {info['started']}, last session ended {info['last_finished'] or '-'}")
    if damaged:
        print(f"  damaged  {len(damaged)} batch file(s) cannot be read; their runs count as pending:")
        for _, path, reason in damaged[:5]:
            print(f"    {path}: {reason}")
        print(f"  `consim sweep SWEEP.toml --out {store.root} --resume` moves them to {store.root}/damaged/ "
              "and runs their runs again.")
    if len(failed):
        print("  failures (first 5):")
        for r in failed.head(5).itertuples(index=False):
            print(f"    run {r.run_id} (point {r.point_id}, replication {r.replication}): {r.error}")
        if counts["pending"] or counts["failed"]:
            print(f"  `consim sweep SWEEP.toml --out {store.root} --resume` runs the failed and pending runs.")
    sys.stdout.flush()
    return 0
