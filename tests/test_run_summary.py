"""``sim.run.summarise`` and ``ConsortiumModel.timeseries`` give the values pandas' own formulation gives, bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.indicators import NAMES
from sim.model import ConsortiumModel
from sim.run import summarise
from sim.scenario import Scenario


def pandas_summary(timeseries: pd.DataFrame, years: int) -> dict[str, float]:
    """The reference: each indicator's pandas mean over the rows of the final year."""
    final = timeseries[timeseries["year"] == years]
    return {name: float(final[name].mean()) for name in NAMES}


def same_bits(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal keys and values with the same bits (NaN equal to NaN)."""
    return list(a) == list(b) and np.array_equal(np.array(list(a.values())).view(np.int64),
                                                 np.array(list(b.values())).view(np.int64))


def frame(rng: np.random.Generator, n: int, nan_share: float) -> pd.DataFrame:
    """A time series of ``n`` rows over years 1-4 with values of mixed magnitude, some NaN."""
    columns: dict[str, np.ndarray] = {"step": np.arange(1, n + 1), "year": rng.integers(1, 5, n)}
    for name in NAMES:
        x = rng.standard_normal(n) * 10.0 ** rng.uniform(-6, 8, n)
        x[rng.random(n) < nan_share] = np.nan
        columns[name] = x
    return pd.DataFrame(columns)


@pytest.mark.parametrize("nan_share", [0.0, 0.2, 1.0])
def test_summary_equals_the_pandas_means(nan_share):
    rng = np.random.default_rng(7)
    for n in (0, 1, 7, 12, 13, 129, 300):
        ts = frame(rng, n, nan_share)
        for years in (1, 4, 9):  # 9: no such year, every mean NaN
            assert same_bits(summarise(ts, years), pandas_summary(ts, years))


def test_summary_of_other_frames_falls_back_to_pandas():
    rng = np.random.default_rng(3)
    ts = frame(rng, 48, 0.1)
    ts[NAMES[0]] = rng.integers(0, 10, 48)  # an int column
    assert same_bits(summarise(ts, 2), pandas_summary(ts, 2))
    ts = frame(rng, 48, 0.0)
    ts["year"] = ts["year"].astype(float)
    assert same_bits(summarise(ts, 3), pandas_summary(ts, 3))


def test_timeseries_and_summary_of_a_run_match_the_collector_frame():
    m = ConsortiumModel(Scenario(), seed=2)
    m.run_to_end()
    ts = m.timeseries()
    ref = m.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    ref.insert(0, "year", np.array(m._rows_year, dtype=np.int64))
    ref.insert(0, "step", np.array(m._rows_step, dtype=np.int64))
    assert ts.equals(ref) and list(ts.columns) == list(ref.columns) and ts.index.equals(ref.index)
    assert (ts.dtypes == ref.dtypes).all()
    assert same_bits(summarise(ts, m.years), pandas_summary(ref, m.years))
