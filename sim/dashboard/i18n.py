"""Interface language of the classroom dashboard: English and Chinese (中文).

Design note
-----------
The dashboard's own words (buttons, panel titles, chart titles) live in
:data:`UI`, one entry per message with its English and Chinese text. Parameter
and indicator wording is *not* repeated here: labels and tooltips come from
:mod:`sim.parameters` (``meaning``, ``meaning_zh``, ``unit``) and
:mod:`sim.indicators` (``meaning``, ``meaning_zh``). Where a declaration has no
Chinese meaning yet, the Chinese interface shows the English one. Units and the
values of choice parameters are a small shared vocabulary, translated in
:data:`UNITS_ZH` and :data:`CHOICES_ZH`.

The default language is Chinese when ``--lang zh`` is given, when
``$CONSIM_LANG`` says ``zh``, when the chosen preset's ``[meta]`` asks for it
(``lang = "zh"``), or when the system locale (``LC_ALL``, ``LC_MESSAGES``,
``LANG``, ``LANGUAGE``) is a Chinese one; otherwise English.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from sim.indicators import BY_NAME as INDICATORS_BY_NAME
from sim.parameters import Param

LANGS = ("zh", "en")

#: Every message of the interface: key -> (English, Chinese).
UI: dict[str, tuple[str, str]] = {
    "app_title": ("Industry–education consortium: classroom simulator", "市域产教联合体课堂模拟"),
    "language": ("Language", "语言"),
    "preset": ("Scenario preset", "预设情景"),
    "defaults": ("Model defaults", "模型默认值"),
    "seed": ("Random seed", "随机种子"),
    "seed_help": ("Same seed, same run: change it to see another possible history.",
                  "种子相同，结果相同；换一个种子可看到另一种可能的历史。"),
    "run": ("Run", "运行"),
    "play": ("Play", "播放"),
    "pause": ("Pause", "暂停"),
    "step": ("Step (1 month)", "单步(1个月)"),
    "step_year": ("+1 year", "前进1年"),
    "reset": ("Reset", "重置"),
    "speed": ("Months per frame", "每帧月数"),
    "delay": ("Pause between frames (ms)", "帧间停顿(毫秒)"),
    "time": ("Year {year}, {month_name} · step {steps}", "第{year}年 {month_name} · 第{steps}步"),
    "time_start": ("Start of year 1 (September) · step 0", "第1年开始(9月) · 第0步"),
    "finished": ("The scenario's {years} years are over. Reset to run again.",
                 "情景设定的{years}年已模拟完毕，请重置后再运行。"),
    "pending": ("Settings changed: press Reset to restart the run with them (same seed).",
                "参数已修改：按“重置”用新参数从头运行(种子不变)。"),
    "apply_next_year": ("Or apply the changed policy from year {year} on, keeping the history so far",
                        "或从第{year}年起执行新政策(保留已有历史)"),
    "pending_start": ("Settings changed: they apply when you press Step or Play.",
                      "参数已修改：按“单步”或“播放”时生效。"),
    "revert": ("Back to the preset's values", "恢复预设值"),
    "changed_n": ("{n} setting(s) differ from the preset", "有{n}项参数与预设不同"),
    "compare": ("Compare with a reference run", "与参照运行对比"),
    "compare_help": ("The reference run uses the same seed, so differences come from your settings, not chance.",
                     "参照运行使用相同的随机种子，因此差异来自参数，而非随机性。"),
    "compare_with": ("Reference", "参照"),
    "ref_preset": ("the chosen preset, without your changes", "所选预设(不含您的修改)"),
    "yours": ("your settings", "当前设置"),
    "reference": ("reference", "参照"),
    "network": ("Consortium network", "联合体网络"),
    "network_yours": ("Network: your settings", "网络：当前设置"),
    "network_ref": ("Network: reference", "网络：参照"),
    "legend_school": ("school", "学校"),
    "legend_anchor": ("anchor firm", "链主企业"),
    "legend_sme": ("SME", "中小企业"),
    "legend_none": ("not engaged", "未参与"),
    "legend_shallow": ("shallow (placements)", "浅度(接收实习)"),
    "legend_deep": ("deep (mentors, curriculum, projects)", "深度(导师、课程、项目)"),
    "legend_tie": ("partnership tie (width = strength)", "校企合作关系(线宽=强度)"),
    "chart_participation": ("Participation by firm type", "各类企业参与率"),
    "chart_gap": ("Engagement gap (校热企冷)", "校热企冷：投入差距"),
    "chart_retention": ("Retention and poaching", "留任与挖角"),
    "chart_quality": ("Placement quality", "实习质量"),
    "chart_money": ("Public money spent", "财政支出"),
    "chart_graduates": ("Where graduates go", "毕业生去向"),
    "years_axis": ("simulated years", "模拟年份"),
    "yuan_axis": ("yuan per year", "元/年"),
    "last_12_months": (" (last 12 months)", "(近12个月)"),
    "no_data": ("Press Step or Play to start.", "按“单步”或“播放”开始。"),
    "now": ("Now (latest month)", "当前(最近一个月)"),
    "vs_ref": ("vs reference", "对比参照"),
    "group_policy": ("Policy levers", "政策杠杆"),
    "group_labour_market": ("Labour market", "劳动力市场"),
    "group_population": ("Population", "主体数量"),
    "group_firms": ("Firm behaviour (advanced)", "企业行为(高级)"),
    "group_schools": ("Schools (advanced)", "学校(高级)"),
    "group_students": ("Students (advanced)", "学生(高级)"),
    "group_technology": ("Technology (advanced)", "技术(高级)"),
    "group_government": ("Government (advanced)", "政府(高级)"),
    "group_run": ("Run length", "运行时长"),
    "default_is": ("default", "默认"),
    "range_is": ("allowed", "允许"),
    "source_is": ("source", "来源"),
    "schedule_note": ("This preset changes policy during the run: {changes}", "该情景在运行中调整政策：{changes}"),
    "schedule_item": ("year {year}: {sets}", "第{year}年：{sets}"),
    "model_error": ("The model stopped with an error: {error}", "模型出错停止：{error}"),
    "on": ("yes", "是"),
    "off": ("no", "否"),
}

#: School-year months: month 0 of the model is September.
MONTHS: dict[str, tuple[str, ...]] = {
    "en": ("September", "October", "November", "December", "January", "February", "March",
           "April", "May", "June", "July", "August"),
    "zh": ("9月", "10月", "11月", "12月", "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月"),
}

#: Units used by the declarations, in Chinese (vocabulary, not parameter text).
UNITS_ZH: dict[str, str] = {
    "share": "比例", "index": "指数", "years": "年", "months": "月", "firms": "家企业", "schools": "所学校",
    "employees": "人", "ratio": "倍", "names": "名称", "trainees": "名实习生", "utility": "效用",
    "yuan": "元", "yuan per year": "元/年", "yuan per month": "元/月", "yuan per slot": "元/岗位",
    "yuan per trainee": "元/实习生", "yuan per trainee-month": "元/(实习生·月)",
    "yuan per employee-year": "元/(员工·年)", "yuan per firm-year": "元/(企业·年)",
    "days per week": "天/周", "log units": "对数单位", "per SME-year": "每家中小企业每年",
    "per competitor per month": "每个竞争者每月", "per month": "每月", "per school-year": "每所学校每年",
    "per year": "每年", "per year at full firm voice": "每年(企业话语权满值时)",
    "ratio to entry wage": "相对入职工资倍数", "share of a post": "占岗位比例",
    "share of a skilled worker": "相当于熟练工的比例", "share of the post's wage": "占岗位工资比例",
    "share of wage": "占工资比例", "share of workforce": "占员工比例", "skill units": "技能单位",
    "students per school-year": "名学生/(校·年)", "technology-years per year": "技术年/年",
    "weeks of skilled wage": "周熟练工工资", "slots": "个岗位", "students": "名学生",
    "projects per year": "项/年", "ties": "条关系",
    "utility per (net value / monthly wage bill)": "效用/(净值/月工资总额)",
}

#: Values of choice parameters, in Chinese.
CHOICES_ZH: dict[str, str] = {
    "all": "全部企业", "sme": "仅中小企业", "anchor": "仅链主企业",
    "none": "无证书", "portable": "全国通用证书", "employer_ladder": "与企业薪酬阶梯挂钩(海天模式)",
    "council": "理事会(非法人)", "registered_entity": "注册实体(法人)",
    "logit": "按预期收益(有限理性)", "imitation": "模仿收益更高者",
    "network": "网络邻居", "population": "全体企业",
}

CHOICES_EN: dict[str, str] = {
    "all": "all firms", "sme": "SMEs only", "anchor": "anchor firms only",
    "none": "none", "portable": "nationally portable", "employer_ladder": "firm's pay ladder (Haitian model)",
    "council": "council (no legal personality)", "registered_entity": "registered entity",
    "logit": "expected value (logit)", "imitation": "imitate better-off firms",
    "network": "network neighbours", "population": "all firms",
}


def text(key: str, lang: str, **fields: object) -> str:
    """The interface message ``key`` in ``lang``, with ``fields`` filled in."""
    en, zh = UI[key]
    s = zh if lang == "zh" else en
    return s.format(**fields) if fields else s


def unit(u: str, lang: str) -> str:
    """A unit in ``lang`` (unknown units are shown as declared)."""
    if lang == "zh":
        return UNITS_ZH.get(u, u)
    return u


def choice_label(value: str, lang: str) -> str:
    """Display label of a choice parameter's value."""
    table = CHOICES_ZH if lang == "zh" else CHOICES_EN
    return table.get(value, value)


def short_name(p: Param) -> str:
    """A short English name made from the dotted key (``subsidy cost share``)."""
    parts = p.key.split(".")
    if parts[0] in ("policy", "population", "labour_market", "firms", "schools", "students",
                    "technology", "government") and len(parts) > 1:
        parts = parts[1:]
    return " ".join(parts).replace("_", " ")


def param_label(p: Param, lang: str) -> str:
    """Label of a parameter's control: its Chinese meaning, or a short English name."""
    if lang == "zh" and p.meaning_zh:
        return p.meaning_zh
    return short_name(p)


def param_tooltip(p: Param, lang: str) -> str:
    """Tooltip of a parameter's control, from its declaration."""
    default = p.default
    if p.kind == "choice":
        default = choice_label(str(default), lang)
    elif p.kind == "bool":
        default = text("on" if default else "off", lang)
    meaning = p.meaning_zh if (lang == "zh" and p.meaning_zh) else p.meaning
    lines = [meaning]
    if lang == "zh" and p.meaning_zh:
        lines.append(p.meaning)
    u = unit(p.unit, lang)
    lines.append(f"{text('default_is', lang)}: {default}{(' ' + u) if u else ''}; "
                 f"{text('range_is', lang)}: {p.allowed()}")
    if p.source and p.source != "assumption":
        lines.append(f"{text('source_is', lang)}: {p.source}")
    lines.append(p.key)
    return "\n".join(lines)


def indicator_label(name: str, lang: str) -> str:
    """Short label of an indicator for legends and the value table."""
    ind = INDICATORS_BY_NAME[name]
    if lang == "zh" and ind.meaning_zh:
        return ind.meaning_zh
    return name.replace("_", " ")


def month_name(month: int, lang: str) -> str:
    """Name of model month ``month`` (0 = September)."""
    return MONTHS["zh" if lang == "zh" else "en"][month % 12]


def locale_is_chinese(env: Mapping[str, str] | None = None) -> bool:
    """Whether the system locale asks for Chinese (``zh_CN.UTF-8``, ``zh_TW``, ``zh``...)."""
    env = os.environ if env is None else env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        v = env.get(var, "")
        if v:  # the first one set decides, as in POSIX
            return v.lower().startswith("zh")
    return any(part.lower().startswith("zh") for part in env.get("LANGUAGE", "").split(":"))


def default_lang(explicit: str | None = None, preset_meta: Mapping[str, str] | None = None,
                 env: Mapping[str, str] | None = None) -> str:
    """The interface language to start with (see the module note for the order)."""
    env = os.environ if env is None else env
    if explicit in LANGS:
        return str(explicit)
    chosen = env.get("CONSIM_LANG", "")
    if chosen in LANGS:
        return chosen
    if preset_meta and preset_meta.get("lang") in LANGS:
        return str(preset_meta["lang"])
    return "zh" if locale_is_chinese(env) else "en"
