"""Indicators across replications, and paired comparisons with the reference.

Design note
-----------
:func:`point_table` combines replications per design point: mean, standard
deviation, and a two-sided Student-t confidence interval of the mean
(``mean ± t_{n-1} · sd / sqrt(n)``).

:func:`paired_runs` pairs each policy run with its reference run: same
uncertain values, same replication, same seed (common random numbers, see
:mod:`analysis.design`). The difference of the pair removes the noise the two
runs share, so a lever's effect is estimated with far fewer replications than
from two independent groups (Law 2015, *Simulation Modeling and Analysis*,
ch. 11). :func:`effects` summarises the paired differences per lever setting
(or per design point): mean difference with its t interval, the standardised
effect ``d_z = mean / sd`` of the differences (Cohen 1988) and the relative
change against the reference mean. Pairs whose seeds differ (which a sweep
never writes) are dropped with a warning column count.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.design import SweepDesign, hashable
from sim.indicators import NAMES as INDICATOR_NAMES


def t_interval(values: np.ndarray, conf: float = 0.95) -> tuple[float, float, float, float, int]:
    """(mean, sd, low, high, n) of ``values`` with a Student-t interval; NaN bounds when n < 2."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = len(v)
    if n == 0:
        return (np.nan, np.nan, np.nan, np.nan, 0)
    mean = float(v.mean())
    if n < 2:
        return (mean, np.nan, np.nan, np.nan, n)
    sd = float(v.std(ddof=1))
    half = float(sps.t.ppf(0.5 + conf / 2, n - 1)) * sd / np.sqrt(n)
    return (mean, sd, mean - half, mean + half, n)


def _keyed(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    out = frame.copy()
    for k in keys:
        if out[k].map(lambda v: isinstance(v, (list, dict))).any():
            out[k] = out[k].map(hashable)
    return out


def point_table(summary: pd.DataFrame, varied: list[str], indicators: list[str] | None = None,
                conf: float = 0.95) -> pd.DataFrame:
    """Long table: ``point_id``, the varied keys, ``indicator``, ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``."""
    indicators = list(indicators or INDICATOR_NAMES)
    rows: list[dict[str, Any]] = []
    summ = _keyed(summary, varied)
    for pid, grp in summ.groupby("point_id", sort=True):
        first = grp.iloc[0]
        for ind in indicators:
            mean, sd, lo, hi, n = t_interval(grp[ind].to_numpy(), conf)
            rows.append({"point_id": int(pid), **{k: first[k] for k in varied}, "indicator": ind, "n": n,
                         "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi})
    cols = ["point_id", *varied, "indicator", "n", "mean", "sd", "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


def group_table(summary: pd.DataFrame, by: list[str], indicators: list[str] | None = None,
                conf: float = 0.95) -> pd.DataFrame:
    """Like :func:`point_table` but over the runs of each combination of ``by`` (e.g. the levers).

    Columns: ``by``, ``indicator``, ``n`` (runs), ``mean``, ``sd``, ``ci_low``, ``ci_high``.
    """
    indicators = list(indicators or INDICATOR_NAMES)
    summ = _keyed(summary, by)
    rows: list[dict[str, Any]] = []
    groups = summ.groupby(by, sort=True) if by else [((), summ)]
    for vals, grp in groups:
        vals = vals if isinstance(vals, tuple) else (vals,)
        for ind in indicators:
            mean, sd, lo, hi, n = t_interval(grp[ind].to_numpy(), conf)
            rows.append({**dict(zip(by, vals, strict=True)), "indicator": ind, "n": n, "mean": mean, "sd": sd,
                         "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=[*by, "indicator", "n", "mean", "sd", "ci_low", "ci_high"])


def paired_runs(summary: pd.DataFrame, design: SweepDesign,
                indicators: list[str] | None = None) -> pd.DataFrame:
    """One row per pair of a policy run and its reference run (same uncertain values and seed).

    Columns: the lever and uncertain values, ids, and per indicator ``ref_<name>``,
    ``pol_<name>``, ``diff_<name>``. Empty when the sweep has no levers.
    """
    indicators = list(indicators or INDICATOR_NAMES)
    if not design.levers or summary.empty:
        return pd.DataFrame()
    summ = _keyed(summary, design.varied)
    is_ref = np.ones(len(summ), dtype=bool)
    for k, v in design.reference.items():
        is_ref &= (summ[k] == hashable(v)).to_numpy()
    ref = summ[is_ref]
    pol = summ[~is_ref]
    on = [*design.uncertainties, "replication"]
    ref_cols = ref[[*on, "point_id", "run_id", "seed", *indicators]].rename(
        columns={"point_id": "ref_point_id", "run_id": "ref_run_id", "seed": "ref_seed",
                 **{n: f"ref_{n}" for n in indicators}})
    pol_cols = pol[[*design.levers, *on, "point_id", "run_id", "seed", *indicators]].rename(
        columns={n: f"pol_{n}" for n in indicators})
    pairs = pol_cols.merge(ref_cols, on=on, how="inner")
    pairs = pairs[pairs["seed"] == pairs["ref_seed"]].reset_index(drop=True)
    for n in indicators:
        pairs[f"diff_{n}"] = pairs[f"pol_{n}"] - pairs[f"ref_{n}"]
    return pairs


def effects(pairs: pd.DataFrame, design: SweepDesign, indicators: list[str] | None = None,
            by: str = "levers", conf: float = 0.95) -> pd.DataFrame:
    """Paired effects per lever setting (``by="levers"``) or per policy point (``by="point"``).

    Columns: the grouping keys, ``indicator``, ``pairs``, ``ref_mean``, ``pol_mean``, ``diff``,
    ``diff_sd``, ``ci_low``, ``ci_high``, ``d_z``, ``rel_change``, ``significant``.
    """
    indicators = list(indicators or INDICATOR_NAMES)
    cols_out = ["indicator", "pairs", "ref_mean", "pol_mean", "diff", "diff_sd", "ci_low", "ci_high",
                "d_z", "rel_change", "significant"]
    if pairs.empty:
        return pd.DataFrame(columns=[*design.levers, *cols_out])
    keys = list(design.levers) if by == "levers" else ["point_id", *design.levers, *design.uncertainties]
    rows = []
    for vals, grp in pairs.groupby(keys, sort=True):
        vals = vals if isinstance(vals, tuple) else (vals,)
        for n in indicators:
            d = grp[f"diff_{n}"].to_numpy(dtype=float)
            mean, sd, lo, hi, k = t_interval(d, conf)
            ref_mean = float(np.nanmean(grp[f"ref_{n}"]))
            rows.append({**dict(zip(keys, vals, strict=True)), "indicator": n, "pairs": k, "ref_mean": ref_mean,
                         "pol_mean": float(np.nanmean(grp[f"pol_{n}"])), "diff": mean, "diff_sd": sd,
                         "ci_low": lo, "ci_high": hi,
                         "d_z": mean / sd if sd and sd > 0 else np.nan,
                         "rel_change": mean / ref_mean if ref_mean else np.nan,
                         "significant": bool(k >= 2 and not np.isnan(lo) and (lo > 0 or hi < 0))})
    return pd.DataFrame(rows, columns=[*keys, *cols_out])
