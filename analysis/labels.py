"""Words of the analysis output in English and Chinese (中文).

Design note
-----------
Indicator and parameter wording is never repeated here: labels, units,
directions and meanings come from :mod:`sim.indicators` and
:mod:`sim.parameters`. An indicator's English label is its name in words
(``sme_participation_rate`` -> "SME participation rate"), its Chinese label
its ``meaning_zh``. A parameter's Chinese label is its ``meaning_zh`` when the
declaration has one, else its dotted key. Only the report's own words (section
titles, column heads, notes) live in :data:`TEXT`, one entry per message with
its English and Chinese text.
"""

from __future__ import annotations

import math
from typing import Any

from sim.indicators import BY_NAME as INDICATORS
from sim.parameters import BY_KEY as PARAMS

LANGS = ("en", "zh")

_ACRONYMS = {"sme": "SME", "smes": "SMEs"}

#: The report's own words: key -> (English, Chinese).
TEXT: dict[str, tuple[str, str]] = {
    "title": ("Sweep report: {name}", "参数扫描报告:{name}"),
    "generated": ("Generated {when} from {dir} by consim report (analysis reads stored results; it never re-runs the model).",
                  "{when} 由 consim report 根据 {dir} 生成(分析只读取已存结果,不重新运行模型)。"),
    "contents": ("Contents", "目录"),
    "headline": ("Headline: which lever, how much, for whom, at what cost, how sure", "要点:哪项政策、效果多大、惠及谁、成本多少、把握多大"),
    "headline_note": ("Each row compares a policy design point with the reference point on the same seeds (common random numbers): "
                      "differences are means of paired differences over replications with 95% confidence intervals. "
                      "Shares are shown in percent and differences in percentage points (pp).",
                      "每行将一个政策设计点与参照点在相同随机种子下比较(共同随机数):差值为各重复运行配对差的均值及95%置信区间。"
                      "比例以百分比表示,差值以百分点(pp)表示。"),
    "reference": ("Reference point", "参照点"),
    "reference_is": ("Reference (baseline) point: {desc}.", "参照(基准)点:{desc}。"),
    "no_levers": ("The sweep varies no policy lever in a [vary] grid, so there is no paired policy comparison.",
                  "本次扫描未在 [vary] 网格中改变政策工具,因此没有配对的政策比较。"),
    "point": ("Design point", "设计点"),
    "policy": ("Policy", "政策"),
    "effect": ("Effect vs reference", "相对参照的效果"),
    "significant": ("CI excludes 0", "置信区间不含0"),
    "public_money": ("Extra public money", "新增公共支出"),
    "cost_per_firm": ("Extra public money per additional participating firm", "每新增一家参与企业的新增公共支出"),
    "firms_per_million": ("Additional participating firms per million yuan", "每百万元新增参与企业数"),
    "deadweight": ("Deadweight (approx.)", "无谓支出(近似)"),
    "deadweight_share": ("Deadweight share", "无谓支出占比"),
    "deadweight_note": ("Deadweight is public money paid to firms that would have taken part anyway. The store holds only aggregate "
                        "indicators, so it is approximated as subsidy_spent × (reference participation / policy participation), per paired "
                        "replication; this assumes payments are spread evenly over participants and is an approximation.",
                        "无谓支出指支付给本来就会参与的企业的公共资金。结果库只保存汇总指标,因此按每个配对重复运行近似为 "
                        "subsidy_spent × (参照参与率 / 政策参与率);它假设补贴在参与企业间平均分配,只是近似值。"),
    "cost_section": ("Cost-effectiveness", "成本效益"),
    "indicators_section": ("Indicators by design point (mean, standard deviation, 95% CI over replications)",
                           "各设计点指标(重复运行的均值、标准差、95%置信区间)"),
    "effects_section": ("Paired comparisons with the reference", "与参照点的配对比较"),
    "figures": ("Figures", "图"),
    "fig_timeseries": ("Time series: mean over replications with a 95% confidence band", "时间序列:重复运行均值及95%置信带"),
    "fig_dose": ("Dose–response: indicator against the lever's value (mean, 95% CI)", "剂量—反应:指标随政策力度变化(均值与95%置信区间)"),
    "fig_heatmap": ("Two levers together: mean indicator over the grid", "两项政策组合:网格上的指标均值"),
    "fig_bars": ("Effect of each policy point against the reference (paired, 95% CI)", "各政策点相对参照的效果(配对,95%置信区间)"),
    "fig_network": ("Network snapshot coloured by engagement", "按参与深度着色的网络快照"),
    "fig_tornado": ("Tornado: spread of the indicator across each varied key's range", "龙卷风图:各变动参数范围内指标的变化幅度"),
    "fig_sensitivity": ("Sensitivity indices with bootstrap 95% CIs and the noise floor", "敏感性指数(自助法95%置信区间)与噪声底线"),
    "network_missing": ("No network snapshot in this result directory (expected DIR/networks/<run_id>.json, node-link JSON with each "
                        "node's kind and engagement; the sweep file may have set network_snapshots = false), so this figure is skipped.",
                        "结果目录中没有网络快照(应为 DIR/networks/<run_id>.json,节点—连边 JSON,含节点类型与参与深度);"
                        "(扫描文件可能设置了 network_snapshots = false),因此略过此图。"),
    "sensitivity_section": ("Global sensitivity analysis", "全局敏感性分析"),
    "sensitivity_none": ("Not run: {why}", "未进行:{why}"),
    "noise_floor": ("noise floor", "噪声底线"),
    "dummy": ("dummy (random column)", "虚拟参数(随机列)"),
    "verdict": ("Sample large enough?", "样本是否足够?"),
    "discovery_section": ("Scenario discovery: when does a lever fail?", "情景发现:政策何时失效?"),
    "discovery_none": ("Not run: {why}", "未进行:{why}"),
    "box": ("Box", "盒"),
    "coverage": ("Coverage", "覆盖率"),
    "density": ("Density", "密度"),
    "mass": ("Mass", "质量"),
    "restricted": ("Restrictions", "限制条件"),
    "failure_def": ("Failure: {desc}. {n_fail} of {n} uncertain points fail ({share}).",
                    "失效定义:{desc}。{n} 个不确定性点中有 {n_fail} 个失效({share})。"),
    "scenario_section": ("Scenario and provenance", "情景与来源"),
    "sweep_file": ("Sweep file", "扫描文件"),
    "provenance": ("Provenance", "来源信息"),
    "methods_section": ("Methods", "方法"),
    "completeness": ("Completeness", "完成情况"),
    "complete": ("All {total} planned runs are done.", "计划的 {total} 次运行全部完成。"),
    "partial": ("Partial sweep: {done} of {total} runs done, {failed} failed, {pending} pending. Tables use finished runs only; "
                "points with missing replications are listed below; analyses that need the whole sample are skipped.",
                "扫描未完成:{total} 次运行中完成 {done} 次,失败 {failed} 次,待运行 {pending} 次。表格仅使用已完成的运行;"
                "缺少重复运行的设计点列于下方;需要完整样本的分析被略过。"),
    "missing_points": ("Design points with missing replications", "缺少重复运行的设计点"),
    "replications_done": ("Replications done", "已完成重复次数"),
    "planned": ("planned", "计划"),
    "font_warning": ("No CJK font was found, so figure labels are in English (install fonts-noto-cjk for Chinese labels).",
                     "未找到中文字体,图中标签改用英文(安装 fonts-noto-cjk 可显示中文)。"),
    "no_runs": ("No finished runs yet: nothing to analyse.", "尚无已完成的运行,无可分析内容。"),
    "mean": ("mean", "均值"), "sd": ("sd", "标准差"), "ci": ("95% CI", "95%置信区间"), "n": ("n", "样本数"),
    "indicator": ("Indicator", "指标"), "parameter": ("Parameter", "参数"), "method": ("Method", "方法"),
    "index": ("Index", "指数"), "rank": ("Rank", "排名"), "above_floor": ("Above noise floor", "高于噪声底线"),
    "yes": ("yes", "是"), "no": ("no", "否"),
    "year": ("Year", "年"), "value": ("Value", "数值"),
    "difference": ("Difference", "差值"), "replications": ("Replications", "重复次数"),
    "pairs": ("Runs (pairs)", "运行(配对)数"),
    "tornado_low": ("at low end", "低端"), "tornado_high": ("at high end", "高端"),
    "yuan": ("yuan", "元"), "million_yuan": ("million yuan", "百万元"),
    "eng_none": ("not engaged", "未参与"), "eng_shallow": ("shallow", "浅度参与"), "eng_deep": ("deep", "深度参与"),
    "works": ("lever works", "政策有效"), "fails": ("lever fails", "政策失效"),
    "points_x_reps": ("{points} points × {reps} replications", "{points} 个设计点 × {reps} 次重复"),
    "values_range": ("values / range", "取值/范围"), "meaning": ("meaning", "含义"),
    # sensitivity checks
    "chk_top": ("top parameter {name} is above the noise floor ({floor})", "排名第一的参数 {name} 高于噪声底线({floor})"),
    "chk_floor_unknown": ("the noise floor is known (it is not: one replication per point)",
                          "噪声底线已知(未知:每个设计点只有一次重复)"),
    "chk_ci": ("CI half-widths at most half the index for influential parameters (worst {worst})",
               "有影响参数的置信区间半宽不超过指数的一半(最差 {worst})"),
    "chk_halves_small": ("two halves of the sample agree (sample too small to split)", "样本两半结果一致(样本太小,无法拆分)"),
    "chk_halves_rel": ("two halves of the sample agree (largest difference {diff}, {rel} of the largest mu*; allowed {tol})",
                       "样本两半结果一致(最大差 {diff},为最大 mu* 的 {rel};允许 {tol})"),
    "chk_halves": ("two halves of the sample agree (largest difference {diff}; allowed {tol})",
                   "样本两半结果一致(最大差 {diff};允许 {tol})"),
    "chk_dummy": ("the dummy ranks below every influential parameter (dummy rank {rank})",
                  "虚拟参数排在所有有影响参数之后(虚拟参数排名 {rank})"),
    "one_rep": ("one replication per point: the noise floor cannot be estimated", "每个设计点只有一次重复:无法估计噪声底线"),
    # scenario discovery
    "fail_gain": ("{lever} changes {indicator} by less than {gain} over the paired reference",
                  "{lever} 使{indicator}相对配对参照的变化小于 {gain}"),
    "fail_threshold_below": ("{prefix}{indicator} below {value}", "{prefix}{indicator}低于 {value}"),
    "fail_threshold_above": ("{prefix}{indicator} above {value}", "{prefix}{indicator}高于 {value}"),
    "fail_with": ("with {lever}, ", "在 {lever} 下,"),
    "no_fail": ("no point fails: PRIM has nothing to find", "没有失效点:PRIM 无可发现"),
    "all_fail": ("every point fails: the lever fails everywhere in the explored ranges", "所有点都失效:政策在探索范围内处处失效"),
    "few_fail": ("only {n} failing point(s): too few for PRIM (needs {need}); the lever works almost everywhere in the explored ranges",
                 "只有 {n} 个失效点:不足以运行 PRIM(至少需要 {need} 个);政策在探索范围内几乎处处有效"),
    "few_points": ("only {n} uncertain points: PRIM boxes are fragile below about 20", "只有 {n} 个不确定性点:少于约20个时 PRIM 盒不稳定"),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is ``en`` or ``zh``; raise ``ValueError`` otherwise."""
    if lang not in LANGS:
        raise ValueError(f"lang {lang!r}: allowed: en or zh")
    return lang


def t(key: str, lang: str = "en", **fmt: Any) -> str:
    """The report message ``key`` in ``lang``, formatted with ``fmt``."""
    en, zh = TEXT[key]
    s = zh if lang == "zh" else en
    return s.format(**fmt) if fmt else s


def _words(name: str) -> str:
    parts = [_ACRONYMS.get(p, p) for p in name.split("_")]
    s = " ".join(parts)
    return s[:1].upper() + s[1:]


def indicator_label(name: str, lang: str = "en") -> str:
    """Short label of an indicator (from :mod:`sim.indicators`)."""
    ind = INDICATORS.get(name)
    if ind is None:
        return name
    if lang == "zh" and ind.meaning_zh:
        return ind.meaning_zh
    return _words(name)


def indicator_unit(name: str) -> str:
    """The indicator's declared unit ('' when unknown)."""
    ind = INDICATORS.get(name)
    return ind.unit if ind else ""


def is_share(name: str) -> bool:
    """Whether an indicator is a share in [0, 1] (shown in percent)."""
    return indicator_unit(name) == "share"


def direction(name: str) -> int:
    """+1 when higher is better, -1 when lower is, 0 neutral (from :mod:`sim.indicators`)."""
    ind = INDICATORS.get(name)
    return ind.direction if ind else 0


def param_label(key: str, lang: str = "en", short: bool = False) -> str:
    """Label of a scenario key: its Chinese meaning when declared (zh), else the dotted key.

    In Chinese the key follows in brackets unless ``short`` (figure axes).
    """
    p = PARAMS.get(key)
    if lang == "zh" and p is not None and p.meaning_zh:
        return p.meaning_zh if short else f"{p.meaning_zh} ({key})"
    return key


def param_meaning(key: str, lang: str = "en") -> str:
    """One-line meaning of a scenario key (from :mod:`sim.parameters`)."""
    p = PARAMS.get(key)
    if p is None:
        return ""
    return p.meaning_zh if lang == "zh" and p.meaning_zh else p.meaning


def fmt_value(name: str, value: float, digits: int = 3) -> str:
    """An indicator value for a table: shares in percent, money with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if is_share(name):
        return f"{100 * value:.1f}%"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def fmt_diff(name: str, value: float, digits: int = 3) -> str:
    """A difference of an indicator: shares in percentage points."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if is_share(name):
        return f"{100 * value:+.1f} pp"
    if abs(value) >= 1000:
        return f"{value:+,.0f}"
    return f"{value:+.{digits}g}"


def fmt_key_value(key: str, value: Any) -> str:
    """A scenario key's value for a table (numbers compact, others as text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:g}"
    return str(value)
