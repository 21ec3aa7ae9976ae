"""Regenerate the golden runs in tests/data/golden_*.json.

Run after a deliberate, documented change to the model (say so in the
changelog): ``.venv/bin/python tests/make_golden.py``. The golden test
(tests/test_determinism.py) then compares every later run with these files
exactly.
"""

from __future__ import annotations

import json
import platform
import subprocess
from pathlib import Path

import numpy as np

import sim
from sim import Scenario, run

DATA = Path(__file__).resolve().parent / "data"
#: (preset, seed): the baseline and two presets that exercise other mechanisms
#: (institution effects and a policy schedule).
GOLDEN = (("baseline", 1), ("registered_entity", 1), ("subsidy_withdrawn", 2))
#: Indicators whose yearly means are stored too, to locate a change in time.
YEARLY = ("firm_participation_rate", "sme_participation_rate", "retention_rate", "subsidy_spent")


def golden_path(preset: str, seed: int) -> Path:
    """Where the golden run of ``preset`` with ``seed`` is stored."""
    return DATA / f"golden_{preset}_seed{seed}.json"


def golden_record(preset: str, seed: int) -> dict:
    """The record stored for one golden run (summary and yearly means)."""
    res = run(Scenario.load(preset), seed=seed, keep_model=False)
    yearly = res.timeseries.groupby("year")[list(YEARLY)].mean()
    return {
        "preset": preset,
        "seed": seed,
        "years": int(res.scenario.get("years")),
        "rows": len(res.timeseries),
        "summary": res.summary,
        "yearly_means": {name: yearly[name].tolist() for name in YEARLY},
    }


def main() -> None:
    """Write every golden file."""
    DATA.mkdir(exist_ok=True)
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                                cwd=DATA).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    for preset, seed in GOLDEN:
        rec = golden_record(preset, seed)
        rec["generated_with"] = {"sim": sim.__version__, "commit": commit, "numpy": np.__version__,
                                 "python": platform.python_version()}
        golden_path(preset, seed).write_text(json.dumps(rec, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {golden_path(preset, seed)}")


if __name__ == "__main__":
    main()
