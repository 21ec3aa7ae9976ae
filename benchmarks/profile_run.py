"""Profile one run with cProfile and print the functions that take the time, with their share.

``python benchmarks/profile_run.py`` profiles the baseline city (seed 1,
build, warm-up and recorded years); ``--size 100x`` the hundredfold city.
Two tables: by own time (where the CPU goes) and by cumulative time (which
phase of the model it belongs to), each function's share of the run. Times
are the process's CPU time (the profiler's clock), so other jobs on the
machine do not distort the shares.
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


def main(argv: list[str] | None = None) -> int:
    """Profile one run and print the two tables."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="1x", choices=list(SIZES))
    ap.add_argument("--preset", default="baseline")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--top", type=int, default=15)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
