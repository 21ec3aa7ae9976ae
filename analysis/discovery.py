"""Scenario discovery: which uncertain conditions make a lever fail (PRIM).

Design note
-----------
A lever *fails* at an uncertain point when its paired effect there (the mean
over replications of policy minus reference, same seeds; see
:mod:`analysis.stats`) is below a minimum gain, e.g. "the subsidy raises SME
participation by less than 5 points". When the sweep has no lever grid, a
point fails when the indicator's mean is below (or, for an indicator where
lower is better, above) a threshold. The uncertain parameters of the points
and the failure flags go to the Patient Rule Induction Method (Friedman &
Fisher 1999) as implemented in EMA Workbench (``ema_workbench.analysis.prim``;
Kwakkel 2017), the standard of scenario discovery (Bryant & Lempert 2010).

PRIM peels the box of all points towards a region rich in failures. Each box
is reported with *coverage* (share of all failures inside the box), *density*
(share of the points inside the box that fail) and *mass* (share of all
points inside). From each peeling trajectory the box kept is the one with
the largest coverage among those with density at least ``min_density``
(default 0.8), or the densest when none reaches it. Boxes are sought until
PRIM finds no more or ``max_boxes`` is reached.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.design import SweepDesign, hashable
from analysis.labels import direction, fmt_diff, fmt_value, indicator_label
from analysis.stats import paired_runs

#: Fewest failing points PRIM is run on; below it the report says the lever almost never fails.
MIN_FAILURES = 5


@dataclass
class PrimBox:
    """One PRIM box: its limits and statistics."""

    coverage: float
    density: float
    mass: float
    #: Restricted parameters: parameter, low, high (numeric) or the allowed values.
    limits: pd.DataFrame
    points: int


@dataclass
class Discovery:
    """The outcome of a scenario-discovery run."""

    description: str
    x: pd.DataFrame
    failed: np.ndarray
    boxes: list[PrimBox] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def failures(self) -> int:
        """Number of failing uncertain points."""
        return int(self.failed.sum())


def failure_table(results: Any, design: SweepDesign, indicator: str, lever: dict[str, Any] | None = None,
                  min_gain: float | None = None, threshold: float | None = None,
                  lang: str = "en") -> tuple[pd.DataFrame, np.ndarray, str]:
    """(X of the uncertain parameters, failure flags, description) per uncertain point."""
    summary = results.summary
    if design.levers and min_gain is not None:
        pairs = paired_runs(summary, design, [indicator])
        if pairs.empty:
            raise ValueError("no paired runs: the reference point has no finished runs")
        if lever is None:
            cells = pairs[design.levers].drop_duplicates()
            lever = {k: cells.iloc[-1][k] for k in design.levers}
        mask = np.ones(len(pairs), dtype=bool)
        for k, v in lever.items():
            mask &= (pairs[k] == hashable(v)).to_numpy()
        sel = pairs[mask]
        if sel.empty:
            raise ValueError(f"lever setting {lever!r} has no paired runs")
        if not design.uncertainties:
            raise ValueError("the sweep varies no uncertain parameter: nothing to discover")
        per_point = sel.groupby(design.uncertainties, sort=False)[f"diff_{indicator}"].mean().reset_index()
        gain = per_point[f"diff_{indicator}"].to_numpy(float)
        sign = direction(indicator) or 1
        failed = sign * gain < min_gain
        from analysis.design import describe_levers

        desc = (f"{describe_levers(lever)} changes {indicator_label(indicator, lang)} by less than "
                f"{fmt_diff(indicator, sign * min_gain)} over the paired reference")
        return per_point[design.uncertainties].reset_index(drop=True), failed, desc
    if threshold is None:
        raise ValueError("give min_gain (with a lever grid) or threshold")
    keys = design.varied
    means = summary.groupby("point_id")[indicator].mean()
    pts = results.points.set_index("point_id").loc[means.index, keys].reset_index(drop=True)
    sign = direction(indicator) or 1
    values = means.to_numpy(float)
    failed = values < threshold if sign >= 0 else values > threshold
    word = "below" if sign >= 0 else "above"
    desc = f"{indicator_label(indicator, lang)} {word} {fmt_value(indicator, threshold)}"
    return pts, failed, desc


def _box_limits(box: Any, x: pd.DataFrame) -> pd.DataFrame:
    lims = box.box_lim
    init = box.prim.box_init
    rows = []
    for col in lims.columns:
        lo, hi = lims[col].iloc[0], lims[col].iloc[1]
        if isinstance(lo, set):
            if lo != init[col].iloc[0]:
                rows.append({"parameter": col, "low": None, "high": None, "values": sorted(map(str, lo))})
            continue
        if lo != init[col].iloc[0] or hi != init[col].iloc[1]:
            rows.append({"parameter": col, "low": float(lo), "high": float(hi), "values": None,
                         "range_low": float(x[col].min()), "range_high": float(x[col].max())})
    return pd.DataFrame(rows, columns=["parameter", "low", "high", "values", "range_low", "range_high"])


def prim_boxes(x: pd.DataFrame, failed: np.ndarray, min_density: float = 0.8, max_boxes: int = 3,
               mass_min: float = 0.05, peel_alpha: float = 0.1) -> list[PrimBox]:
    """Run EMA Workbench's PRIM on ``x`` (uncertain parameters) and the failure flags."""
    logging.getLogger("EMA").setLevel(logging.WARNING)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        xx = x.copy()
        for c in xx.columns:
            if xx[c].dtype == bool:
                xx[c] = xx[c].astype(str)
            elif pd.api.types.is_integer_dtype(xx[c]):
                xx[c] = xx[c].astype(float)
        alg = prim.Prim(xx, np.asarray(failed, dtype=int), peel_alpha=peel_alpha, mass_min=mass_min)
        out: list[PrimBox] = []
        for _ in range(max_boxes):
            box = alg.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory
            ok = traj[traj["density"] >= min_density]
            i = int(ok["coverage"].idxmax()) if len(ok) else int(traj["density"].idxmax())
            box.select(i)
            limits = _box_limits(box, xx)
            out.append(PrimBox(coverage=float(box.coverage), density=float(box.density), mass=float(box.mass),
                               limits=limits, points=int(round(float(box.mass) * len(xx)))))
            if float(box.coverage) >= 0.999 or limits.empty:
                break
    return out


def discover(results: Any, design: SweepDesign, indicator: str = "sme_participation_rate",
             lever: dict[str, Any] | None = None, min_gain: float | None = 0.05, threshold: float | None = None,
             min_density: float = 0.8, max_boxes: int = 3, lang: str = "en") -> Discovery:
    """Find the uncertain conditions under which a lever fails (see the module note)."""
    x, failed, desc = failure_table(results, design, indicator, lever=lever, min_gain=min_gain,
                                    threshold=threshold, lang=lang)
    d = Discovery(description=desc, x=x, failed=failed)
    if failed.sum() == 0:
        d.notes.append("no point fails: PRIM has nothing to find")
        return d
    if failed.all():
        d.notes.append("every point fails: the lever fails everywhere in the explored ranges")
        return d
    if failed.sum() < MIN_FAILURES:
        d.notes.append(f"only {int(failed.sum())} failing point(s): too few for PRIM (needs {MIN_FAILURES}); "
                       "the lever works almost everywhere in the explored ranges")
        return d
    if len(x) < 20:
        d.notes.append(f"only {len(x)} uncertain points: PRIM boxes are fragile below about 20")
    d.boxes = prim_boxes(x, failed, min_density=min_density, max_boxes=max_boxes)
    return d
