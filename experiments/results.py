"""Reading a sweep's results: :func:`load` and :class:`SweepResults`.

Design note
-----------
Reading never runs the model and never writes: it takes the committed batches
of a result directory (finished or still running) and joins them with the
plan and the design points. ``.summary`` has one row per finished run:
``run_id``, ``point_id``, ``replication``, ``seed``, the varied keys' values
and every indicator. Exports to SALib and EMA Workbench live in
:mod:`experiments.export`.

Example::

    import experiments
    res = experiments.load("results/levers")
    res.summary.groupby("policy.subsidy.cost_share")["firm_participation_rate"].mean()
"""

from __future__ import annotations

import json
import os
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.store import Store
from sim.indicators import NAMES as INDICATOR_NAMES


class SweepResults:
    """The results in one sweep directory (see :func:`load`)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.store = Store(directory).require()
        self.dir = self.store.root

    # ------------------------------------------------------------ the sweep
    @cached_property
    def sweep(self) -> dict[str, Any]:
        """The planned sweep (``sweep.json``): name, base, seed, replications, varied keys, design."""
        return self.store.sweep_doc()

    @property
    def varied_keys(self) -> list[str]:
        """Keys that differ between design points."""
        return list(self.sweep["varied_keys"])

    @property
    def indicators(self) -> list[str]:
        """Names of the summary indicators."""
        return list(INDICATOR_NAMES)

    @property
    def provenance(self) -> dict[str, Any]:
        """The provenance record (``provenance.json``)."""
        return self.store.provenance()

    @cached_property
    def points(self) -> pd.DataFrame:
        """The design points: ``point_id`` and the varied keys' values (list values decoded)."""
        pts = self.store.points()
        for col in self.varied_keys:
            if pts[col].dtype == object and pts[col].map(lambda v: isinstance(v, str) and v[:1] in "[{").all():
                try:
                    pts[col] = pts[col].map(json.loads)
                except ValueError:
                    pass
        return pts

    # ------------------------------------------------------------ runs and results
    @property
    def runs(self) -> pd.DataFrame:
        """Every planned run with its status, error, traceback and seconds (live)."""
        return self.store.run_table()

    @property
    def failures(self) -> pd.DataFrame:
        """Failed runs with their error text and traceback."""
        runs = self.runs
        return runs[runs["status"] == "failed"].reset_index(drop=True)

    def counts(self) -> dict[str, int]:
        """Runs by status: ``done``, ``failed``, ``pending`` and ``total``."""
        return self.store.counts()

    @property
    def complete(self) -> bool:
        """Whether every planned run is done."""
        c = self.counts()
        return c["done"] == c["total"]

    @property
    def summary(self) -> pd.DataFrame:
        """One row per finished run: ids, seed, the varied keys' values and every indicator."""
        summ = self.store.read_summary()
        plan = self.store.plan()
        out = plan.merge(self.points, on="point_id", how="left").merge(summ, on="run_id", how="inner")
        return out.sort_values("run_id", ignore_index=True)

    @property
    def timeseries(self) -> pd.DataFrame:
        """Kept per-step indicators of finished runs: ``run_id``, ``step``, ``year``, ... ."""
        return self.store.read_timeseries()

    def timeseries_with_points(self) -> pd.DataFrame:
        """:attr:`timeseries` joined with ``point_id``, ``replication``, ``seed`` and the varied keys."""
        plan = self.store.plan().merge(self.points, on="point_id", how="left")
        return plan.merge(self.timeseries, on="run_id", how="inner")

    def by_point(self, statistic: str = "mean") -> pd.DataFrame:
        """Indicators combined over replications per design point (``mean``, ``median``, ``std``, ...)."""
        summ = self.summary
        agg = summ.groupby("point_id")[self.indicators].agg(statistic)
        agg.insert(0, "replications_done", summ.groupby("point_id").size())
        return self.points.merge(agg.reset_index(), on="point_id", how="left")

    # ------------------------------------------------------------ exports
    def to_salib(self, indicator: str | None = None, problem: dict[str, Any] | None = None,
                 where: dict[str, Any] | None = None) -> tuple[dict[str, Any], Any, Any]:
        """SALib's ``(problem, X, Y)``; see :func:`experiments.export.to_salib`."""
        from experiments.export import to_salib

        return to_salib(self, indicator=indicator, problem=problem, where=where)

    def to_ema(self, timeseries: bool = False) -> tuple[pd.DataFrame, dict[str, Any]]:
        """EMA Workbench's ``(experiments, outcomes)``; see :func:`experiments.export.to_ema`."""
        from experiments.export import to_ema

        return to_ema(self, timeseries=timeseries)

    def __repr__(self) -> str:
        c = self.counts()
        return (f"SweepResults({str(self.dir)!r}: {self.sweep.get('name')!r}, {c['done']}/{c['total']} done, "
                f"{c['failed']} failed)")


def load(directory: str | os.PathLike[str]) -> SweepResults:
    """Open the sweep results in ``directory`` (finished or partial)."""
    return SweepResults(Path(directory))
