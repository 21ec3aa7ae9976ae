"""``sim.run``: one scenario, one seed, one result.

Design note
-----------
:func:`run` builds a :class:`sim.model.ConsortiumModel`, steps it month by
month for ``years * 12`` steps and returns a :class:`Result` with the run's
summary (every indicator of :mod:`sim.indicators`), its monthly time series
and the finished model. The same scenario and seed give identical results:
all randomness flows from the model's generator, seeded from ``seed``.
:func:`write_result` writes ``summary.json``, ``timeseries.parquet`` and the
resolved ``scenario.toml`` atomically (temporary file, then rename).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.atomic import atomic_write_bytes
from sim.indicators import BY_NAME, NAMES
from sim.scenario import Scenario

STEPS_PER_YEAR = 12
_FLOAT64, _INT64 = np.dtype(np.float64), np.dtype(np.int64)


@dataclass
class Result:
    """Outcome of one run."""

    scenario: Scenario
    seed: int
    summary: dict[str, float]
    timeseries: pd.DataFrame
    model: Any = field(repr=False, default=None)
    seconds: float = 0.0


def summarise(timeseries: pd.DataFrame, years: int) -> dict[str, float]:
    """Summary of a run: every indicator's mean over the final simulated year.

    Yearly flows are stored as annualised monthly rates, so their final-year
    mean is the final year's total (see :mod:`sim.indicators`). Each mean is
    computed as pandas' ``Series.mean`` computes it (NaN skipped: the sum with
    NaN as 0, over the count of the others), on one numpy array of the frame.
    """
    position = {name: i for i, name in enumerate(timeseries.columns.tolist())}
    cols = [position.get(name, -1) for name in NAMES]
    dtypes = timeseries.dtypes.tolist()
    year = position.get("year", -1)
    if min(cols) < 0 or len(position) < len(dtypes) or year < 0 or dtypes[year] != _INT64 \
            or any(dtypes[i] != _FLOAT64 for i in cols):
        final = timeseries[timeseries["year"] == years]
        return {name: float(final[name].mean()) for name in NAMES}
    values = timeseries.to_numpy(dtype=np.float64)  # the int64 years exactly, as floats
    final = np.ascontiguousarray(values[values[:, year] == years][:, cols].T)  # one row per indicator
    n = final.shape[1]
    nan = np.isnan(final)
    if n and not nan.any():  # each row's sum is numpy's pairwise sum of that contiguous row, as Series.sum's
        return dict(zip(NAMES, (np.add.reduce(final, axis=1) / n).tolist(), strict=True))
    out = {}
    for name, x, x_nan in zip(NAMES, final, nan, strict=True):
        count = n - int(np.count_nonzero(x_nan))
        if count < n:
            x = np.where(x_nan, 0.0, x)
        out[name] = float(np.add.reduce(x) / count) if count else float("nan")
    return out


def run(scenario: Scenario | str, seed: int = 1, *, keep_model: bool = True) -> Result:
    """Run ``scenario`` (a Scenario, preset name or path) with ``seed``."""
    from sim.model import ConsortiumModel

    if not isinstance(scenario, Scenario):
        scenario = Scenario.load(scenario)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        from sim.errors import InputError

        raise InputError(f"seed: value {seed!r} is not allowed; allowed: an integer >= 0.")
    t0 = time.perf_counter()
    model = ConsortiumModel(scenario, seed=seed)
    model.run_to_end()
    ts = model.timeseries()
    summary = summarise(ts, scenario.get("years"))
    seconds = time.perf_counter() - t0
    return Result(scenario=scenario, seed=seed, summary=summary, timeseries=ts,
                  model=model if keep_model else None, seconds=seconds)


def write_result(res: Result, out: str | os.PathLike[str]) -> None:
    """Write ``summary.json``, ``timeseries.parquet`` and ``scenario.toml`` into ``out``."""
    import io

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary = dict(res.summary)
    doc = {"seed": res.seed, "scenario": res.scenario.source, "indicators": summary,
           "units": {n: BY_NAME[n].unit for n in NAMES}, "seconds": round(res.seconds, 4)}
    doc.update(summary)
    buf = io.BytesIO()
    res.timeseries.to_parquet(buf, index=False)
    atomic_write_bytes(out / "timeseries.parquet", buf.getvalue())
    atomic_write_bytes(out / "scenario.toml", res.scenario.to_toml().encode("utf-8"))
    atomic_write_bytes(out / "summary.json", json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8"))
