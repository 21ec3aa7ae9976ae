"""The headline table: which lever, how much, for whom, at what cost, how sure.

Design note
-----------
One row per lever setting of the sweep's ``[vary]`` grid: the reference row
gives absolute levels (mean over its runs); every other row gives paired
effects against the reference (:mod:`analysis.stats`) for firm, SME and
anchor participation and deep engagement (who moves), the extra public money
and its cost-effectiveness and approximate deadweight
(:mod:`analysis.costs`), and how sure: the 95% interval of each effect, and
whether it excludes zero. :func:`headline_table` returns display strings
(shares in percent, effects in percentage points); :func:`headline_numbers`
the numbers behind them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.costs import cost_effectiveness
from analysis.design import SweepDesign, describe_levers, hashable
from analysis.labels import fmt_diff, fmt_value, indicator_label, t
from analysis.stats import effects, group_table, paired_runs

#: Indicators of the headline table, in order (all declared in sim.indicators).
HEADLINE = ("firm_participation_rate", "sme_participation_rate", "anchor_participation_rate",
            "deep_engagement_share", "engagement_gap", "retention_rate")
MONEY = "subsidy_spent"


def headline_numbers(summary: pd.DataFrame, design: SweepDesign, seed: int = 0,
                     indicators: tuple[str, ...] = HEADLINE) -> dict[str, pd.DataFrame]:
    """The numbers: ``reference`` levels, ``effects`` (by lever setting) and ``costs``."""
    inds = [*indicators, MONEY]
    pairs = paired_runs(summary, design, inds)
    ref_rows = summary
    for k, v in design.reference.items():
        ref_rows = ref_rows[ref_rows[k].map(hashable) == hashable(v)]
    return {"reference": group_table(ref_rows, [], inds), "effects": effects(pairs, design, inds),
            "costs": cost_effectiveness(pairs, design, seed=seed), "pairs": pairs}


def _with_ci(name: str, m: float, lo: float, hi: float, sig: bool | None = None) -> str:
    s = fmt_diff(name, m)
    if np.isfinite(lo) and np.isfinite(hi):
        s += f" [{fmt_diff(name, lo)}, {fmt_diff(name, hi)}]"
    if sig:
        s += " *"
    return s


def _money(v: float) -> str:
    if not np.isfinite(v):
        return "–"
    return f"{v / 1e6:+.2f}M" if abs(v) >= 1e5 else f"{v:+,.0f}"


def headline_table(numbers: dict[str, pd.DataFrame], design: SweepDesign, lang: str = "en",
                   indicators: tuple[str, ...] = HEADLINE) -> pd.DataFrame:
    """Display table: a row per lever setting (reference first), strings ready for HTML or Markdown."""
    eff = numbers["effects"]
    costs = numbers["costs"]
    ref = numbers["reference"].set_index("indicator")
    shown = [i for i in indicators if i in ref.index]
    policy_col = t("policy", lang)
    rows: list[dict[str, Any]] = []
    ref_row: dict[str, Any] = {policy_col: f"{t('reference', lang)}: {describe_levers(design.reference)}"}
    for ind in shown:
        ref_row[indicator_label(ind, lang)] = fmt_value(ind, ref.loc[ind, "mean"])
    ref_row[t("public_money", lang)] = f"{ref.loc[MONEY, 'mean'] / 1e6:.2f}M" if MONEY in ref.index else "–"
    ref_row[t("cost_per_firm", lang)] = "–"
    ref_row[t("deadweight_share", lang)] = "–"
    ref_row[t("pairs", lang)] = str(int(ref.loc[shown[0], "n"])) if shown else "0"
    rows.append(ref_row)
    if eff.empty:
        return pd.DataFrame(rows)
    for vals, grp in eff.groupby(design.levers, sort=True):
        vals = vals if isinstance(vals, tuple) else (vals,)
        cell = dict(zip(design.levers, vals, strict=True))
        g = grp.set_index("indicator")
        row: dict[str, Any] = {policy_col: describe_levers(cell)}
        for ind in shown:
            r = g.loc[ind]
            row[indicator_label(ind, lang)] = _with_ci(ind, r["diff"], r["ci_low"], r["ci_high"], bool(r["significant"]))
        c = costs
        for k, v in cell.items():
            c = c[c[k].map(hashable) == v]
        if len(c):
            c0 = c.iloc[0]
            row[t("public_money", lang)] = (_money(c0["extra_money"]) +
                                            (f" [{_money(c0['extra_money_low'])}, {_money(c0['extra_money_high'])}]"
                                             if np.isfinite(c0["extra_money_low"]) else ""))
            ypf = c0["yuan_per_extra_firm"]
            if c0["extra_firms"] > 0 and c0["extra_money"] <= 0:
                row[t("cost_per_firm", lang)] = "≤ 0 (saves money)" if lang == "en" else "≤ 0(节省资金)"
            elif np.isfinite(ypf) and ypf > 0:
                lo, hi = c0["yuan_per_extra_firm_low"], c0["yuan_per_extra_firm_high"]
                row[t("cost_per_firm", lang)] = (f"{ypf:,.0f}" + (f" [{lo:,.0f}, {hi:,.0f}]"
                                                                   if np.isfinite(lo) and lo > 0 else ""))
            else:
                row[t("cost_per_firm", lang)] = "–"
            row[t("deadweight_share", lang)] = (f"{100 * c0['deadweight_share']:.0f}%"
                                                if np.isfinite(c0["deadweight_share"]) else "–")
        row[t("pairs", lang)] = str(int(g["pairs"].iloc[0]))
        rows.append(row)
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame) -> str:
    """A display table as a Markdown table (for notes and READMEs)."""
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, r in table.iterrows():
        lines.append("| " + " | ".join(str(r[c]).replace("|", "\\|") for c in cols) + " |")
    return "\n".join(lines)
