"""Golden-run check: optimisations must not change results.

``python benchmarks/golden_check.py --record`` stores, in
``benchmarks/golden_before.json``, the exact summary (every indicator, as the
float's ``repr``), a SHA-256 of the whole monthly time series and the
model's diagnostics for baseline seeds 1-3 and two other presets.
``python benchmarks/golden_check.py`` re-runs them and reports every value
that is not bit-identical (exit status 1 if any differs).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden_before.json"
#: (preset, seed) pairs checked: baseline seeds 1-3, presets that exercise other code paths
#: (claims and payments, pay ladders, search beyond ties) and the baseline city at 10x
CASES = [("baseline", 1), ("baseline", 2), ("baseline", 3), ("subsidy", 1), ("credential_ladder", 1),
         ("matching_platform", 1), ("baseline@10x", 1)]
#: Keys multiplied by the scale factor of a ``preset@Nx`` case (cohorts per school unchanged)
SCALED_KEYS = ("population.smes", "population.anchor_firms", "population.schools.secondary",
               "population.schools.higher", "population.schools.undergraduate")


def scenario_for(case: str):
    """The scenario of ``preset`` or ``preset@Nx`` (firms and schools multiplied by N)."""
    from sim.scenario import Scenario

    preset, _, scale = case.partition("@")
    sc = Scenario.load(preset)
    if scale:
        f = int(scale.rstrip("x"))
        sc = sc.with_overrides({k: sc.get(k) * f for k in SCALED_KEYS})
    return sc


def _fingerprint(preset: str, seed: int) -> dict:
    from sim.run import run

    res = run(scenario_for(preset), seed)
    ts = res.timeseries
    h = hashlib.sha256()
    for col in ts.columns:
        h.update(col.encode())
        h.update(np.ascontiguousarray(ts[col].to_numpy()).tobytes())
    diag = res.model.diagnostics()
    return {
        "summary": {k: repr(float(v)) for k, v in res.summary.items()},
        "timeseries_sha256": h.hexdigest(),
        "rows": int(len(ts)),
        "diagnostics": {k: repr(float(v)) for k, v in diag.items()},
        "seconds": res.seconds,
    }


def _same(a: str, b: str) -> bool:
    fa, fb = float(a), float(b)
    return a == b or (math.isnan(fa) and math.isnan(fb))


def main(argv: list[str] | None = None) -> int:
    """Record (``--record``) or check the golden runs; returns the exit status."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--record", action="store_true", help="overwrite golden_before.json with the current results")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    now = {f"{p}:{s}": _fingerprint(p, s) for p, s in CASES}
    if args.record:
        doc = {k: {kk: vv for kk, vv in v.items() if kk != "seconds"} for k, v in now.items()}
        GOLDEN.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
        print(f"recorded {len(now)} golden runs in {GOLDEN} ({time.perf_counter() - t0:.1f} s)")
        return 0
    gold = json.loads(GOLDEN.read_text())
    bad = 0
    for key, cur in now.items():
        ref = gold[key]
        diffs = [f"{part}.{name}: {ref[part][name]} -> {cur[part][name]}"
                 for part in ("summary", "diagnostics") for name in ref[part]
                 if not _same(ref[part][name], cur[part].get(name, "nan"))]
        if ref["timeseries_sha256"] != cur["timeseries_sha256"] or ref["rows"] != cur["rows"]:
            diffs.append("timeseries differs")
        status = "identical" if not diffs else "DIFFERENT"
        print(f"{key:24s} {status}  ({cur['seconds']:.2f} s)")
        for d in diffs:
            print("    " + d)
        bad += bool(diffs)
    print(f"{len(now) - bad}/{len(now)} golden runs bit-identical ({time.perf_counter() - t0:.1f} s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
