"""Exports of sweep results to the formats SALib and EMA Workbench read.

Design note
-----------
* :func:`to_salib` gives ``(problem, X, Y)``: SALib's problem dict (``names``,
  ``bounds``, ``num_vars``), the design matrix ``X`` (one row per design point,
  in the sampler's order, which SALib's ``analyze`` functions need) and ``Y``,
  the indicator averaged over replications per point. For a Sobol design::

      from SALib.analyze import sobol
      problem, X, Y = experiments.load(DIR).to_salib("firm_participation_rate")
      Si = sobol.analyze(problem, Y, calc_second_order=False)

  When a ``[vary]`` grid is crossed with the design, pick one grid cell with
  ``where={"policy.subsidy.cost_share": 0.5}``.
* :func:`to_ema` gives EMA Workbench's ``(experiments, outcomes)``: a
  DataFrame with one row per finished run (the varied keys, ``scenario`` =
  design point, ``policy`` = the varied ``policy.*`` values, ``model``) and a
  dict of outcome arrays (one value per run; with ``timeseries=True`` also
  ``<indicator>_series`` arrays of shape runs x steps), ready for
  ``ema_workbench.analysis`` (PRIM, feature scoring, plotting).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.indicators import NAMES as INDICATOR_NAMES
from sim.parameters import BY_KEY

if TYPE_CHECKING:
    from experiments.results import SweepResults


def default_problem(results: SweepResults) -> dict[str, Any]:
    """SALib problem of a sweep: the design's numeric ranges, else the grid's numeric keys."""
    design = results.sweep.get("design")
    if design:
        names = [k for k, v in design["ranges"].items() if BY_KEY[k].numeric]
        bounds = [[float(design["ranges"][k][0]), float(design["ranges"][k][1])] for k in names]
    else:
        pts = results.points
        names = [k for k in results.sweep["vary"] if BY_KEY[k].numeric]
        bounds = [[float(pts[k].min()), float(pts[k].max())] for k in names]
    return {"num_vars": len(names), "names": names, "bounds": bounds}


def _select_points(results: SweepResults, where: dict[str, Any] | None) -> pd.DataFrame:
    pts = results.points
    grid_keys = list(results.sweep.get("vary", {}))
    design = results.sweep.get("design")
    where = dict(where or {})
    for k in where:
        if k not in pts.columns:
            raise KeyError(f"where: {k!r} is not a varied key; varied keys: {', '.join(results.varied_keys)}")
    if design and grid_keys:
        missing = [k for k in grid_keys if k not in where and pts[k].nunique() > 1]
        if missing:
            raise ValueError(f"the design is crossed with a [vary] grid: pick one grid cell with "
                             f"where={{{', '.join(repr(k) + ': ...' for k in missing)}}}")
    mask = np.ones(len(pts), dtype=bool)
    for k, v in where.items():
        mask &= (pts[k] == v).to_numpy()
    out = pts[mask]
    if out.empty:
        raise ValueError(f"where={where!r} selects no design point")
    return out


def to_salib(results: SweepResults, indicator: str | None = None, problem: dict[str, Any] | None = None,
             where: dict[str, Any] | None = None) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """``(problem, X, Y)`` for SALib's analyze functions.

    ``Y`` is the mean over replications per design point, in point order: a
    1-D array for ``indicator``, or (``indicator=None``) a 2-D array with one
    column per indicator in :data:`sim.indicators.NAMES` order. Every selected
    point must have all its replications done (SALib needs the whole sample).
    """
    problem = problem or default_problem(results)
    pts = _select_points(results, where)
    X = pts[problem["names"]].to_numpy(dtype=float)
    summ = results.summary
    summ = summ[summ["point_id"].isin(pts["point_id"])]
    reps = int(results.sweep["replications"])
    have = summ.groupby("point_id").size().reindex(pts["point_id"], fill_value=0)
    short = have[have < reps]
    if len(short):
        raise ValueError(f"{len(short)} of {len(pts)} design points lack finished replications "
                         f"(first: point {int(short.index[0])}); finish or --resume the sweep first")
    cols = [indicator] if indicator else list(INDICATOR_NAMES)
    for c in cols:
        if c not in summ.columns:
            raise KeyError(f"{c!r} is not an indicator; indicators: {', '.join(INDICATOR_NAMES)}")
    means = summ.groupby("point_id")[cols].mean().reindex(pts["point_id"])
    Y = means[indicator].to_numpy(dtype=float) if indicator else means.to_numpy(dtype=float)
    return problem, X, Y


def to_ema(results: SweepResults, timeseries: bool = False) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """``(experiments, outcomes)`` in EMA Workbench's layout, one row per finished run."""
    summ = results.summary
    keys = results.varied_keys
    exp = summ[keys].copy()
    levers = [k for k in keys if k.startswith("policy.")]
    exp["scenario"] = summ["point_id"].astype(int).to_numpy()
    if levers:
        exp["policy"] = summ[levers].astype(str).agg(" | ".join, axis=1).to_numpy()
    else:
        exp["policy"] = "base"
    exp["model"] = "consortium-sim"
    exp["replication"] = summ["replication"].to_numpy()
    exp["seed"] = summ["seed"].to_numpy()
    exp["run_id"] = summ["run_id"].to_numpy()
    outcomes: dict[str, np.ndarray] = {n: summ[n].to_numpy(dtype=float) for n in INDICATOR_NAMES}
    if timeseries:
        ts = results.timeseries
        kept = [c for c in ts.columns if c not in ("run_id", "step", "year")]
        lengths = ts.groupby("run_id").size()
        if lengths.nunique() > 1:
            raise ValueError("runs have different numbers of steps (years vary); export time series per group")
        order = summ["run_id"].to_numpy()
        for name in kept:
            wide = ts.pivot(index="run_id", columns="step", values=name).reindex(order)
            outcomes[f"{name}_series"] = wide.to_numpy(dtype=float)
        if kept:
            outcomes["step"] = np.asarray(sorted(ts["step"].unique()))
    return exp.reset_index(drop=True), outcomes
