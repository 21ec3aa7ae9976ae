"""Executor overhead per run, as a share of run time, for the sweep executors.

Usage::

    .venv/bin/python benchmarks/bench_executors.py [--runs 40] [--workers 2] [--json FILE]

Two parts: real baseline runs, and runs of a fixed duration (a sleep) at two
sweep sizes, whose difference gives the marginal overhead of one more run
without the fixed costs of a sweep. The same sweep
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
    bad = runs[runs["status"] != "done"]
    assert bad.empty, f"{executor}: {len(bad)} runs not done, e.g. {bad['error'].iloc[0]}"
    n = len(runs)
    busy = float(runs["seconds"].sum())
    w = 1 if executor == "inprocess" else workers
    overhead = (wall * w - busy) / n
    return {"executor": executor, "workers": w, "chunk_size": chunk_size or "auto", "runs": n,
            "startup_s": round(startup, 2), "wall_s": round(wall, 2), "mean_run_s": round(busy / n, 4),
            "overhead_per_run_ms": round(1000 * overhead, 1), "out": out}


EXECUTORS = [("inprocess", None), ("local", None), ("dask", None), ("dask", 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=40, help="runs of the real model per executor")
    ap.add_argument("--fixed-runs", type=int, default=40, help="runs of fixed duration (and twice as many)")
    ap.add_argument("--fixed-seconds", type=float, default=0.1, help="duration of a fixed run (sleeping)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="also write the rows as JSON here")
    args = ap.parse_args()
    os.environ["CONSIM_TEST_RUN_SECONDS"] = str(args.fixed_seconds)  # read by the workers too
    rows, fixed_rows = [], []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        # 1. real baseline runs: wall time, and identical results on every executor
        spec = sweep_spec(args.runs, {})
        results = [measure(spec, ex, args.workers, tmp, chunk) for ex, chunk in EXECUTORS]
        ref = experiments.load(results[0]["out"]).summary
        for r in results:
            pd.testing.assert_frame_equal(ref, experiments.load(r.pop("out")).summary)
            r["overhead_share_of_run"] = round(r["overhead_per_run_ms"] / 1000 / r["mean_run_s"], 4)
            rows.append(r)
        base_run = results[0]["mean_run_s"]
        # 2. fixed-duration runs at two sizes: the marginal overhead of one more run
        small = sweep_spec(args.fixed_runs, TINY, "experiments.testing:slow_synthetic_run")
        large = sweep_spec(2 * args.fixed_runs, TINY, "experiments.testing:slow_synthetic_run")
        for ex, chunk in EXECUTORS:
            a_, b_ = measure(small, ex, args.workers, tmp, chunk), measure(large, ex, args.workers, tmp, chunk)
            w = a_["workers"]
            busy_a, busy_b = a_["mean_run_s"] * a_["runs"], b_["mean_run_s"] * b_["runs"]
            marginal = ((b_["wall_s"] - a_["wall_s"]) * w - (busy_b - busy_a)) / (b_["runs"] - a_["runs"])
            fixed_cost = a_["wall_s"] - (busy_a + a_["runs"] * marginal) / w
            fixed_rows.append({"executor": ex, "workers": w, "chunk_size": chunk or "auto",
                               "startup_s": a_["startup_s"], "per_sweep_s": round(fixed_cost, 2),
                               "overhead_per_run_ms": round(1000 * marginal, 1),
                               "share_of_baseline_run": round(marginal / base_run, 4)})
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(f"Real baseline runs ({args.runs} per executor, {args.workers} workers); results identical: yes")
        print(pd.DataFrame(rows).to_string(index=False))
        print(f"\nExecutor overhead per run (marginal, from {args.fixed_runs} vs {2 * args.fixed_runs} runs of "
              f"{args.fixed_seconds} s), as a share of a baseline run ({base_run:.3f} s, in-process):")
        print(pd.DataFrame(fixed_rows).to_string(index=False))
    print("\nstartup_s: starting the pool or cluster and importing the model in every worker (once per sweep);")
    print("per_sweep_s: the rest of the fixed cost of a sweep (plan, store set-up, git and provenance, final runs.parquet);")
    print("overhead_per_run_ms: worker-seconds per run not spent in the run (dispatch, pickling, Parquet batches, scheduling).")
    if args.json:
        Path(args.json).write_text(json.dumps({"real": rows, "marginal": fixed_rows}, indent=2))


if __name__ == "__main__":
    main()
