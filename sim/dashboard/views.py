"""Pictures of a run: the consortium network and the indicator charts (matplotlib).

Design note
-----------
Everything is drawn with matplotlib into PNG images, which the browser shows
without any JavaScript charting library: the dashboard works offline and the
pictures look the same in a report or a screenshot.

The network layout is computed here, cheaply and deterministically, from the
model's structure, never from an unseeded spring layout: schools on an inner
circle (by tier), anchor firms on a middle ring, each anchor's supplier SMEs
in a fan outside it (supply-chain ties), and the other SMEs on the outer ring,
grouped by sector. Positions use the golden-angle sequence, so the same
network always looks the same. Shape tells the agent type (square school,
triangle anchor firm, circle SME); colour tells engagement depth (grey none,
amber shallow, green deep; schools in blue, darker = more effort); ties are
drawn with a width proportional to partnership strength.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sim.dashboard.i18n import indicator_label, text
from sim.fonts import use_font_for
from sim.indicators import BY_NAME

ENGAGEMENT_COLOURS = ("#b8b8b8", "#f0a030", "#1a8f4a")  # none, shallow, deep
SCHOOL_CMAP = "Blues"
TIE_COLOUR = "#3b6fb6"
SUPPLY_COLOUR = "#9a9a9a"
GOLDEN = (math.sqrt(5) - 1) / 2
TIER_ORDER = {"secondary": 0, "higher": 1, "undergraduate": 2}

#: The charts the dashboard shows: (title message key, indicator names).
CHARTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("chart_participation", ("sme_participation_rate", "anchor_participation_rate", "deep_engagement_share")),
    ("chart_gap", ("school_effort_index", "firm_effort_index", "engagement_gap")),
    ("chart_retention", ("retention_rate", "poaching_rate")),
    ("chart_quality", ("placement_quality", "hosts_losing_money_share")),
    ("chart_graduates", ("graduate_local_employment_rate", "skill_match_rate")),
    ("chart_money", ("subsidy_spent",)),
)
LINE_COLOURS = ("#1f6fb4", "#d9541e", "#2a9d3a", "#8e44ad")

def use_cjk_font() -> str | None:
    """Let matplotlib fall back to an installed CJK font for Chinese text; returns its name (see :mod:`sim.fonts`)."""
    return use_font_for("zh")[1]


# ---------------------------------------------------------------------------- layout
_LAYOUTS: weakref.WeakKeyDictionary[Any, dict[Any, tuple[float, float]]] = weakref.WeakKeyDictionary()


def network_layout(model: Any) -> dict[Any, tuple[float, float]]:
    """Deterministic drawing positions of every node (cached per model)."""
    try:
        return _LAYOUTS[model]
    except (KeyError, TypeError):
        pass
    pos = compute_layout(model)
    try:
        _LAYOUTS[model] = pos
    except TypeError:  # pragma: no cover - models that cannot be weakly referenced
        pass
    return pos


def _ring(items: Sequence[Any], radius: float, phase: float = 0.0) -> dict[Any, tuple[float, float]]:
    n = len(items)
    return {it: (radius * math.cos(phase + 2 * math.pi * i / n), radius * math.sin(phase + 2 * math.pi * i / n))
            for i, it in enumerate(items)} if n else {}


def compute_layout(model: Any) -> dict[Any, tuple[float, float]]:
    """Schools inside, anchors on a ring, supplier SMEs fanned out around their anchor."""
    g = model.G
    schools = sorted(model.schools, key=lambda a: (TIER_ORDER.get(getattr(a, "tier", ""), 9), a.node))
    anchors = sorted(model.anchors, key=lambda a: a.node)
    smes = sorted(model.smes, key=lambda a: a.node)
    pos: dict[Any, tuple[float, float]] = {}
    pos.update(_ring([s.node for s in schools], 0.3, phase=math.pi / 2))
    anchor_angle: dict[Any, float] = {}
    n_a = len(anchors)
    for i, a in enumerate(anchors):
        ang = math.pi / 2 + 2 * math.pi * i / max(n_a, 1)
        anchor_angle[a.node] = ang
        pos[a.node] = (0.65 * math.cos(ang), 0.65 * math.sin(ang))
    fans: dict[Any, list[Any]] = {a: [] for a in anchor_angle}
    loose: list[Any] = []
    for s in smes:
        host = None
        if s.node in g:
            for nb, data in g[s.node].items():
                if data.get("supply") and nb in anchor_angle:
                    host = nb if host is None else min(host, nb)
        (fans[host] if host is not None else loose).append(s)
    wedge = 2 * math.pi / max(n_a, 1)
    for a_node, members in fans.items():
        k = len(members)
        for j, s in enumerate(members):
            frac = (j * GOLDEN) % 1.0 - 0.5
            ang = anchor_angle[a_node] + 0.8 * wedge * frac
            r = 0.95 + 0.35 * (j + 0.5) / max(k, 1)
            pos[s.node] = (r * math.cos(ang), r * math.sin(ang))
    loose.sort(key=lambda s: (str(getattr(s, "sector", "")), s.node))
    n_l = len(loose)
    for j, s in enumerate(loose):
        ang = math.pi / 2 + 2 * math.pi * j / max(n_l, 1)
        r = 1.5 + 0.08 * ((j * GOLDEN) % 1.0)
        pos[s.node] = (r * math.cos(ang), r * math.sin(ang))
    for node in g.nodes:  # anything else the model put in the graph
        if node not in pos:
            pos[node] = (0.0, 0.0)
    return pos


# ---------------------------------------------------------------------------- network
def draw_network(model: Any, lang: str, title: str | None = None, size: tuple[float, float] = (5.6, 5.6)) -> Figure:
    """The consortium network of ``model`` as a matplotlib figure."""
    pos = network_layout(model)
    fig = Figure(figsize=size, dpi=90)
    ax = fig.add_axes((0.0, 0.09, 1.0, 0.84))
    ax.set_axis_off()
    ax.set_aspect("equal")
    g = model.G
    supply, ties, widths = [], [], []
    for u, v, d in g.edges(data=True):
        strength = float(d.get("partnership", 0.0) or 0.0)
        if strength > 0:
            ties.append((pos[u], pos[v]))
            widths.append(0.15 + 1.6 * min(strength, 1.0))
        elif d.get("supply"):
            supply.append((pos[u], pos[v]))
    if supply:
        ax.add_collection(LineCollection(supply, colors=SUPPLY_COLOUR, linewidths=0.3, alpha=0.35, zorder=1))
    if ties:
        ax.add_collection(LineCollection(ties, colors=TIE_COLOUR, linewidths=widths, alpha=0.3, zorder=2))
    for agents, marker, size_pt in ((model.smes, "o", 14), (model.anchors, "^", 120)):
        agents = list(agents)
        if not agents:
            continue
        xy = np.array([pos[a.node] for a in agents])
        cols = [ENGAGEMENT_COLOURS[int(min(max(getattr(a, "engagement", 0), 0), 2))] for a in agents]
        ax.scatter(xy[:, 0], xy[:, 1], s=size_pt, c=cols, marker=marker, edgecolors="#333333",
                   linewidths=0.3 if marker == "o" else 0.8, zorder=3 if marker == "o" else 4)
    schools = list(model.schools)
    if schools:
        xy = np.array([pos[s.node] for s in schools])
        effort = [float(getattr(s, "effort", 0.5)) for s in schools]
        ax.scatter(xy[:, 0], xy[:, 1], s=70, c=effort, cmap=SCHOOL_CMAP, vmin=0, vmax=1, marker="s",
                   edgecolors="#1b2a4a", linewidths=0.8, zorder=5)
    ax.set_xlim(-1.65, 1.65)
    ax.set_ylim(-1.65, 1.65)
    if title:
        fig.suptitle(title, fontsize=11, y=0.985)
    handles = [
        Line2D([], [], marker="s", ls="", color="#6a9fd4", markeredgecolor="#1b2a4a", label=text("legend_school", lang)),
        Line2D([], [], marker="^", ls="", color="#dddddd", markeredgecolor="#333333", label=text("legend_anchor", lang)),
        Line2D([], [], marker="o", ls="", color="#dddddd", markeredgecolor="#333333", label=text("legend_sme", lang)),
        Line2D([], [], marker="o", ls="", color=ENGAGEMENT_COLOURS[0], label=text("legend_none", lang)),
        Line2D([], [], marker="o", ls="", color=ENGAGEMENT_COLOURS[1], label=text("legend_shallow", lang)),
        Line2D([], [], marker="o", ls="", color=ENGAGEMENT_COLOURS[2], label=text("legend_deep", lang)),
        Line2D([], [], color=TIE_COLOUR, lw=2, alpha=0.6, label=text("legend_tie", lang)),
    ]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=7, frameon=False, handletextpad=0.3,
               columnspacing=0.8)
    return fig


# ---------------------------------------------------------------------------- charts
def _money(v: float, _pos: Any = None, lang: str = "en") -> str:
    if lang == "zh":
        if abs(v) >= 1e8:
            return f"{v / 1e8:.1f}亿"
        if abs(v) >= 1e4:
            return f"{v / 1e4:.0f}万"
        return f"{v:.0f}"
    if abs(v) >= 1e6:
        return f"{v / 1e6:.1f}M"
    if abs(v) >= 1e3:
        return f"{v / 1e3:.0f}k"
    return f"{v:.0f}"


def draw_chart(title_key: str, names: Sequence[str], ts: pd.DataFrame, ref: pd.DataFrame | None, lang: str,
               size: tuple[float, float] = (4.6, 3.1), policy_years: Sequence[int] = ()) -> Figure:
    """One live chart: ``names`` over simulated years, the reference run dashed.

    ``policy_years`` are the years in which the run's policy changes (its
    ``policy.schedule``); each gets a dotted vertical line where it starts.
    """
    fig = Figure(figsize=size, dpi=90)
    ax = fig.add_subplot()
    fig.subplots_adjust(left=0.15, right=0.98, top=0.89, bottom=0.34)
    ax.set_title(text(title_key, lang), fontsize=10)
    money = all(BY_NAME[n].unit.startswith("yuan") for n in names)
    for i, name in enumerate(names):
        colour = LINE_COLOURS[i % len(LINE_COLOURS)]
        label = indicator_label(name, lang)
        flow = BY_NAME[name].summary == "final-year total"
        if flow:
            label += text("last_12_months", lang)
        for frame, style in ((ts, {"lw": 1.8}), (ref, {"lw": 1.3, "ls": "--", "alpha": 0.8})):
            if frame is None or (frame is ref and (frame.empty or name not in frame)):
                continue
            if frame.empty or name not in frame:
                ax.plot([], [], color=colour, label=label, **style)
                continue
            y = frame[name]
            if flow:  # annualised monthly flows: show the total of the last 12 months
                y = y.rolling(12, min_periods=1).sum() / 12.0
            ax.plot(frame["step"] / 12.0, y, color=colour, label=label if frame is ts else None, **style)
    if ref is not None:
        ax.plot([], [], color="#555555", lw=1.8, label=text("yours", lang))
        ax.plot([], [], color="#555555", lw=1.3, ls="--", label=text("reference", lang))
    for y in policy_years:
        ax.axvline(y - 1, color="#7a4cc2", ls=":", lw=1.2, alpha=0.9)
    ind = BY_NAME[names[0]]
    if money:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, p: _money(v, p, lang)))
        if ts.empty:
            ax.set_ylim(0, 1e6)
        else:
            ax.set_ylim(bottom=0)
        ax.set_ylabel(text("yuan_axis", lang), fontsize=8)
    elif ind.low is not None and ind.high is not None:
        lo = min(BY_NAME[n].low or 0.0 for n in names)
        ax.set_ylim(lo - 0.02, 1.02)
    ax.set_xlabel(text("years_axis", lang), fontsize=8)
    xmax = max(1.0, float(ts["step"].max()) / 12.0 if not ts.empty else 1.0)
    ax.set_xlim(0, xmax)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.25)
    if ts.empty:
        ax.text(0.5, 0.5, text("no_data", lang), transform=ax.transAxes, ha="center", va="center",
                fontsize=9, color="#777777")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.24), ncol=2, fontsize=7,
              frameon=False, columnspacing=1.0, handlelength=1.6, labelspacing=0.25)
    return fig
