"""Every indicator (outcome), declared once.

Design note
-----------
An :class:`Indicator` names an outcome, its meaning in English and Chinese, its
unit, its range, which direction is better for the consortium, and how a run's
time series becomes the run's summary value and how replications combine. The
model's data collection, ``summary.json``, the sweep store, the analysis
package and the dashboard all read :data:`INDICATORS`.

Time convention: one step is one month; ``year`` counts simulated years from 1.
Stock indicators (participation, effort, rates) are recorded every month and
summarised as the mean over the final year. Yearly flows (``subsidy_spent``,
``tech_projects_completed``) are recorded each month as an annualised rate
(12 x that month's flow) so that their final-year mean equals the final year's
total.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Indicator:
    """One outcome of a run."""

    name: str
    meaning: str
    meaning_zh: str
    unit: str
    low: float | None = 0.0
    high: float | None = 1.0
    #: +1 when a higher value is better for the consortium, -1 when lower is, 0 neutral.
    direction: int = 1
    #: How replications combine in analysis: "mean" (with CIs).
    combine: str = "mean"
    #: How the run's summary derives from its time series.
    summary: str = "final-year mean"


INDICATORS: tuple[Indicator, ...] = (
    Indicator("firm_participation_rate", "share of firms engaged at least shallowly (placements, mentors or projects)",
              "参与企业比例", "share"),
    Indicator("sme_participation_rate", "share of SMEs engaged at least shallowly", "中小企业参与比例", "share"),
    Indicator("anchor_participation_rate", "share of anchor firms engaged at least shallowly", "链主企业参与比例", "share"),
    Indicator("deep_engagement_share", "share of firms engaged deeply (mentors, shared equipment, co-designed curriculum or joint projects)",
              "深度参与企业比例", "share"),
    Indicator("school_effort_index", "how much schools invest in the partnership (0-1)", "学校投入指数", "index", direction=0),
    Indicator("firm_effort_index", "how much firms invest in the partnership (0-1)", "企业投入指数", "index"),
    Indicator("engagement_gap", "school effort minus firm effort: the 校热企冷 gap", "校热企冷差距", "index",
              low=-1.0, high=1.0, direction=-1),
    Indicator("placement_quality", "share of placements that are real training, not odd jobs (打杂)", "实习质量(真实训练比例)", "share"),
    Indicator("unfilled_placement_slots", "placement slots offered but not filled at the year's placement round",
              "未填补实习岗位", "slots", high=None, direction=-1),
    Indicator("unplaced_students", "final-year students without a firm placement at the year's placement round",
              "未安排实习学生", "students", high=None, direction=-1),
    Indicator("retention_rate", "share of a firm's own trainees still employed there one year after graduation",
              "一年留任率", "share"),
    Indicator("poaching_rate", "share of trained graduates hired away by a firm that did not train them",
              "挖角率", "share", direction=-1),
    Indicator("graduate_local_employment_rate", "share of graduates employed in the city's firms",
              "毕业生本地就业率", "share"),
    Indicator("skill_match_rate", "share of employed graduates working in the sector they trained for",
              "专业对口率", "share"),
    Indicator("curriculum_lag_years", "how far teaching trails the sectors' technology frontier",
              "课程滞后(年)", "years", high=None, direction=-1),
    Indicator("hosts_losing_money_share", "share of placement-hosting firms whose placement net benefit is negative",
              "亏损实习企业比例", "share", direction=-1),
    Indicator("tech_projects_completed", "joint technical projects finished in the year",
              "完成技术项目数", "projects per year", high=None, summary="final-year total"),
    Indicator("subsidy_spent", "yuan paid in subsidies and credits in the year",
              "补贴与税收抵免支出", "yuan per year", high=None, direction=0, summary="final-year total"),
    Indicator("cost_per_participating_firm", "public money per participating firm",
              "每家参与企业公共支出", "yuan per firm-year", high=None, direction=-1),
    Indicator("active_partnerships", "school-firm ties with activity in the year", "活跃校企合作关系", "ties", high=None),
)

BY_NAME: dict[str, Indicator] = {i.name: i for i in INDICATORS}
NAMES: tuple[str, ...] = tuple(i.name for i in INDICATORS)
