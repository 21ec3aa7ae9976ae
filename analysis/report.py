"""``consim report``: a self-contained HTML report of a finished or partial sweep.

Design note
-----------
:func:`build_report` reads a result directory through :func:`experiments.load`
(never running the model), computes the analyses of this package and writes
one HTML file that works offline: CSS inline, figures embedded as base64 PNG,
no scripts, no external links. Every piece of text that comes from files
(scenario titles, the sweep file, provenance, error messages) goes through
:func:`html.escape`. Sections: completeness (what is missing in a partial
sweep), the headline table, figures, indicator tables, paired comparisons,
cost-effectiveness, global sensitivity analysis, scenario discovery, the
scenario and provenance, and a methods paragraph. Each analysis that cannot
run (no lever grid, no design, incomplete sample) is replaced by a sentence
saying why. Labels are English or Chinese (``lang``); without a CJK font,
figures fall back to English and the report says so.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import figures
from analysis.design import SweepDesign, describe_levers, hashable, sweep_design
from analysis.discovery import Discovery, discover
from analysis.fonts import use_font_for
from analysis.headline import HEADLINE, MONEY, headline_numbers, headline_table
from analysis.labels import (
    check_lang,
    fmt_diff,
    fmt_key_value,
    fmt_value,
    indicator_label,
    param_label,
    param_meaning,
    t,
)
from analysis.network import read_snapshot, snapshot_paths
from analysis.sensitivity import SensitivityResult, sensitivity, suitable_methods
from analysis.stats import group_table, point_table

#: Indicator the figures, sensitivity analysis and scenario discovery focus on.
FOCUS = "sme_participation_rate"
#: A lever "fails" at an uncertain point when it raises the focus indicator by less than this.
MIN_GAIN = 0.05

CSS = """
body{font-family:-apple-system,'Segoe UI','Noto Sans','Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;
max-width:1180px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em;border-bottom:2px solid #1f6fb4;padding-bottom:.3em}h2{font-size:1.25em;margin-top:2em;color:#1f4f8a}
h3{font-size:1.05em}table{border-collapse:collapse;margin:.6em 0;font-size:.82em}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}th{background:#eef3f9}
td:first-child,th:first-child{text-align:left}table.headline td,table.headline th{font-size:1.05em;padding:5px 9px}
.note{color:#555;font-size:.9em}.warn{background:#fff4e0;border-left:4px solid #e0a030;padding:.5em .8em}
.ok{color:#1a7f3a;font-weight:600}.bad{color:#b03020;font-weight:600}figure{margin:1em 0}
figcaption{font-size:.88em;color:#444}img{max-width:100%}pre{background:#f6f6f6;padding:.7em;overflow-x:auto;font-size:.8em}
nav li{margin:.1em 0}
"""


@dataclass
class Report:
    """What :func:`build_report` computed (also useful in notebooks and tests)."""

    path: Path
    lang: str
    figure_lang: str
    design: SweepDesign | None = None
    headline: pd.DataFrame | None = None
    sensitivity: list[SensitivityResult] = field(default_factory=list)
    discoveries: list[Discovery] = field(default_factory=list)
    figures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- HTML helpers
def esc(value: Any) -> str:
    """Escape any value for HTML text."""
    return html.escape(str(value), quote=True)


def _table(frame: pd.DataFrame, cls: str = "") -> str:
    head = "".join(f"<th>{esc(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{esc(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _img(fig: Any, caption: str) -> str:
    data = base64.b64encode(figures.png(fig)).decode("ascii")
    return (f'<figure><img alt="{esc(caption)}" src="data:image/png;base64,{data}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def _p(text: str, cls: str = "") -> str:
    return f'<p class="{cls}">{esc(text)}</p>' if cls else f"<p>{esc(text)}</p>"


# ---------------------------------------------------------------- sections
def _completeness(results: Any, lang: str) -> tuple[str, dict[str, int]]:
    counts = results.counts()
    parts = []
    if counts["done"] == counts["total"]:
        parts.append(_p(t("complete", lang, total=counts["total"]), "ok"))
    else:
        parts.append(_p(t("partial", lang, **counts), "warn"))
        reps = int(results.sweep.get("replications", 1))
        done = results.summary.groupby("point_id").size()
        pts = results.points
        have = done.reindex(pts["point_id"], fill_value=0).to_numpy()
        missing = pts[have < reps].copy()
        missing.insert(1, t("replications_done", lang), [f"{int(h)} / {reps}" for h in have[have < reps]])
        for c in results.varied_keys:
            missing[c] = missing[c].map(lambda v, c=c: fmt_key_value(c, v))
        parts.append(f"<h3>{esc(t('missing_points', lang))} ({len(missing)})</h3>")
        parts.append(_table(missing.head(60)))
        if len(missing) > 60:
            parts.append(_p(f"… {len(missing) - 60} more", "note"))
        fails = results.failures
        if len(fails):
            parts.append(_table(fails[["run_id", "point_id", "replication", "error"]].head(20)))
    return "".join(parts), counts


def _indicator_tables(summary: pd.DataFrame, design: SweepDesign, lang: str) -> str:
    inds = [*HEADLINE, MONEY, "cost_per_participating_firm"]
    by = design.levers if design.uncertainties and design.levers else design.varied
    tab = group_table(summary, by, inds) if by else point_table(summary, [], inds)
    rows = []
    for vals, grp in tab.groupby(by, sort=True) if by else [((), tab)]:
        vals = vals if isinstance(vals, tuple) else (vals,)
        g = grp.set_index("indicator")
        row = {param_label(k, lang): fmt_key_value(k, v) for k, v in zip(by, vals, strict=True)}
        row[t("n", lang)] = int(g["n"].iloc[0])
        for ind in inds:
            r = g.loc[ind]
            ci = (f" [{fmt_value(ind, r['ci_low'])}, {fmt_value(ind, r['ci_high'])}]"
                  if np.isfinite(r["ci_low"]) else "")
            sd = f" ± {fmt_value(ind, r['sd'])}" if np.isfinite(r["sd"]) else ""
            row[indicator_label(ind, lang)] = f"{fmt_value(ind, r['mean'])}{sd}{ci}"
        rows.append(row)
    out = pd.DataFrame(rows)
    note = (f"{t('mean', lang)} ± {t('sd', lang)} [{t('ci', lang)}]")
    return _p(note, "note") + _table(out.head(80))


def _effects_table(numbers: dict[str, pd.DataFrame], design: SweepDesign, lang: str) -> str:
    eff = numbers["effects"]
    if eff.empty:
        return _p(t("no_levers", lang), "note")
    rows = []
    for d in eff.to_dict("records"):
        ind = d["indicator"]
        rows.append({t("policy", lang): describe_levers({k: d[k] for k in design.levers}),
                     t("indicator", lang): indicator_label(ind, lang),
                     t("reference", lang): fmt_value(ind, d["ref_mean"]),
                     t("policy", lang) + " ": fmt_value(ind, d["pol_mean"]),
                     t("difference", lang): fmt_diff(ind, d["diff"]),
                     t("ci", lang): (f"[{fmt_diff(ind, d['ci_low'])}, {fmt_diff(ind, d['ci_high'])}]"
                                     if np.isfinite(d["ci_low"]) else "–"),
                     "d_z": f"{d['d_z']:.2f}" if np.isfinite(d["d_z"]) else "–",
                     t("significant", lang): t("yes", lang) if d["significant"] else t("no", lang),
                     t("pairs", lang): d["pairs"]})
    return _table(pd.DataFrame(rows))


def _costs_table(numbers: dict[str, pd.DataFrame], design: SweepDesign, lang: str) -> str:
    c = numbers["costs"]
    if c.empty:
        return _p(t("no_levers", lang), "note")

    def ci(m: float, lo: float, hi: float, fmt: str = "{:,.0f}") -> str:
        if not np.isfinite(m):
            return "–"
        s = fmt.format(m)
        if np.isfinite(lo) and np.isfinite(hi):
            s += f" [{fmt.format(lo)}, {fmt.format(hi)}]"
        return s

    rows = []
    for d in c.to_dict("records"):
        rows.append({t("policy", lang): describe_levers({k: d[k] for k in design.levers}),
                     t("public_money", lang) + f" ({t('yuan', lang)})": ci(d["extra_money"], d["extra_money_low"],
                                                                           d["extra_money_high"]),
                     "ΔF": ci(d["extra_firms"], d["extra_firms_low"], d["extra_firms_high"], "{:.1f}"),
                     t("cost_per_firm", lang): ci(d["yuan_per_extra_firm"], d["yuan_per_extra_firm_low"],
                                                  d["yuan_per_extra_firm_high"]),
                     t("firms_per_million", lang): ci(d["extra_firms_per_million"], d["extra_firms_per_million_low"],
                                                      d["extra_firms_per_million_high"], "{:.2f}"),
                     t("deadweight", lang) + f" ({t('yuan', lang)})": ci(d["deadweight"], d["deadweight_low"],
                                                                         d["deadweight_high"]),
                     t("deadweight_share", lang): f"{100 * d['deadweight_share']:.0f}%"
                     if np.isfinite(d["deadweight_share"]) else "–"})
    return _table(pd.DataFrame(rows)) + _p(t("deadweight_note", lang), "note")


def _sensitivity_html(res: SensitivityResult, lang: str) -> str:
    from analysis.sensitivity import DUMMY

    rows = []
    for r in res.table.itertuples(index=False):
        rows.append({t("rank", lang): r.rank,
                     t("parameter", lang): t("dummy", lang) if r.parameter == DUMMY else param_label(r.parameter, lang),
                     res.index: f"{r.value:.3f}", "± (95%)": f"{r.conf:.3f}" if np.isfinite(r.conf) else "–",
                     t("above_floor", lang): t("yes", lang) if r.above_floor else t("no", lang)})
    source = {"dummy": t("dummy", lang), "replications": t("replications", lang)}.get(res.floor_source,
                                                                                        res.floor_source)
    floor = (f"{res.noise_floor:.3g} ({source})" if res.noise_floor is not None
             and np.isfinite(res.noise_floor) else source)
    checks = "".join(f'<li class="{"ok" if ok else "bad"}">{"✓" if ok else "✗"} {esc(text)}</li>'
                     for text, ok in res.checks)
    verdict = t("yes", lang) if res.enough else t("no", lang)
    head = (f"<h3>{esc(res.method)} — {esc(indicator_label(res.indicator, lang))}</h3>"
            f"<p>{esc(t('noise_floor', lang))}: {esc(floor)}; "
            f"{esc(t('points_x_reps', lang, points=res.points, reps=res.replications))}. <b>{esc(t('verdict', lang))}</b> "
            f'<span class="{"ok" if res.enough else "bad"}">{esc(verdict)}</span></p>')
    notes = "".join(_p(n, "note") for n in res.notes)
    return head + _table(pd.DataFrame(rows)) + f"<ul>{checks}</ul>" + notes


def _discovery_html(d: Discovery, lang: str) -> str:
    n = len(d.failed)
    out = [_p(t("failure_def", lang, desc=d.description, n_fail=d.failures, n=n,
                share=f"{d.failures / n:.0%}" if n else "–"))]
    out += [_p(x, "note") for x in d.notes]
    if d.boxes:
        rows = []
        for i, b in enumerate(d.boxes, 1):
            lims = "; ".join(
                f"{param_label(r.parameter, lang)} ∈ [{r.low:.4g}, {r.high:.4g}]" if r.values is None
                else f"{param_label(r.parameter, lang)} ∈ {{{', '.join(r.values)}}}"
                for r in b.limits.itertuples(index=False)) or "–"
            rows.append({t("box", lang): i, t("coverage", lang): f"{b.coverage:.0%}",
                         t("density", lang): f"{b.density:.0%}", t("mass", lang): f"{b.mass:.0%}",
                         "lift": f"{b.lift:.1f}",
                         t("restricted", lang): lims})
        out.append(_table(pd.DataFrame(rows)))
    return "".join(out)


def _methods(design: SweepDesign | None, reps: int, lang: str) -> str:
    if lang == "zh":
        text = (
            f"每个设计点运行 {reps} 次重复,重复 r 在所有设计点使用同一随机种子(共同随机数)。指标在各设计点取重复运行的均值、标准差与"
            "Student t 95%置信区间。政策效果为政策运行与同种子、同不确定参数的参照运行之差(配对比较),报告配对差均值、t 置信区间与标准化效应"
            " d_z。公共资金为 subsidy_spent(最后一年的补贴与税收抵免);成本效益为新增公共支出与新增参与企业数之比(配对自助法置信区间);"
            "无谓支出在只有汇总指标时按 subsidy_spent × 参照参与率/政策参与率 近似。全局敏感性分析用 SALib:Sobol 指数(Saltelli 设计,"
            "Jansen 总效应)、Morris 基本效应、RBD-FAST 与 PAWN(任意样本);先对每个设计点的重复取平均;对任意样本方法加入一个独立随机"
            "虚拟参数作为噪声底线,对 Sobol 与 Morris 用重复运行的方差估计噪声底线;置信区间为自助法;“样本是否足够”综合四项检查。"
            "情景发现用 EMA Workbench 的 PRIM:在不确定参数空间中寻找政策失效(效果低于阈值)集中的区域,报告覆盖率与密度。"
            "分析只读取已存结果,不重新运行模型。")
    else:
        text = (
            f"Each design point ran {reps} replication(s); replication r uses the same seed at every point (common random "
            "numbers). Indicators are combined over replications per point as mean, standard deviation and a Student-t 95% "
            "confidence interval. A policy's effect is the difference between a policy run and the reference run with the same "
            "seed and the same uncertain values (paired comparison), reported as the mean paired difference with its t interval "
            "and the standardised effect d_z. Public money is subsidy_spent (subsidies and credits paid in the final year); "
            "cost-effectiveness is extra public money per additional participating firm (ratio of means, percentile bootstrap "
            "over pairs); deadweight is approximated from aggregates as subsidy_spent × reference participation / policy "
            "participation. Global sensitivity analysis uses SALib: Sobol' indices (Saltelli design, Jansen total effects), "
            "Morris elementary effects, and RBD-FAST and PAWN on any sample, each on the indicator averaged over replications "
            "per point. The sample-free methods analyse an independent random dummy column as the noise floor; for Sobol' and "
            "Morris the floor is estimated from the replication variance. CIs are bootstrap intervals; the verdict 'sample "
            "large enough?' combines four checks listed with each result. Scenario discovery runs PRIM (EMA Workbench) over the "
            "uncertain parameters to find the region where the lever fails (its effect is below a minimum gain), with the "
            "boxes' coverage and density. The analysis reads stored results only and never re-runs the model.")
    return _p(text)


def _scenario_html(results: Any, lang: str) -> str:
    out = []
    base = results.dir / "base.toml"
    meta: dict[str, Any] = {}
    if base.exists():
        import tomllib

        try:
            meta = tomllib.loads(base.read_text(encoding="utf-8")).get("meta", {}) or {}
        except (OSError, ValueError):
            meta = {}
    title = meta.get("title_zh" if lang == "zh" else "title") or meta.get("title") or results.sweep.get("base", "")
    desc = meta.get("description_zh" if lang == "zh" else "description") or meta.get("description") or ""
    out.append(f"<p><b>{esc(title)}</b></p>")
    if desc:
        out.append(_p(desc))
    if results.sweep.get("description"):
        out.append(_p(results.sweep["description"]))
    design = results.sweep.get("design")
    rows = []
    for k in results.varied_keys:
        vals = (results.sweep.get("vary") or {}).get(k)
        rng = vals if vals is not None else (design or {}).get("ranges", {}).get(k)
        rows.append({t("parameter", lang): k, t("values_range", lang): json.dumps(rng, ensure_ascii=False),
                     t("meaning", lang): param_meaning(k, lang)})
    if rows:
        out.append(_table(pd.DataFrame(rows)))
    sweep_file = results.dir / "sweep.toml"
    if sweep_file.exists():
        out.append(f"<h3>{esc(t('sweep_file', lang))}</h3><pre>{esc(sweep_file.read_text(encoding='utf-8'))}</pre>")
    prov = results.provenance
    keep = {k: prov.get(k) for k in ("sweep", "sweep_sha256", "code", "packages", "python", "platform", "command",
                                     "started", "finished")}
    keep["sessions"] = len(prov.get("sessions", []))
    out.append(f"<h3>{esc(t('provenance', lang))}</h3><pre>{esc(json.dumps(keep, indent=2, ensure_ascii=False))}</pre>")
    return "".join(out)


# ---------------------------------------------------------------- the report
def _grid_where(results: Any, design: SweepDesign) -> dict[str, Any]:
    where = {k: v for k, v in design.reference.items()}
    for k in (results.sweep.get("vary") or {}):
        if k not in where:
            where[k] = results.sweep["vary"][k][0]
    return where


def build_report(directory: str | os.PathLike[str], lang: str = "en", out: str | os.PathLike[str] | None = None,
                 focus: str = FOCUS, min_gain: float = MIN_GAIN) -> Report:
    """Write the HTML report of the sweep in ``directory``; returns what was computed."""
    from experiments.results import load as load_results

    check_lang(lang)
    results = load_results(directory)
    path = Path(out) if out else results.dir / f"report.{lang}.html"
    fig_lang, _font = use_font_for(lang)
    rep = Report(path=path, lang=lang, figure_lang=fig_lang)
    body: list[str] = []
    toc: list[tuple[str, str]] = []

    def section(anchor: str, key: str, content: str) -> None:
        toc.append((anchor, t(key, lang)))
        body.append(f'<h2 id="{anchor}">{esc(t(key, lang))}</h2>{content}')

    if lang == "zh" and fig_lang != "zh":
        rep.notes.append(t("font_warning", lang))
    comp, rep.counts = _completeness(results, lang)
    section("completeness", "completeness", comp)
    summary = results.summary
    name = results.sweep.get("name", results.dir.name)
    if summary.empty:
        body.append(_p(t("no_runs", lang), "warn"))
    else:
        design = sweep_design(results)
        rep.design = design
        seed = int(results.sweep.get("seed", 0))
        focus_ind = focus if focus in summary else "firm_participation_rate"
        numbers = headline_numbers(summary, design, seed=seed)
        head = headline_table(numbers, design, lang)
        rep.headline = head
        intro = _p(t("reference_is", lang, desc=describe_levers(design.reference) if design.levers else "–"))
        if not design.levers:
            intro += _p(t("no_levers", lang), "note")
        section("headline", "headline", intro + _table(head, "headline") + _p(t("headline_note", lang), "note"))

        # ---- figures
        figs: list[str] = []

        def add(fig: Any, caption: str, tag: str) -> None:
            if fig is not None:
                figs.append(_img(fig, caption))
                rep.figures.append(tag)

        ts = results.timeseries_with_points()
        ts_ind = next((i for i in (focus_ind, *HEADLINE) if i in ts.columns), None)
        if ts_ind is not None and len(ts):
            add(figures.timeseries(ts, design, ts_ind, fig_lang),
                f"{t('fig_timeseries', lang)} — {indicator_label(ts_ind, lang)}", "timeseries")
        numeric_levers = [k for k in design.levers if pd.api.types.is_numeric_dtype(summary[k])
                          and not pd.api.types.is_bool_dtype(summary[k]) and summary[k].nunique() >= 2]
        for lever in numeric_levers[:3]:
            add(figures.dose_response(summary, design, focus_ind, lever, fig_lang),
                f"{t('fig_dose', lang)} — {indicator_label(focus_ind, lang)} / {lever}", "dose_response")
        multi = [k for k in design.levers if summary[k].map(hashable).nunique() >= 2]
        if len(multi) >= 2:
            add(figures.heatmap(summary, multi[0], multi[1], focus_ind, fig_lang),
                f"{t('fig_heatmap', lang)} — {indicator_label(focus_ind, lang)}", "heatmap")
        if not numbers["effects"].empty:
            for ind in dict.fromkeys([focus_ind, "firm_participation_rate"]):
                add(figures.effect_bars(numbers["effects"], design, ind, fig_lang),
                    f"{t('fig_bars', lang)} — {indicator_label(ind, lang)}", "effect_bars")
        snaps = snapshot_paths(results.dir)
        if snaps:
            try:
                snap = read_snapshot(snaps[0])
                add(figures.network(snap, fig_lang, title=f"{t('fig_network', lang)} (run {snaps[0].stem})"),
                    t("fig_network", lang), "network")
            except ValueError as e:
                figs.append(_p(str(e), "warn"))
        else:
            figs.append(_p(t("network_missing", lang), "note"))
        add(figures.tornado(summary, design.varied, focus_ind, fig_lang),
            f"{t('fig_tornado', lang)} — {indicator_label(focus_ind, lang)}", "tornado")

        # ---- sensitivity
        sa_parts: list[str] = []
        methods = suitable_methods(results)
        if not methods:
            sa_parts.append(_p(t("sensitivity_none", lang, why="the sweep has no sampled [design] (grid only)"), "note"))
        for m in methods:
            try:
                res = sensitivity(results, focus_ind, m, where=_grid_where(results, design) or None, seed=seed,
                                  lang=lang)
            except (ValueError, KeyError) as e:
                sa_parts.append(_p(f"{m}: " + t("sensitivity_none", lang, why=str(e)), "note"))
                continue
            rep.sensitivity.append(res)
            sa_parts.append(_sensitivity_html(res, lang))
            sa_parts.append(_img(figures.sensitivity_bars(res, fig_lang), f"{t('fig_sensitivity', lang)} ({m})"))
            rep.figures.append(f"sensitivity_{m}")

        # ---- scenario discovery
        sd_parts: list[str] = []
        if not design.levers:
            sd_parts.append(_p(t("discovery_none", lang, why="no lever grid to compare against the reference; "
                                 "use analysis.discover(..., threshold=...) for a threshold on an indicator"), "note"))
        elif not design.uncertainties:
            sd_parts.append(_p(t("discovery_none", lang, why="the sweep varies no uncertain parameter"), "note"))
        else:
            cells = numbers["effects"][design.levers].drop_duplicates() if not numbers["effects"].empty else []
            for _, cell in (cells.head(3).iterrows() if len(cells) else []):
                lever = {k: cell[k] for k in design.levers}
                try:
                    d = discover(results, design, focus_ind, lever=lever, min_gain=min_gain, lang=lang)
                except ValueError as e:
                    sd_parts.append(_p(t("discovery_none", lang, why=str(e)), "note"))
                    continue
                rep.discoveries.append(d)
                sd_parts.append(f"<h3>{esc(describe_levers(lever))}</h3>" + _discovery_html(d, lang))
                fig = figures.prim_scatter(d, 0, fig_lang)
                if fig is not None:
                    sd_parts.append(_img(fig, "PRIM"))
                    rep.figures.append("prim")

        section("figures", "figures", "".join(figs))
        section("effects", "effects_section", _effects_table(numbers, design, lang))
        section("costs", "cost_section", _costs_table(numbers, design, lang))
        section("indicators", "indicators_section", _indicator_tables(summary, design, lang))
        section("sensitivity", "sensitivity_section", "".join(sa_parts))
        section("discovery", "discovery_section", "".join(sd_parts))
    section("scenario", "scenario_section", _scenario_html(results, lang))
    section("methods", "methods_section", _methods(rep.design, int(results.sweep.get("replications", 1)), lang))

    when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    warn = "".join(_p(n, "warn") for n in rep.notes)
    nav = "<nav><b>" + esc(t("contents", lang)) + "</b><ol>" + "".join(
        f'<li><a href="#{a}">{esc(label)}</a></li>' for a, label in toc) + "</ol></nav>"
    doc = (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">'
           f"<title>{esc(t('title', lang, name=name))}</title><style>{CSS}</style></head><body>"
           f"<h1>{esc(t('title', lang, name=name))}</h1>"
           f"{_p(t('generated', lang, when=when, dir=results.dir), 'note')}{warn}{nav}{''.join(body)}</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)
    return rep
