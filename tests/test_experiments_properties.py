"""Property: however a sweep is chunked and wherever it is interrupted, resuming gives the same results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import experiments
from experiments.runner import run_sweep
from experiments.sweepfile import parse_sweep
from experiments.testing import synthetic_run

SPEC = parse_sweep({"base": "baseline", "seed": 77, "replications": 3, "years": 1,
                    "run_function": "experiments.testing:synthetic_run",
                    "vary": {"policy.subsidy.cost_share": [0.0, 0.3, 0.6, 0.9]}})


class Interrupt(KeyboardInterrupt):
    """Stands in for a kill at a chosen run."""


def interrupting_after(n: int):
    count = {"runs": 0}

    def run(scenario, seed):
        count["runs"] += 1
        if count["runs"] > n:
            raise Interrupt
        return synthetic_run(scenario, seed)

    return run


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunk=st.integers(1, 7), resume_chunk=st.integers(1, 7), stop_after=st.integers(0, 11))
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path_factory, chunk, resume_chunk, stop_after):
    tmp = Path(tmp_path_factory.mktemp("prop"))
    run_sweep(SPEC, tmp / "whole", executor="inprocess", progress=False, chunk_size=chunk)
    try:
        run_sweep(SPEC, tmp / "cut", executor="inprocess", progress=False, chunk_size=chunk,
                  run_callable=interrupting_after(stop_after))
    except Interrupt:
        pass
    partial = experiments.load(tmp / "cut").counts()
    assert partial["done"] <= stop_after and partial["done"] % min(chunk, 12) == 0 or partial["done"] == 12
    run_sweep(SPEC, tmp / "cut", executor="inprocess", progress=False, chunk_size=resume_chunk, resume=True)
    a, b = experiments.load(tmp / "whole"), experiments.load(tmp / "cut")
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert b.complete
