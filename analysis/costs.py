"""Cost-effectiveness of a lever: outcome gained per yuan, and deadweight.

Design note
-----------
Public money is the ``subsidy_spent`` indicator (subsidies and credits paid in
the final year, yuan). For each paired run (policy vs reference, same seed; see
:mod:`analysis.stats`):

* extra public money ``ΔM = spent_policy − spent_reference``;
* additional participating firms ``ΔF = (p_policy − p_reference) × firms``,
  with ``p`` the firm participation rate and ``firms`` the number of firms;
* cost-effectiveness: ``ΔM / ΔF`` yuan per additional participating firm and
  ``ΔF / (ΔM / 10⁶)`` additional firms per million yuan (ratio of the mean
  ``ΔM`` to the mean ``ΔF``; its 95% interval is a percentile bootstrap over
  pairs, seeded);
* deadweight, money paid to firms that would have taken part anyway. With
  per-firm participation one would count the policy money paid to firms that
  also participate in the paired reference run. The store holds aggregates
  only, so it is approximated as ``spent_policy × min(1, p_reference /
  p_policy)``: payments spread evenly over participants, and every reference
  participant also participates under the policy. The report labels it an
  approximation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.design import SweepDesign, firms_in
from analysis.stats import t_interval

PARTICIPATION = "firm_participation_rate"
MONEY = "subsidy_spent"


def _ratio_ci(num: np.ndarray, den: np.ndarray, rng: np.random.Generator, resamples: int = 1000,
              conf: float = 0.95) -> tuple[float, float, float]:
    n = len(num)
    if n == 0 or np.nanmean(den) == 0:
        return (np.nan, np.nan, np.nan)
    point = float(np.nanmean(num) / np.nanmean(den))
    if n < 2:
        return (point, np.nan, np.nan)
    idx = rng.integers(0, n, size=(resamples, n))
    with np.errstate(divide="ignore", invalid="ignore"):
        boot = np.nanmean(num[idx], axis=1) / np.nanmean(den[idx], axis=1)
    boot = boot[np.isfinite(boot)]
    if len(boot) < resamples // 2:
        return (point, np.nan, np.nan)
    a = (1 - conf) / 2
    return (point, float(np.quantile(boot, a)), float(np.quantile(boot, 1 - a)))


def cost_effectiveness(pairs: pd.DataFrame, design: SweepDesign, seed: int = 0,
                       conf: float = 0.95) -> pd.DataFrame:
    """Per lever setting: extra public money, additional firms, yuan per firm, firms per million, deadweight.

    Columns: the levers, ``pairs``, ``extra_money`` (+ ``_low``/``_high``), ``extra_firms`` (+ CI),
    ``yuan_per_extra_firm`` (+ CI), ``extra_firms_per_million`` (+ CI), ``deadweight`` (+ CI),
    ``deadweight_share``, ``policy_money``.
    """
    cols = ["pairs", "policy_money", "extra_money", "extra_money_low", "extra_money_high", "extra_firms",
            "extra_firms_low", "extra_firms_high", "yuan_per_extra_firm", "yuan_per_extra_firm_low",
            "yuan_per_extra_firm_high", "extra_firms_per_million", "extra_firms_per_million_low",
            "extra_firms_per_million_high", "deadweight", "deadweight_low", "deadweight_high", "deadweight_share"]
    need = {f"pol_{PARTICIPATION}", f"ref_{PARTICIPATION}", f"pol_{MONEY}", f"ref_{MONEY}"}
    if pairs.empty or not need <= set(pairs.columns):
        return pd.DataFrame(columns=[*design.levers, *cols])
    rng = np.random.default_rng([seed, 7919])
    frame = pairs.copy()
    frame["_firms"] = firms_in(frame, design)
    frame["_dm"] = frame[f"pol_{MONEY}"] - frame[f"ref_{MONEY}"]
    frame["_df"] = (frame[f"pol_{PARTICIPATION}"] - frame[f"ref_{PARTICIPATION}"]) * frame["_firms"]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(frame[f"pol_{PARTICIPATION}"] > 0,
                         np.minimum(1.0, frame[f"ref_{PARTICIPATION}"] / frame[f"pol_{PARTICIPATION}"]), np.nan)
    frame["_dw_share"] = share
    frame["_dw"] = frame[f"pol_{MONEY}"] * frame["_dw_share"]
    rows = []
    for vals, grp in frame.groupby(design.levers, sort=True):
        vals = vals if isinstance(vals, tuple) else (vals,)
        dm = grp["_dm"].to_numpy(float)
        df = grp["_df"].to_numpy(float)
        m, _, m_lo, m_hi, k = t_interval(dm, conf)
        f, _, f_lo, f_hi, _ = t_interval(df, conf)
        ypf = _ratio_ci(dm, df, rng, conf=conf) if np.nanmean(df) > 0 else (np.nan, np.nan, np.nan)
        fpm = _ratio_ci(df, dm / 1e6, rng, conf=conf) if np.nanmean(dm) > 0 else (np.nan, np.nan, np.nan)
        dw, _, dw_lo, dw_hi, _ = t_interval(grp["_dw"].to_numpy(float), conf)
        rows.append({**dict(zip(design.levers, vals, strict=True)), "pairs": k,
                     "policy_money": float(np.nanmean(grp[f"pol_{MONEY}"])),
                     "extra_money": m, "extra_money_low": m_lo, "extra_money_high": m_hi,
                     "extra_firms": f, "extra_firms_low": f_lo, "extra_firms_high": f_hi,
                     "yuan_per_extra_firm": ypf[0], "yuan_per_extra_firm_low": ypf[1],
                     "yuan_per_extra_firm_high": ypf[2],
                     "extra_firms_per_million": fpm[0], "extra_firms_per_million_low": fpm[1],
                     "extra_firms_per_million_high": fpm[2],
                     "deadweight": dw, "deadweight_low": dw_lo, "deadweight_high": dw_hi,
                     "deadweight_share": float(np.nanmean(grp["_dw_share"]))})
    return pd.DataFrame(rows, columns=[*design.levers, *cols])
