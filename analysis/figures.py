"""Figures of stored sweep results (matplotlib, no pyplot state).

Design note
-----------
Every function takes tables the other analysis modules computed (never the
model), returns a :class:`matplotlib.figure.Figure`, and labels it in English
or Chinese (``lang``; call :func:`analysis.fonts.use_font_for` first so a CJK
font is used, see :mod:`analysis.fonts`). Bands and error bars are 95%
confidence intervals of means over replications (Student t), or of paired
differences. :func:`png` turns a figure into PNG bytes for the report.

* :func:`timeseries` -- monthly indicator per lever setting, mean and band;
* :func:`dose_response` -- indicator against one lever's value, a line per
  value of a second lever;
* :func:`heatmap` -- mean indicator over two levers;
* :func:`effect_bars` -- paired effect of each lever setting with its CI;
* :func:`tornado` -- the indicator's mean at the low and the high end of each
  varied key's range;
* :func:`sensitivity_bars` -- indices with CIs, the dummy and the noise floor;
* :func:`prim_scatter` -- the two most restricted parameters of a PRIM box,
  failures marked and the box drawn;
* :func:`network` -- a network snapshot coloured by engagement
  (:mod:`analysis.network`).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analysis.design import SweepDesign, describe_levers, hashable
from analysis.labels import indicator_label, is_share, param_label, t
from analysis.stats import t_interval

COLOURS = ("#1f6fb4", "#d9541e", "#2a9d3a", "#8e44ad", "#c79a00", "#17a2b8", "#6c757d", "#e83e8c")
REF_COLOUR = "#333333"


def png(fig: Figure, dpi: int = 110) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    return buf.getvalue()


def _scale(indicator: str) -> float:
    return 100.0 if is_share(indicator) else 1.0


def _clip(indicator: str, values: np.ndarray) -> np.ndarray:
    """Clip interval bounds to the indicator's declared range (a share's CI never leaves [0, 1])."""
    from sim.indicators import BY_NAME

    ind = BY_NAME.get(indicator)
    if ind is None:
        return values
    lo = -np.inf if ind.low is None else ind.low
    hi = np.inf if ind.high is None else ind.high
    return np.clip(values, lo, hi)


def _ylabel(indicator: str, lang: str) -> str:
    lab = indicator_label(indicator, lang)
    return f"{lab} (%)" if is_share(indicator) else lab


def _cell_label(values: dict[str, Any], design: SweepDesign, lang: str) -> str:
    if values == {k: hashable(v) for k, v in design.reference.items()}:
        return f"{t('reference', lang)}: {describe_levers(values, short=True)}"
    return describe_levers(values, short=True)


def _cells(frame: pd.DataFrame, design: SweepDesign, limit: int = 8) -> list[dict[str, Any]]:
    if not design.levers:
        return []
    cells = frame[design.levers].map(hashable).drop_duplicates()
    ref = {k: hashable(v) for k, v in design.reference.items()}
    out = [ref] + [dict(zip(design.levers, row, strict=True)) for row in cells.itertuples(index=False)
                   if dict(zip(design.levers, row, strict=True)) != ref]
    if len(out) > limit:  # keep the reference, then evenly spread cells
        idx = np.unique(np.linspace(1, len(out) - 1, limit - 1).round().astype(int))
        out = [out[0]] + [out[i] for i in idx]
    return out


def timeseries(ts: pd.DataFrame, design: SweepDesign, indicator: str, lang: str = "en") -> Figure:
    """Monthly ``indicator`` per lever setting (or per point), mean over runs with a 95% band."""
    fig = Figure(figsize=(7.5, 4.2))
    ax = fig.add_subplot()
    frame = ts.copy()
    for k in design.varied:
        if k in frame:
            frame[k] = frame[k].map(hashable)
    groups: list[tuple[str, pd.DataFrame]] = []
    if design.levers:
        for cell in _cells(frame, design):
            mask = np.ones(len(frame), dtype=bool)
            for k, v in cell.items():
                mask &= (frame[k] == v).to_numpy()
            groups.append((_cell_label(cell, design, lang), frame[mask]))
    else:
        for pid in sorted(frame["point_id"].unique())[:6]:
            groups.append((f"{t('point', lang)} {pid}", frame[frame["point_id"] == pid]))
    scale = _scale(indicator)
    for i, (label, grp) in enumerate(groups):
        if grp.empty:
            continue
        stats = grp.groupby("step")[indicator].apply(lambda s: pd.Series(t_interval(s.to_numpy()),
                                                                          index=["m", "sd", "lo", "hi", "n"]))
        stats = stats.unstack()
        x = stats.index.to_numpy() / 12.0
        colour = REF_COLOUR if i == 0 and design.levers else COLOURS[i % len(COLOURS)]
        ax.plot(x, stats["m"] * scale, color=colour, lw=1.8, label=label)
        ax.fill_between(x, _clip(indicator, stats["lo"].to_numpy(float)) * scale,
                        _clip(indicator, stats["hi"].to_numpy(float)) * scale, color=colour, alpha=0.18, lw=0)
    ax.set_xlabel(t("year", lang))
    ax.set_ylabel(_ylabel(indicator, lang))
    ax.set_title(t("fig_timeseries", lang), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    return fig


def _numeric(frame: pd.DataFrame, key: str) -> bool:
    return pd.api.types.is_numeric_dtype(frame[key]) and not pd.api.types.is_bool_dtype(frame[key])


def dose_response(summary: pd.DataFrame, design: SweepDesign, indicator: str, lever: str,
                  lang: str = "en") -> Figure:
    """``indicator`` against ``lever`` (mean and 95% CI over runs), a line per value of another lever."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot()
    others = [k for k in design.levers if k != lever]
    second = others[0] if others else None
    scale = _scale(indicator)
    values = [None] if second is None else list(pd.unique(summary[second].map(hashable)))[:6]
    for i, v in enumerate(values):
        grp = summary if v is None else summary[summary[second].map(hashable) == v]
        for k in others[1:]:  # further levers held at the reference
            grp = grp[grp[k].map(hashable) == hashable(design.reference[k])]
        rows = []
        for x, g in grp.groupby(lever, sort=True):
            m, _, lo, hi, n = t_interval(g[indicator].to_numpy())
            rows.append((x, m, lo, hi))
        if not rows:
            continue
        arr = np.array(rows, dtype=float)
        colour = COLOURS[i % len(COLOURS)]
        label = None if v is None else describe_levers({second: v}, short=True)
        ax.plot(arr[:, 0], arr[:, 1] * scale, "o-", color=colour, label=label)
        ax.fill_between(arr[:, 0], _clip(indicator, arr[:, 2]) * scale, _clip(indicator, arr[:, 3]) * scale,
                        color=colour, alpha=0.15, lw=0)
    ax.set_xlabel(param_label(lever, lang, short=True))
    ax.set_ylabel(_ylabel(indicator, lang))
    ax.set_title(t("fig_dose", lang), fontsize=10)
    ax.grid(alpha=0.3)
    if second is not None:
        ax.legend(fontsize=7)
    return fig


def heatmap(summary: pd.DataFrame, x_key: str, y_key: str, indicator: str, lang: str = "en") -> Figure:
    """Mean ``indicator`` over the grid of two levers, values written in the cells."""
    fig = Figure(figsize=(6.5, 4.8))
    ax = fig.add_subplot()
    frame = summary.assign(_x=summary[x_key].map(hashable), _y=summary[y_key].map(hashable))
    table = frame.pivot_table(index="_y", columns="_x", values=indicator, aggfunc="mean").sort_index()
    table = table[sorted(table.columns)]
    scale = _scale(indicator)
    data = table.to_numpy(dtype=float) * scale
    im = ax.imshow(data, origin="lower", aspect="auto", cmap="viridis")
    ax.set_xticks(range(len(table.columns)), [str(c) for c in table.columns])
    ax.set_yticks(range(len(table.index)), [str(c) for c in table.index])
    ax.set_xlabel(param_label(x_key, lang, short=True))
    ax.set_ylabel(param_label(y_key, lang, short=True))
    finite = data[np.isfinite(data)]
    mid = float(np.nanmean(finite)) if finite.size else 0.0
    for (i, j), v in np.ndenumerate(data):
        if np.isfinite(v):
            ax.text(j, i, f"{v:.1f}" if scale != 1 or abs(v) < 1000 else f"{v:,.0f}", ha="center", va="center",
                    fontsize=8, color="white" if v < mid else "black")
    fig.colorbar(im, ax=ax, label=_ylabel(indicator, lang))
    ax.set_title(t("fig_heatmap", lang), fontsize=10)
    return fig


def effect_bars(eff: pd.DataFrame, design: SweepDesign, indicator: str, lang: str = "en") -> Figure:
    """Paired effect of each lever setting on ``indicator`` with its 95% CI."""
    sub = eff[eff["indicator"] == indicator].reset_index(drop=True)
    fig = Figure(figsize=(7.0, 0.42 * max(len(sub), 2) + 1.4))
    ax = fig.add_subplot()
    scale = _scale(indicator)
    labels = [describe_levers({k: r[k] for k in design.levers}, short=True) for _, r in sub.iterrows()]
    y = np.arange(len(sub))
    diff = sub["diff"].to_numpy(float) * scale
    lo = sub["ci_low"].to_numpy(float) * scale
    hi = sub["ci_high"].to_numpy(float) * scale
    err = np.vstack([np.nan_to_num(diff - lo), np.nan_to_num(hi - diff)])
    colours = [COLOURS[0] if s else "#9bb7d4" for s in sub["significant"]]
    ax.barh(y, diff, xerr=err, color=colours, capsize=3, ecolor="#333", height=0.6)
    ax.axvline(0, color="#333", lw=0.8)
    ax.set_ylim(len(sub) - 0.5 if len(sub) > 1 else 1.0, -0.5 if len(sub) > 1 else -1.0)
    ax.set_yticks(y, labels, fontsize=7)
    unit = " (pp)" if scale == 100 else ""
    ax.set_xlabel(f"{t('difference', lang)}: {indicator_label(indicator, lang)}{unit}")
    ax.set_title(t("fig_bars", lang), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig


def tornado(summary: pd.DataFrame, keys: list[str], indicator: str, lang: str = "en") -> Figure | None:
    """Mean ``indicator`` at the low end (lowest fifth) and high end (highest fifth) of each numeric key."""
    rows = []
    overall = float(summary[indicator].mean())
    for k in keys:
        if k not in summary or not _numeric(summary, k) or summary[k].nunique() < 2:
            continue
        vals = summary[k].astype(float)
        if vals.nunique() <= 5:
            lo_mask, hi_mask = vals == vals.min(), vals == vals.max()
        else:
            lo_mask, hi_mask = vals <= vals.quantile(0.2), vals >= vals.quantile(0.8)
        rows.append((k, float(summary.loc[lo_mask, indicator].mean()), float(summary.loc[hi_mask, indicator].mean())))
    if not rows:
        return None
    rows.sort(key=lambda r: abs(r[2] - r[1]))
    scale = _scale(indicator)
    fig = Figure(figsize=(7.0, 0.45 * len(rows) + 1.5))
    ax = fig.add_subplot()
    y = np.arange(len(rows))
    for i, (_, lo, hi) in enumerate(rows):
        ax.barh(i, (lo - overall) * scale, left=overall * scale, color="#9bb7d4",
                label=t("tornado_low", lang) if i == 0 else None)
        ax.barh(i, (hi - overall) * scale, left=overall * scale, color=COLOURS[1],
                label=t("tornado_high", lang) if i == 0 else None)
    ax.axvline(overall * scale, color="#333", lw=0.8)
    ax.set_yticks(y, [param_label(r[0], lang, short=True) for r in rows], fontsize=7)
    ax.set_xlabel(_ylabel(indicator, lang))
    ax.set_title(t("fig_tornado", lang), fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return fig


def sensitivity_bars(res: Any, lang: str = "en") -> Figure:
    """Indices of a :class:`analysis.sensitivity.SensitivityResult` with CIs, dummy and noise floor."""
    from analysis.sensitivity import DUMMY

    tab = res.table.sort_values("rank")
    fig = Figure(figsize=(7.0, 0.42 * len(tab) + 1.5))
    ax = fig.add_subplot()
    y = np.arange(len(tab))
    colours = ["#aaaaaa" if p == DUMMY else (COLOURS[0] if a else "#9bb7d4")
               for p, a in zip(tab["parameter"], tab["above_floor"], strict=True)]
    err = np.nan_to_num(tab["conf"].to_numpy(float))
    ax.barh(y, tab["value"], xerr=err, color=colours, capsize=3, ecolor="#333")
    labels = [t("dummy", lang) if p == DUMMY else param_label(p, lang, short=True) for p in tab["parameter"]]
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    if res.noise_floor is not None and np.isfinite(res.noise_floor):
        ax.axvline(res.noise_floor, color="#c0392b", ls="--", lw=1.2, label=t("noise_floor", lang))
        ax.legend(fontsize=7, loc="lower right")
    ax.axvline(0, color="#333", lw=0.6)
    ax.set_xlabel(f"{res.method}: {res.index}  ({indicator_label(res.indicator, lang)})")
    ax.set_title(t("fig_sensitivity", lang), fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return fig


def prim_scatter(disc: Any, box_index: int = 0, lang: str = "en") -> Figure | None:
    """Uncertain points on the box's two first restricted parameters; failures red, the box drawn."""
    if not disc.boxes:
        return None
    box = disc.boxes[box_index]
    lim = box.limits[box.limits["low"].notna()]
    cols = list(lim["parameter"][:2])
    numeric = [c for c in disc.x.columns if _numeric(disc.x, c)]
    for c in numeric:
        if len(cols) >= 2:
            break
        if c not in cols:
            cols.append(c)
    if len(cols) < 2:
        return None
    fig = Figure(figsize=(6.0, 4.6))
    ax = fig.add_subplot()
    xv, yv = disc.x[cols[0]].astype(float), disc.x[cols[1]].astype(float)
    ok = ~disc.failed
    ax.scatter(xv[ok], yv[ok], s=18, color="#9bb7d4", label=t("works", lang))
    ax.scatter(xv[~ok], yv[~ok], s=22, color="#c0392b", marker="x", label=t("fails", lang))
    lows = {r.parameter: (r.low, r.high) for r in lim.itertuples()}
    x0, x1 = lows.get(cols[0], (xv.min(), xv.max()))
    y0, y1 = lows.get(cols[1], (yv.min(), yv.max()))
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="#c0392b", lw=1.5, ls="--"))
    ax.set_xlabel(param_label(cols[0], lang, short=True))
    ax.set_ylabel(param_label(cols[1], lang, short=True))
    ax.set_title(f"PRIM {t('box', lang)} 1: {t('coverage', lang)} {box.coverage:.0%}, "
                 f"{t('density', lang)} {box.density:.0%}", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return fig


def network(snapshot: dict[str, Any], lang: str = "en", title: str = "") -> Figure:
    """Draw a network snapshot (see :mod:`analysis.network`) coloured by engagement."""
    from analysis.network import ENGAGEMENT_COLOURS, layout

    pos = layout(snapshot)
    fig = Figure(figsize=(6.4, 6.4))
    ax = fig.add_subplot()
    from matplotlib.collections import LineCollection

    segs, widths, cols = [], [], []
    for e in snapshot.get("links", snapshot.get("edges", [])):
        a, b = pos.get(e["source"]), pos.get(e["target"])
        if a is None or b is None:
            continue
        kind = e.get("kind", "partnership")
        if kind == "competition":
            continue
        segs.append([a, b])
        widths.append(0.3 + 1.5 * float(e.get("strength", 0.3)) if kind == "partnership" else 0.3)
        cols.append("#3b6fb6" if kind == "partnership" else "#bbbbbb")
    ax.add_collection(LineCollection(segs, linewidths=widths, colors=cols, alpha=0.45, zorder=1))
    markers = {"school": "s", "anchor": "^", "sme": "o"}
    sizes = {"school": 60, "anchor": 90, "sme": 16}
    for kind, marker in markers.items():
        nodes = [n for n in snapshot["nodes"] if n.get("kind") == kind]
        if not nodes:
            continue
        xy = np.array([pos[n["id"]] for n in nodes])
        if kind == "school":
            colour = [(0.2, 0.4, 0.75, 0.4 + 0.6 * float(n.get("effort", 0.5))) for n in nodes]
        else:
            colour = [ENGAGEMENT_COLOURS.get(str(n.get("engagement", "none")), "#b8b8b8") for n in nodes]
        ax.scatter(xy[:, 0], xy[:, 1], s=sizes[kind], marker=marker, c=colour, edgecolors="#333",
                   linewidths=0.3, zorder=2)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], marker="o", ls="", color=c, label=t(f"eng_{lab}", lang))
               for lab, c in ENGAGEMENT_COLOURS.items()]
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or t("fig_network", lang), fontsize=10)
    return fig
