"""Stand-in run functions for testing the sweep machinery without the model.

Design note
-----------
Each function has ``sim.run``'s signature ``(scenario, seed) -> result`` and
returns an object with ``summary`` (every indicator), ``timeseries`` (``step``,
``year`` and every indicator) and ``seconds``. Values are a deterministic
function of the scenario and the seed (drawn from
``numpy.random.default_rng(seed)``), so the same run gives the same numbers in
any process. Name one in a sweep file (``run_function =
"experiments.testing:synthetic_run"``) or pass it to
:meth:`experiments.Sweep.run`. They are for tests and for checking a cluster
set-up, not for research.
"""

from __future__ import annotations

import os
import signal
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.indicators import NAMES as INDICATOR_NAMES
from sim.scenario import Scenario

STEPS_PER_YEAR = 12


@dataclass
class SyntheticResult:
    """What a stand-in run returns (the fields of ``sim.Result`` that sweeps use)."""

    summary: dict[str, float]
    timeseries: pd.DataFrame
    seconds: float = 0.0
    model: Any = field(default=None, repr=False)


def synthetic_run(scenario: Scenario, seed: int) -> SyntheticResult:
    """A fast deterministic stand-in for ``sim.run``: numbers from the scenario and seed."""
    t0 = time.perf_counter()
    years = int(scenario.get("years"))
    key = zlib.crc32(scenario.to_toml().encode("utf-8"))
    rng = np.random.default_rng([seed, key])
    steps = years * STEPS_PER_YEAR
    lift = 0.3 * scenario.get("policy.subsidy.cost_share") + 0.2 * scenario.get("policy.platform.placement_matching")
    data: dict[str, Any] = {"step": np.arange(1, steps + 1), "year": np.repeat(np.arange(1, years + 1), STEPS_PER_YEAR)}
    for name in INDICATOR_NAMES:
        data[name] = np.clip(0.2 + lift + 0.05 * rng.standard_normal(steps), 0, None)
    ts = pd.DataFrame(data)
    final = ts[ts["year"] == years]
    summary = {name: float(final[name].mean()) for name in INDICATOR_NAMES}
    return SyntheticResult(summary, ts, time.perf_counter() - t0)


def slow_synthetic_run(scenario: Scenario, seed: int) -> SyntheticResult:
    """:func:`synthetic_run` that takes about ``CONSIM_TEST_RUN_SECONDS`` (default 0.05 s) of Python time."""
    end = time.perf_counter() + float(os.environ.get("CONSIM_TEST_RUN_SECONDS", "0.05"))
    while time.perf_counter() < end:
        time.sleep(0.005)
    return synthetic_run(scenario, seed)


def failing_run(scenario: Scenario, seed: int) -> SyntheticResult:
    """:func:`synthetic_run`, but raises ``RuntimeError`` when ``policy.subsidy.cost_share`` is 0.5."""
    if scenario.get("policy.subsidy.cost_share") == 0.5:
        raise RuntimeError(f"synthetic failure at cost_share 0.5 (seed {seed})")
    return synthetic_run(scenario, seed)


def crashing_run(scenario: Scenario, seed: int) -> SyntheticResult:
    """:func:`synthetic_run`, but kills its own process (SIGKILL) when ``policy.subsidy.cost_share`` is 0.5.

    Never use it with the in-process executor.
    """
    if scenario.get("policy.subsidy.cost_share") == 0.5:
        os.kill(os.getpid(), signal.SIGKILL)
    return synthetic_run(scenario, seed)


def hanging_run(scenario: Scenario, seed: int) -> SyntheticResult:
    """:func:`synthetic_run`, but loops for 60 s when ``policy.subsidy.cost_share`` is 0.5 (time-limit tests)."""
    if scenario.get("policy.subsidy.cost_share") == 0.5:
        end = time.perf_counter() + 60
        while time.perf_counter() < end:
            time.sleep(0.01)
    return synthetic_run(scenario, seed)
