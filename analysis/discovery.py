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
PRIM finds no more, ``max_boxes`` is reached, or a further box is no richer
in failures than 1.5 times the overall failure share (its *lift*).

With a lever grid, ``min_gain=None`` and a ``threshold``, a point of the given
lever setting fails when the indicator stays below the threshold under the
lever ("the subsidy does not lift SME participation to 40%").
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
from analysis.labels import direction, fmt_diff, fmt_value, indicator_label, t
from analysis.stats import paired_runs

#: Fewest failing points PRIM is run on; below it the report says the lever almost never fails.
MIN_FAILURES = 5
#: A further box is kept only when its density is at least this multiple of the overall failure share.
MIN_LIFT = 1.5


@dataclass
class PrimBox:
    """One PRIM box: its limits and statistics."""

    coverage: float
    density: float
    mass: float
    #: Restricted parameters: parameter, low, high (numeric) or the allowed values.
    limits: pd.DataFrame
    points: int
    #: Density relative to the share of failing points in the whole sample.
    lift: float = float("nan")


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

        desc = t("fail_gain", lang, lever=describe_levers(lever), indicator=indicator_label(indicator, lang),
                 gain=fmt_diff(indicator, sign * min_gain))
        return per_point[design.uncertainties].reset_index(drop=True), failed, desc
    if threshold is None:
        raise ValueError("give min_gain (with a lever grid) or threshold")
    keys = design.varied
    prefix = ""
    if lever:  # only the points of this lever setting, over the uncertain parameters
        for k, v in lever.items():
            summary = summary[summary[k].map(hashable) == hashable(v)]
        keys = design.uncertainties or design.varied
        from analysis.design import describe_levers

        prefix = t("fail_with", lang, lever=describe_levers(lever))
        if summary.empty:
            raise ValueError(f"lever setting {lever!r} has no finished runs")
    means = summary.groupby("point_id")[indicator].mean()
    pts = results.points.set_index("point_id").loc[means.index, keys].reset_index(drop=True)
    sign = direction(indicator) or 1
    values = means.to_numpy(float)
    failed = values < threshold if sign >= 0 else values > threshold
    desc = t("fail_threshold_below" if sign >= 0 else "fail_threshold_above", lang, prefix=prefix,
             indicator=indicator_label(indicator, lang), value=fmt_value(indicator, threshold))
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
        base_rate = float(np.mean(failed))
        for _ in range(max_boxes):
            box = alg.find_box()
            if box is None:
                break
            traj = box.peeling_trajectory
            ok = traj[traj["density"] >= min_density]
            i = int(ok["coverage"].idxmax()) if len(ok) else int(traj["density"].idxmax())
            box.select(i)
            limits = _box_limits(box, xx)
            if out and (float(box.coverage) == 0 or float(box.density) < MIN_LIFT * base_rate):
                break  # later boxes that are no richer in failures than the data say nothing
            out.append(PrimBox(coverage=float(box.coverage), density=float(box.density), mass=float(box.mass),
                               limits=limits, points=int(round(float(box.mass) * len(xx))),
                               lift=float(box.density) / base_rate if base_rate else float("nan")))
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
        d.notes.append(t("no_fail", lang))
        return d
    if failed.all():
        d.notes.append(t("all_fail", lang))
        return d
    if failed.sum() < MIN_FAILURES:
        d.notes.append(t("few_fail", lang, n=int(failed.sum()), need=MIN_FAILURES))
        return d
    if len(x) < 20:
        d.notes.append(t("few_points", lang, n=len(x)))
    d.boxes = prim_boxes(x, failed, min_density=min_density, max_boxes=max_boxes)
    return d
