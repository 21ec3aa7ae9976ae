"""Profile one run with cProfile and print the functions that take the time, with their share.

``python benchmarks/profile_run.py`` profiles the baseline city (seed 1,
build, warm-up and recorded years); ``--size 100x`` the hundredfold city.
Two tables: by own time (where the CPU goes) and by cumulative time (which
phase of the model it belongs to), each function's share of the run. Times
are the process's CPU time (the profiler's clock), so other jobs on the
machine do not distort the shares. The compiled kernels (``sim/kernels/``)
are invisible to cProfile: their time counts as their caller's own time.

A third table times the model's phases without the profiler (its overhead
per Python call distorts a run made of few, cheap calls): each phase method
is wrapped in a CPU-time counter, best of ``--repeats`` runs; indented rows
are part of the row above.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale import SIZES, scenario  # noqa: E402


def _short(func: tuple[str, int, str]) -> str:
    path, line, name = func
    if path == "~":
        return name
    parts = Path(path).parts
    for anchor in ("site-packages", "sim", "lib"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return f"{'/'.join(parts[i + (anchor == 'site-packages'):])}:{line}({name})"
    return f"{Path(path).name}:{line}({name})"


#: (label, owner, method, nested): the model's phases, in the order of a year; nested rows are inside the row before
PHASES = [
    ("build: population", "model", "_build_population", False),
    ("build: network", "model", "_build_network", False),
    ("September (start of year)", "model", "_start_year", False),
    ("firm decisions", "firms", "decide", True),
    ("beliefs", "model", "_update_beliefs", True),
    ("partnership ties", "model", "_update_ties", True),
    ("placement round", "model", "_placement_round", False),
    ("placement months", "model", "_placement_month", False),
    ("joint projects", "model", "_run_projects", False),
    ("government payments", "government", "step", False),
    ("June (graduation)", "model", "_graduation", False),
    ("hiring", "model", "_hire_graduates", True),
    ("turnover", "model", "_turnover", False),
    ("indicators", "model", "_update_indicators", False),
    ("data collection", "collector", "collect", False),
]
#: What run() does after the last step (time series frame and summary), timed by repeating it on the finished model
AFTER_RUN = "time series + summary"


def phase_times(sc, seed: int, repeats: int) -> tuple[float, list[tuple[str, bool, float, int]]]:
    """CPU seconds of a whole run (build to summary) and of each phase in ``PHASES``, best of ``repeats`` runs."""
    import collections

    import sim.model as sm
    from sim import government
    from sim.run import run

    owners = {"model": sm.ConsortiumModel, "government": government.Government, "collector": sm._IndicatorCollector}
    acc: dict[str, float] = collections.defaultdict(float)
    calls: collections.Counter = collections.Counter()
    saved = []

    def timed(key, f):
        def wrapper(*a, **k):
            t = time.process_time()
            try:
                return f(*a, **k)
            finally:
                acc[key] += time.process_time() - t
                calls[key] += 1
        return wrapper

    for label, owner, name, _ in PHASES:
        if owner == "firms":  # a module function, looked up by the model module
            saved.append((sm, name, getattr(sm, name)))
            setattr(sm, name, timed(label, getattr(sm, name)))
        elif hasattr(owners[owner], name):
            cls = owners[owner]
            saved.append((cls, name, cls.__dict__[name]))
            setattr(cls, name, timed(label, getattr(cls, name)))
    best = None
    try:
        for _ in range(repeats):
            acc.clear()
            calls.clear()
            t0 = time.process_time()
            res = run(sc, seed)
            from sim.run import summarise

            t1 = time.process_time()
            summarise(res.model.timeseries(), sc.get("years"))  # what run() adds after the last step, timed apart
            acc[AFTER_RUN] = time.process_time() - t1
            calls[AFTER_RUN] = 1
            total = t1 - t0
            if best is None or total < best[0]:
                best = (total, dict(acc), dict(calls))
    finally:
        for owner, name, f in saved:
            setattr(owner, name, f)
    total, a, c = best
    return total, [(label, nested, a.get(label, 0.0), c.get(label, 0)) for label, _, _, nested in PHASES
                   if label in a] + [(AFTER_RUN, False, a[AFTER_RUN], 1)]


def main(argv: list[str] | None = None) -> int:
    """Profile one run and print the two tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1x", choices=list(SIZES))
    ap.add_argument("--preset", default="baseline")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--top", type=int, default=15)
    ap.add_argument("--repeats", type=int, default=6, help="runs for the phase table, best kept")
    args = ap.parse_args(argv)
    from sim.run import run

    sc = scenario(SIZES[args.size], args.preset)
    run(sc, args.seed)  # imports and first-call costs out of the way
    prof = cProfile.Profile(time.process_time)  # CPU time: a busy shared machine does not distort the shares
    t0 = time.process_time()
    prof.enable()
    run(sc, args.seed)
    prof.disable()
    cpu = time.process_time() - t0
    st = pstats.Stats(prof)
    total = sum(v[2] for v in st.stats.values())  # own times add up to the run
    print(f"{args.preset} at {args.size}, seed {args.seed}: {cpu:.3f} CPU s under the profiler")
    for title, col in (("own time", 2), ("cumulative time", 3)):
        print(f"\ntop {args.top} by {title}:")
        rows = sorted(st.stats.items(), key=lambda kv: kv[1][col], reverse=True)[:args.top]
        for func, v in rows:
            print(f"  {100 * v[col] / total:5.1f}%  {v[col]:8.3f} s  {v[1]:>8} calls  {_short(func)}")
    run_cpu, phases = phase_times(sc, args.seed, args.repeats)
    print(f"\nby phase, without the profiler (CPU ms per run, best of {args.repeats}; a whole run {1e3 * run_cpu:.1f} ms):")
    top_level = 0.0
    for label, nested, sec, n in phases:
        top_level += 0.0 if nested else sec
        indent = "    " if nested else "  "
        print(f"{indent}{label:<30} {1e3 * sec:8.2f} ms {100 * sec / run_cpu:5.1f}%  {n:>5} calls")
    print(f"  {'other (step, Mesa, agents, ...)':<30} {1e3 * (run_cpu - top_level):8.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
