"""Scale benchmark: the model against an empty Mesa loop, at the baseline city, 10x and 100x.

Run ``python benchmarks/bench_scale.py`` (all sizes; the 100x city takes a
minute or two) or ``--sizes 1x,10x`` for a quick look. Every size runs in a
fresh subprocess and prints, side by side:

* the model's time per run (build, warm-up and recorded years, as
  :func:`sim.run` does) and per agent-step, as CPU seconds of the process
  (less disturbed than wall time on a shared machine; wall time is shown too);
* an empty Mesa model with the same number of agents (schools, firms,
  government, consortium) and the same number of steps (warm-up included),
  whose agents do nothing, stepped with ``shuffle_do("step")``; and the ratio
  model / empty;
* peak memory: the process's peak resident set (``ru_maxrss``, what the 4 GiB
  target is about) and the model's own peak allocation traced by
  ``tracemalloc`` (a separate traced run; the scaling exponent of memory uses it,
  because the interpreter and libraries are a constant ~150 MiB of the RSS);
* the scaling exponents of time and memory against size (the slope of
  log cost against log size between each pair of sizes);
* a second comparison, *not* the issue's target: an empty Mesa model with as
  many agents as the individuals the model simulates on average per step
  (its Mesa agents + enrolled students + tracked graduates; students and
  graduates are array rows, not Mesa agents), and the ratio model / that
  loop, i.e. what the run costs per simulated individual. Above
  ``INDIVIDUALS_CAP`` agents that loop is measured with ``INDIVIDUALS_CAP``
  agents and fewer steps and scaled linearly to the individuals and 144 steps
  (the empty loop's time exponent is 1.03); the table marks such rows.

* once per process, outside those times: the import of ``sim.model`` and the
  first run's extra cost (loading the compiled kernels from numba's on-disk
  cache; ``--cold-cache`` empties the cache so it shows the compile time).

Then the targets, PASS or FAIL: the baseline run costs at most 2x the empty
loop; time and memory exponents from 1x to 100x at most 1.1; the 100x city
within 4 GiB. ``--json FILE`` also writes the measurements.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Named sizes: the factor that multiplies the baseline's firms and schools (students follow the schools).
SIZES = {"1x": 1, "10x": 10, "100x": 100}
#: Scenario keys multiplied by the size factor (cohort sizes per school unchanged).
SCALED_KEYS = ("population.smes", "population.anchor_firms", "population.schools.secondary",
               "population.schools.higher", "population.schools.undergraduate")
MAX_RATIO = 2.0
MAX_EXPONENT = 1.1
MAX_MEMORY_GIB = 4.0
#: Most Mesa agents built for the per-individual comparison (more are extrapolated linearly).
INDIVIDUALS_CAP = 300_000
#: Agent-steps the per-individual empty loop runs at most (fewer steps for many agents, scaled up).
INDIVIDUAL_AGENT_STEPS = 4_000_000


def scenario(factor: int, preset: str = "baseline"):
    """The preset with its firms and schools multiplied by ``factor``."""
    from sim.scenario import Scenario

    sc = Scenario.load(preset)
    return sc.with_overrides({k: sc.get(k) * factor for k in SCALED_KEYS}) if factor != 1 else sc


def _empty_mesa(n_agents: int, steps: int, seed: int) -> float:
    """CPU seconds to build and step an empty Mesa model (agents doing nothing, ``shuffle_do``)."""
    from mesa import Agent, Model

    class Idle(Agent):
        def step(self) -> None:
            pass

    class Empty(Model):
        def __init__(self) -> None:
            super().__init__(rng=seed)
            for _ in range(n_agents):
                Idle(self)

        def step(self) -> None:
            self.agents.shuffle_do("step")

    t0 = time.process_time()
    m = Empty()
    for _ in range(steps):
        m.step()
    return time.process_time() - t0


def _empty_mesa_individuals(n_individuals: int, steps: int, seed: int) -> dict:
    """CPU seconds of an empty Mesa model with ``n_individuals`` agents over ``steps`` steps (maybe extrapolated)."""
    from mesa import Agent, Model

    class Idle(Agent):
        def step(self) -> None:
            pass

    n = min(n_individuals, INDIVIDUALS_CAP)
    k = max(2, min(steps, INDIVIDUAL_AGENT_STEPS // max(n, 1)))
    t0 = time.process_time()
    m = Model(rng=seed)
    for _ in range(n):
        Idle(m)
    build = time.process_time() - t0
    t0 = time.process_time()
    for _ in range(k):
        m.agents.shuffle_do("step")
    per_step = (time.process_time() - t0) / k
    scale = n_individuals / n
    return {"individuals_empty_cpu": (build + per_step * steps) * scale, "individuals_measured_agents": n,
            "individuals_measured_steps": k, "individuals_extrapolated": bool(n < n_individuals or k < steps)}


def _count_individuals(factor: int, preset: str, seed: int) -> float:
    """Mean over all steps (warm-up included) of Mesa agents + enrolled students + tracked graduates."""
    from sim.model import ConsortiumModel

    class Counting(ConsortiumModel):
        def step(self) -> None:
            super().step()
            self.__dict__.setdefault("_bench_individuals", []).append(
                len(self.agents) + self.enrolment.in_school + len(self.graduates))

    model = Counting(scenario(factor, preset), seed=seed)
    model.run_to_end()
    counts = model.__dict__["_bench_individuals"]
    return sum(counts) / len(counts)


def _run_model(factor: int, preset: str, seed: int) -> dict:
    from sim.model import ConsortiumModel
    from sim.run import summarise

    sc = scenario(factor, preset)
    w0, c0 = time.perf_counter(), time.process_time()
    model = ConsortiumModel(sc, seed=seed)
    c_build = time.process_time() - c0
    model.run_to_end()
    summarise(model.timeseries(), sc.get("years"))
    return {"cpu": time.process_time() - c0, "wall": time.perf_counter() - w0, "build_cpu": c_build,
            "agents": len(model.agents), "steps": int(model.steps), "firms": model.firm_state.n,
            "schools": model.school_state.n, "students": int(model.enrolment.entered),
            "ties": len(model.ties)}


def measure(size: str, preset: str, seed: int, repeats: int, trace: bool) -> dict:
    """One size, in this process: model and empty-loop times (best of ``repeats``), peak memory."""
    import resource

    factor = SIZES[size]
    c0 = time.process_time()
    import sim.model  # noqa: F401 - the one-off import cost (numpy, Mesa, numba, ...), reported apart

    import_cpu = time.process_time() - c0
    runs = [_run_model(factor, preset, seed) for _ in range(repeats)]
    best = min(runs, key=lambda r: r["cpu"])
    empty = min(_empty_mesa(best["agents"], best["steps"], seed) for _ in range(repeats))
    out = dict(best, size=size, factor=factor, empty_cpu=empty, import_cpu=import_cpu, first_cpu=runs[0]["cpu"],
               rss_peak_mib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if trace:
        import tracemalloc

        tracemalloc.start()
        _run_model(factor, preset, seed)
        out["traced_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    # second comparison (not the target), after the peak RSS was read: it builds many agents
    out["individuals"] = _count_individuals(factor, preset, seed)
    out.update(_empty_mesa_individuals(round(out["individuals"]), best["steps"], seed))
    return out


def _slope(xs: list[float], ys: list[float]) -> float:
    return (math.log(ys[-1]) - math.log(ys[0])) / (math.log(xs[-1]) - math.log(xs[0]))


def report(rows: list[dict]) -> list[tuple[str, bool, str]]:
    """Print the table and the targets; returns ``(target, passed, detail)`` triples."""
    print(f"{'size':>5} {'agents':>7} {'steps':>5} {'firms':>6} {'schools':>7} {'students':>9} {'ties':>8} | "
          f"{'model s':>8} {'(wall)':>7} {'us/ag-st':>8} | {'empty s':>8} {'us/ag-st':>8} | {'ratio':>5} | "
          f"{'RSS MiB':>8} {'traced MiB':>10}")
    for r in rows:
        ags = r["agents"] * r["steps"]
        print(f"{r['size']:>5} {r['agents']:>7} {r['steps']:>5} {r['firms']:>6} {r['schools']:>7} {r['students']:>9} "
              f"{r['ties']:>8} | {r['cpu']:>8.3f} {r['wall']:>7.2f} {1e6 * r['cpu'] / ags:>8.2f} | "
              f"{r['empty_cpu']:>8.3f} {1e6 * r['empty_cpu'] / ags:>8.2f} | {r['cpu'] / r['empty_cpu']:>5.2f} | "
              f"{r['rss_peak_mib']:>8.0f} {r.get('traced_peak_mib', float('nan')):>10.1f}")
    print("\nissue target: the ratio above (model vs an empty Mesa loop with the model's own Mesa agents).")
    if all("first_cpu" in r for r in rows):
        print("once per process, not in the times above: importing sim.model (numpy, Mesa, numba...) and the first run,"
              "\nwhich loads the compiled kernels from numba's on-disk cache (or compiles them if the cache is empty,"
              "\nsee --cold-cache):")
        for r in rows:
            print(f"{r['size']:>5} import {r['import_cpu']:.3f} s, first run {r['first_cpu']:.3f} s "
                  f"(+{r['first_cpu'] - r['cpu']:.3f} s over the best run)")
    if all("individuals" in r for r in rows):
        print("\nsecond comparison, per simulated individual (NOT the issue's target): an empty Mesa loop with as many"
              "\nagents as the individuals simulated per step on average (Mesa agents + enrolled students + tracked"
              "\ngraduates), same steps")
        print(f"{'size':>5} {'individuals':>11} | {'model s':>8} {'us/ind-st':>9} | {'empty s':>8} {'us/ag-st':>8} | "
              f"{'ratio':>6}")
        for r in rows:
            ind_steps = r["individuals"] * r["steps"]
            mark = "*" if r["individuals_extrapolated"] else " "
            print(f"{r['size']:>5} {r['individuals']:>11,.0f} | {r['cpu']:>8.3f} {1e6 * r['cpu'] / ind_steps:>9.3f} | "
                  f"{r['individuals_empty_cpu']:>7.2f}{mark} {1e6 * r['individuals_empty_cpu'] / ind_steps:>8.2f} | "
                  f"{r['cpu'] / r['individuals_empty_cpu']:>6.3f}")
        if any(r["individuals_extrapolated"] for r in rows):
            print(f"  * measured with at most {INDIVIDUALS_CAP:,} agents and {INDIVIDUAL_AGENT_STEPS:,} agent-steps, "
                  "scaled linearly to the individuals and steps")
    results: list[tuple[str, bool, str]] = []
    if len(rows) > 1:
        print("\nscaling exponents (d log cost / d log size):")
        for a, b in zip(rows, rows[1:], strict=False):
            xs = [a["factor"], b["factor"]]
            line = f"  {a['size']:>4} -> {b['size']:<4} time {_slope(xs, [a['cpu'], b['cpu']]):.3f}"
            if "traced_peak_mib" in a and "traced_peak_mib" in b:
                line += f"  memory {_slope(xs, [a['traced_peak_mib'], b['traced_peak_mib']]):.3f}"
            line += f"  empty-loop time {_slope(xs, [a['empty_cpu'], b['empty_cpu']]):.3f}"
            print(line)
    by = {r["size"]: r for r in rows}
    if "1x" in by:
        ratio = by["1x"]["cpu"] / by["1x"]["empty_cpu"]
        results.append((f"baseline run <= {MAX_RATIO:g}x the empty Mesa loop", ratio <= MAX_RATIO, f"ratio {ratio:.2f}"))
    if "1x" in by and "100x" in by:
        a, b = by["1x"], by["100x"]
        e_t = _slope([1, 100], [a["cpu"], b["cpu"]])
        results.append((f"time exponent 1x->100x <= {MAX_EXPONENT}", e_t <= MAX_EXPONENT, f"{e_t:.3f}"))
        if "traced_peak_mib" in a and "traced_peak_mib" in b:
            e_m = _slope([1, 100], [a["traced_peak_mib"], b["traced_peak_mib"]])
            results.append((f"memory exponent 1x->100x <= {MAX_EXPONENT}", e_m <= MAX_EXPONENT, f"{e_m:.3f}"))
    if "100x" in by:
        gib = by["100x"]["rss_peak_mib"] / 1024
        results.append((f"100x city within {MAX_MEMORY_GIB:g} GiB", gib <= MAX_MEMORY_GIB, f"peak RSS {gib:.2f} GiB"))
    print("\ntargets:")
    for name, ok, detail in results:
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {detail}")
    return results


def main(argv: list[str] | None = None) -> int:
    """Measure the requested sizes (each in a fresh subprocess), print the table and targets."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1x,10x,100x", help="comma-separated, from: " + ", ".join(SIZES))
    ap.add_argument("--preset", default="baseline")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=0, help="runs per size, best kept (default: 5 / 2 / 1 by size)")
    ap.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run (no memory exponent)")
    ap.add_argument("--json", help="also write the measurements to this file")
    ap.add_argument("--cold-cache", action="store_true",
                    help="give the children an empty numba cache (NUMBA_CACHE_DIR in a temporary directory), so the "
                         "first run includes compiling the kernels")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:  # one size, in this process
        rep = args.repeats or {1: 5, 10: 2}.get(SIZES[args.child], 1)
        print(json.dumps(measure(args.child, args.preset, args.seed, rep, not args.no_trace)))
        return 0
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        print(f"--sizes: {', '.join(unknown)} not allowed; allowed: {', '.join(SIZES)}", file=sys.stderr)
        return 2
    import os
    import tempfile

    env = dict(os.environ)
    cold = tempfile.TemporaryDirectory(prefix="numba-cache-") if args.cold_cache else None
    rows = []
    for size in sizes:
        if cold is not None:  # a fresh, empty cache for every size
            env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(dir=cold.name)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", size, "--preset", args.preset,
               "--seed", str(args.seed), "--repeats", str(args.repeats)] + (["--no-trace"] if args.no_trace else [])
        t0 = time.perf_counter()
        out = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return 1
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"[{size} measured in {time.perf_counter() - t0:.0f} s]", file=sys.stderr)
    import platform

    print(f"consortium-sim scale benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}, preset {args.preset}, "
          f"seed {args.seed}; times are process CPU seconds per run, best of repeats\n")
    results = report(rows)
    if args.json:
        Path(args.json).write_text(json.dumps({"rows": rows, "targets": [list(r) for r in results]}, indent=1))
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
