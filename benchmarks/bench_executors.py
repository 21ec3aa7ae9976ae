"""Executor overhead per run, as a share of run time, for the sweep executors.

Usage::

    .venv/bin/python benchmarks/bench_executors.py [--runs 40] [--workers 2] [--json FILE]

Two cases: runs of a fixed duration (a sleep, so the measure does not move
when other jobs compete for the CPUs) and real baseline runs. The same sweep
runs with the in-process executor (no dispatch), local processes and a Dask
LocalCluster (chunks automatic, and one run per task), each into a fresh
result directory. Each executor is started and warmed up first (pool or
cluster, importing the model in every worker): that start-up is reported
apart, since a sweep pays it once. Overhead per run is then

    (wall time x workers - sum of the runs' own seconds) / runs

i.e. every worker-second not spent inside the run function: dispatch,
pickling, the store's Parquet writes, scheduling and the idle tail at the end.
It is reported in milliseconds and as a share of a baseline run's time.
Results are checked to be identical across executors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import experiments  # noqa: E402
from experiments.executors import make_executor  # noqa: E402
from experiments.runner import run_sweep  # noqa: E402
from experiments.sweepfile import parse_sweep  # noqa: E402

TINY = {"years": 2, "population.smes": 30, "population.anchor_firms": 2, "population.schools.secondary": 2,
        "population.schools.higher": 1, "population.schools.undergraduate": 1}


def sweep_spec(runs: int, overrides: dict, run_function: str = "sim.run:run") -> object:
    reps = max(1, runs // 4)
    data = {"name": "bench", "base": "baseline", "seed": 99, "replications": reps, "keep": "all",
            "run_function": run_function, "set": overrides,
            "vary": {"policy.subsidy.cost_share": [0.0, 0.5], "policy.platform.placement_matching": [0.0, 1.0]}}
    return parse_sweep(data, where="<bench>")


def _warm() -> int:
    import experiments.worker  # noqa: F401
    import sim.run  # noqa: F401

    return os.getpid()


def measure(spec: object, executor: str, workers: int, tmp: Path, chunk_size: int | None = None) -> dict:
    out = tmp / f"{executor}-{workers}-{chunk_size}"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    handle = make_executor(executor, workers)
    for f in [handle.executor.submit(_warm) for _ in range(2 * workers)]:
        f.result()
    startup = time.perf_counter() - t0
    try:
        t1 = time.perf_counter()
        run_sweep(spec, out, executor=executor, workers=workers, progress=False, chunk_size=chunk_size,
                  executor_handle=handle)
        wall = time.perf_counter() - t1
    finally:
        handle.close()
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["status"] == "done").all()
    n = len(runs)
    busy = float(runs["seconds"].sum())
    w = 1 if executor == "inprocess" else workers
    overhead = (wall * w - busy) / n
    return {"executor": executor, "workers": w, "chunk_size": chunk_size or "auto", "runs": n,
            "startup_s": round(startup, 2), "wall_s": round(wall, 2), "mean_run_s": round(busy / n, 4),
            "overhead_per_run_ms": round(1000 * overhead, 1), "out": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40, help="runs of the real model per executor")
    ap.add_argument("--fixed-runs", type=int, default=80, help="runs of fixed duration per executor")
    ap.add_argument("--fixed-seconds", type=float, default=0.1, help="duration of a fixed run (sleeping)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="also write the rows as JSON here")
    args = ap.parse_args()
    os.environ["CONSIM_TEST_RUN_SECONDS"] = str(args.fixed_seconds)  # read by the workers too
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        cases = [("fixed run (sleep)", sweep_spec(args.fixed_runs, TINY, "experiments.testing:slow_synthetic_run")),
                 ("baseline city, sim.run", sweep_spec(args.runs, {}))]
        for case, spec in cases:
            results = [measure(spec, "inprocess", 1, tmp),
                       measure(spec, "local", args.workers, tmp),
                       measure(spec, "dask", args.workers, tmp),
                       measure(spec, "dask", args.workers, tmp, chunk_size=1)]
            ref = experiments.load(results[0]["out"]).summary
            for r in results[1:]:
                pd.testing.assert_frame_equal(ref, experiments.load(r["out"]).summary)
            for r in results:
                r.pop("out")
                r["case"] = case
                rows.append(r)
    table = pd.DataFrame(rows)
    base_run = float(table[(table["case"].str.startswith("baseline")) & (table["executor"] == "inprocess")]["mean_run_s"].iloc[0])
    fixed = table[table["case"].str.startswith("fixed")].copy()
    fixed["share_of_baseline_run"] = (fixed["overhead_per_run_ms"] / 1000 / base_run).round(4)
    table["share_of_own_run"] = (table["overhead_per_run_ms"] / 1000 / table["mean_run_s"]).round(4)
    cols = ["case", "executor", "workers", "chunk_size", "runs", "startup_s", "wall_s", "mean_run_s", "overhead_per_run_ms",
            "share_of_own_run"]
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table[cols].to_string(index=False))
        print(f"\nmean baseline run (in-process, serial): {base_run:.3f} s")
        print("executor overhead per run, measured with fixed-duration runs (immune to CPU contention), "
              "as a share of a baseline run:")
        print(fixed[["executor", "workers", "chunk_size", "overhead_per_run_ms", "share_of_baseline_run"]].to_string(index=False))
    print("\nstartup_s: creating the executor and importing the model in every worker (paid once per sweep).")
    print("overhead per run = (wall x workers - sum of the runs' own seconds) / runs after start-up: dispatch, "
          "pickling, the store's Parquet writes and the idle tail. Results identical across executors: yes")
    if args.json:
        Path(args.json).write_text(json.dumps(rows + fixed.to_dict("records"), indent=2))


if __name__ == "__main__":
    main()
