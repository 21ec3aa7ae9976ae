"""Every scenario parameter, declared once.

Design note
-----------
A :class:`Param` carries a dotted key, a type, a default, the allowed range or
values, a unit, a one-line meaning, a source and a group. The TOML loader
(:mod:`sim.scenario`), ``consim explain``, the dashboard's controls and the
sweep samplers all read :data:`PARAMETERS`; nothing else lists parameters.

Money is in yuan (元) per year unless the unit says otherwise; shares are in
[0, 1]. Sources abbreviate the references in ``docs/ODD.md``; "assumption"
marks a value chosen by the modellers, to be varied in sensitivity analysis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Allowed parameter kinds: int, float, share (float in [0, 1]), choice (one of
#: ``choices``), bool, str_list (list of strings), schedule (list of tables).
KINDS = ("int", "float", "share", "choice", "bool", "str_list", "schedule")


@dataclass(frozen=True, slots=True)
class Param:
    """One scenario parameter: its key, type, default, range, unit and meaning."""

    key: str
    kind: str
    default: Any
    unit: str
    meaning: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    source: str = "assumption"
    group: str = ""
    #: Range a sensitivity analysis or a dashboard slider should explore, when
    #: narrower than the allowed range (``low``..``high``).
    explore: tuple[float, float] | None = None
    meaning_zh: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.key}: unknown kind {self.kind!r}")
        if self.kind == "share":
            object.__setattr__(self, "low", 0.0 if self.low is None else self.low)
            object.__setattr__(self, "high", 1.0 if self.high is None else self.high)

    @property
    def numeric(self) -> bool:
        """Whether the parameter takes a number (int, float or share)."""
        return self.kind in ("int", "float", "share")

    def allowed(self) -> str:
        """Human-readable statement of the allowed values."""
        if self.kind == "choice":
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "str_list":
            return "a list of strings"
        if self.kind == "schedule":
            return "a list of tables {year = Y, set = {KEY = VALUE, ...}}"
        what = {"int": "an integer", "float": "a number", "share": "a share (number)"}[self.kind]
        if self.low is not None and self.high is not None:
            return f"{what} from {_fmt(self.low)} to {_fmt(self.high)}"
        if self.low is not None:
            return f"{what} >= {_fmt(self.low)}"
        if self.high is not None:
            return f"{what} <= {_fmt(self.high)}"
        return what

    def explore_range(self) -> tuple[float, float] | None:
        """Range to explore in sweeps and sliders (numeric parameters only)."""
        if not self.numeric:
            return None
        if self.explore is not None:
            return self.explore
        if self.low is not None and self.high is not None:
            return (float(self.low), float(self.high))
        return None


def _fmt(x: float) -> str:
    return f"{int(x)}" if float(x).is_integer() else f"{x:g}"


def _p(key: str, kind: str, default: Any, unit: str, meaning: str, **kw: Any) -> Param:
    group = kw.pop("group", None) or _group_of(key)
    return Param(key, kind, default, unit, meaning, group=group, **kw)


def _group_of(key: str) -> str:
    if key.startswith("policy."):
        return "policy"
    return key.split(".", 1)[0] if "." in key else "run"


DEFAULT_SECTORS = [
    "equipment_manufacturing",
    "electronics",
    "new_energy_vehicles",
    "logistics",
    "digital_services",
]

PARAMETERS: tuple[Param, ...] = (
    # ---------------------------------------------------------------- run
    _p("years", "int", 10, "years", "simulated years (each year is 12 monthly steps)",
       low=1, high=200, meaning_zh="模拟年数"),
    _p("warmup_years", "int", 2, "years",
       "unrecorded spin-up years before year 1, under the year-1 policies (the consortium is new: firms start unengaged)",
       low=1, high=20, meaning_zh="预热年数(不记录，第1年前)"),
    # ---------------------------------------------------------------- population
    _p("population.schools.secondary", "int", 12, "schools",
       "secondary vocational schools (中职)", low=0, high=100_000, explore=(0, 40), meaning_zh="中职学校数"),
    _p("population.schools.higher", "int", 6, "schools",
       "higher vocational colleges (高职)", low=0, high=100_000, explore=(0, 20), meaning_zh="高职院校数"),
    _p("population.schools.undergraduate", "int", 2, "schools",
       "vocational / applied undergraduate universities (职业本科/应用型本科)",
       low=0, high=100_000, explore=(0, 6), meaning_zh="职业本科/应用型本科院校数"),
    _p("population.anchor_firms", "int", 8, "firms", "chain-leader firms (链主企业)",
       low=0, high=1_000_000, explore=(0, 30), meaning_zh="链主企业数"),
    _p("population.smes", "int", 300, "firms", "small and medium firms in the consortium's sectors",
       low=0, high=10_000_000, explore=(20, 1000), meaning_zh="中小企业数"),
    _p("population.sectors", "str_list", list(DEFAULT_SECTORS), "names",
       "industry sectors in the city; every school programme and firm belongs to one", meaning_zh="城市产业门类"),
    _p("population.cohort_size.secondary", "int", 150, "students per school-year",
       "final-year students per secondary school in consortium-linked programmes",
       low=0, high=1_000_000, explore=(20, 600), source="assumption (city statistical yearbooks, order of magnitude)", meaning_zh="每所中职毕业年级学生数"),
    _p("population.cohort_size.higher", "int", 400, "students per school-year",
       "final-year students per higher-vocational college in consortium-linked programmes",
       low=0, high=1_000_000, explore=(50, 1500), source="assumption", meaning_zh="每所高职毕业年级学生数"),
    _p("population.cohort_size.undergraduate", "int", 500, "students per school-year",
       "final-year students per applied undergraduate university in consortium-linked programmes",
       low=0, high=1_000_000, explore=(50, 2000), source="assumption", meaning_zh="每所本科院校毕业年级学生数"),
    _p("population.sme_employees_median", "float", 40.0, "employees",
       "median SME workforce (log-normal)", low=2, high=10_000, explore=(10, 200), meaning_zh="中小企业员工数中位数"),
    _p("population.sme_employees_sigma", "float", 0.7, "log units",
       "dispersion of SME workforce (sd of log employees)", low=0, high=3, meaning_zh="中小企业规模离散度"),
    _p("population.anchor_employees_median", "float", 2500.0, "employees",
       "median anchor-firm workforce (log-normal)", low=100, high=1_000_000, explore=(500, 10_000), meaning_zh="链主企业员工数中位数"),
    _p("population.anchor_employees_sigma", "float", 0.5, "log units",
       "dispersion of anchor-firm workforce", low=0, high=3, meaning_zh="链主企业规模离散度"),
    _p("population.firm_productivity_sigma", "float", 0.25, "log units",
       "dispersion of firms' productivity (sd of its log; 0 makes firms identical, the well-mixed reference case)",
       low=0, high=3, source="assumption", meaning_zh="企业生产率离散度"),
    _p("population.supply_chain_share", "share", 0.6, "share",
       "share of SMEs that supply an anchor firm (anchor-centred supply chain ties)",
       source="assumption; Haitian supplier network in the study", meaning_zh="为链主企业配套的中小企业比例"),
    # ---------------------------------------------------------------- labour market
    _p("labour_market.competitors_per_sector", "float", 6.0, "firms",
       "same-occupation employers within commuting distance of a firm (competition ties; the poaching channel)",
       low=0, high=1000, explore=(0, 20), source="Stevens 1994; assumption for the count", meaning_zh="通勤范围内同岗位竞争雇主数(挖角渠道)"),
    _p("labour_market.wage_compression", "share", 0.3, "share",
       "how little outside wages reward acquired skill (0 = fully rewarded, the Becker limit)",
       source="Acemoglu & Pischke 1998, 1999", meaning_zh="工资压缩(外部工资对技能的回报不足程度)"),
    _p("labour_market.entry_wage", "float", 4500.0, "yuan per month",
       "entry wage of a vocational graduate's post in the city", low=500, high=100_000,
       explore=(3000, 8000), source="MyCOS 2023 (central-China vocational graduates, about 4,000-5,000)", meaning_zh="毕业生入职岗位月工资"),
    _p("labour_market.skilled_wage_ratio", "float", 1.4, "ratio",
       "skilled worker's wage relative to the entry post's wage", low=1, high=5, explore=(1.1, 2.0),
       source="assumption", meaning_zh="熟练工工资/入职工资"),
    _p("labour_market.nonwage_cost_share", "share", 0.3, "share of wage",
       "employer social-insurance and other non-wage labour cost on top of wages",
       source="China social-insurance contribution rates (about 30%)", meaning_zh="社保等非工资用工成本占比"),
    _p("labour_market.base_quit_hazard", "share", 0.07, "per month",
       "monthly hazard that a young graduate quits a first job for reasons other than poaching (leaving the city, study, other work)",
       explore=(0.02, 0.15), source="MyCOS: ~45% of higher-vocational graduates leave within 6 months (with poaching); fitted, scenarios/china_calibrated.toml (0.065 +- 0.019)", meaning_zh="毕业生非挖角原因月离职率"),
    _p("labour_market.poaching_intensity", "share", 0.02, "per competitor per month",
       "monthly hazard that one competitor hires away a trained graduate, at full transparency and no compression",
       explore=(0.0, 0.05), source="assumption, calibrated to the MyCOS six-month turnover", meaning_zh="单个竞争者的月挖角强度"),
    _p("labour_market.outside_wage_premium", "float", 0.3, "share of wage",
       "wage premium a graduate expects from leaving the city (coastal labour markets)", low=0, high=2,
       explore=(0.0, 0.6), source="fitted to retention at graduation 0.2-0.4, scenarios/china_calibrated.toml (0.26 +- 0.10)", meaning_zh="外地(沿海)工资溢价"),
    _p("labour_market.mobility_cost", "float", 0.1, "share of wage",
       "cost of changing employer, as a share of the monthly wage gap needed to move", low=0, high=2,
       source="assumption", meaning_zh="跳槽成本"),
    _p("labour_market.annual_turnover", "share", 0.12, "per year",
       "share of each firm's workforce replaced per year (replacement demand: vacancies)",
       explore=(0.05, 0.3), source="assumption (NBS manufacturing turnover)", meaning_zh="企业员工年更替率(空缺需求)"),
    _p("labour_market.graduate_hiring_share", "share", 0.65, "share of replacement demand",
       "share of a firm's yearly vacancies open to new vocational graduates", explore=(0.2, 0.9),
       source="fitted, scenarios/china_calibrated.toml (0.63 +- 0.19)", meaning_zh="面向应届职校毕业生的空缺比例"),
    _p("labour_market.hiring_cost_weeks", "float", 13.0, "weeks of skilled wage",
       "external hiring cost of a skilled worker (search, selection, induction)", low=0, high=104,
       explore=(10, 17), source="BIBB 2012/13: 10-17 weeks of wages, about EUR 8.7k", meaning_zh="外部招聘熟练工成本(周工资)"),
    _p("labour_market.wage_discount", "share", 0.04, "per year",
       "annual discount rate firms apply to future returns", explore=(0.0, 0.15), meaning_zh="企业年贴现率"),
    # ---------------------------------------------------------------- firms
    _p("firms.productive_task_share", "share", 0.75, "share",
       "share of placement time spent on productive work",
       explore=(0.5, 0.95), source="Muehlemann & Wolter 2014: 0.57 -> 0.90 over training", meaning_zh="实习中生产性工作时间占比"),
    _p("firms.trainee_pay_floor", "share", 0.8, "share of the post's wage",
       "trainee pay as a share of the post's wage", explore=(0.3, 1.0),
       source="2021 internship rules (职业学校学生实习管理规定): at least 80%", meaning_zh="实习工资占岗位工资比例"),
    _p("firms.mentor_days_per_week", "float", 2.0, "days per week",
       "mentor time a deep-engaged firm gives (per mentor, shared by the mentor's trainees)",
       low=0, high=5, source="the study: a senior technician teaching two days a week", meaning_zh="深度参与企业导师每周带教天数"),
    _p("firms.shallow_mentor_days_per_week", "float", 0.5, "days per week",
       "mentor time a shallow-engaged host gives", low=0, high=5, meaning_zh="浅度参与企业导师每周带教天数"),
    _p("firms.trainees_per_mentor", "float", 4.0, "trainees", "trainees one mentor looks after",
       low=1, high=50, explore=(2, 10), meaning_zh="每名导师带的实习生数"),
    _p("firms.mentor_wage_ratio", "float", 2.0, "ratio to entry wage",
       "a senior technician's wage relative to the entry post's wage", low=1, high=10, meaning_zh="导师(高级技师)工资/入职工资"),
    _p("firms.placement_months", "int", 6, "months", "length of a placement (顶岗实习), ending at graduation in June",
       low=1, high=9, source="2021 internship rules: about 6 months", meaning_zh="顶岗实习月数"),
    _p("firms.trainee_productivity_start", "share", 0.5, "share of a skilled worker",
       "a trainee's relative productivity in the first placement month",
       source="Muehlemann & Wolter 2014: 0.47-0.63 in years 2-3 (technical)", meaning_zh="实习生首月相对生产率"),
    _p("firms.trainee_productivity_gain", "share", 0.09, "per month",
       "monthly rise of a trainee's relative productivity during the placement (capped at 0.95)",
       explore=(0.02, 0.12), source="calibrated: Ran & Shi 2020 break-even month 4, payback month 8", meaning_zh="实习生相对生产率月增幅"),
    _p("firms.equipment_cost_per_month", "float", 300.0, "yuan per trainee-month",
       "consumables, safety and equipment wear a trainee causes", low=0, high=100_000, meaning_zh="每名实习生每月耗材与设备损耗"),
    _p("firms.admin_cost_per_trainee", "float", 1500.0, "yuan per trainee",
       "insurance, safety induction and paperwork per trainee", low=0, high=100_000, meaning_zh="每名实习生保险、安全培训与管理成本"),
    _p("firms.transaction_cost_per_match", "float", 3000.0, "yuan per trainee",
       "search, negotiation and contracting with the school per placement, before platform and entity effects",
       low=0, high=100_000, explore=(500, 8000), meaning_zh="每次实习对接的搜寻与签约成本"),
    _p("firms.shallow_fixed_cost", "float", 12000.0, "yuan per year",
       "a host's fixed yearly cost of taking trainees at all (coordinating staff, safety compliance, liability), before platform and entity effects",
       low=0, high=1e8, explore=(0, 40_000),
       source="assumption; BIBB: fixed training costs explain why 17% of micro firms train against 91% of large ones", meaning_zh="接收实习生的年固定成本"),
    _p("firms.deep_fixed_cost_sme", "float", 40000.0, "yuan per year",
       "an SME's fixed yearly cost of deep engagement (co-designing curriculum, sharing equipment, council work)",
       low=0, high=1e8, explore=(10_000, 100_000),
       source="the study: a senior technician two days a week costs tens of thousands of yuan a year", meaning_zh="中小企业深度参与年固定成本"),
    _p("firms.deep_fixed_cost_anchor", "float", 300000.0, "yuan per year",
       "an anchor firm's fixed yearly cost of deep engagement (stationed engineers, shared factory, curriculum)",
       low=0, high=1e9, explore=(50_000, 1_000_000), meaning_zh="链主企业深度参与年固定成本"),
    _p("firms.production_motive_share_sme", "share", 0.6, "share",
       "share of SMEs with a production motive (profit from trainees' output during the placement)",
       source="Muehlemann & Wolter 2014 (production vs investment motive)", meaning_zh="生产动机型中小企业比例"),
    _p("firms.production_motive_share_anchor", "share", 0.25, "share",
       "share of anchor firms with a production motive", meaning_zh="生产动机型链主企业比例"),
    _p("firms.decision_sensitivity", "float", 15.0, "utility per (net value / monthly wage bill)",
       "beta: how strongly a firm's choice responds to expected net value scaled by its monthly wage bill",
       low=0, high=1000, explore=(3, 30), source="assumption, calibrated: a minority of SMEs participate (BIBB size gradient; the study)", meaning_zh="企业决策对净收益的敏感度"),
    _p("firms.decision_noise", "float", 1.0, "utility", "scale of idiosyncratic taste shocks (logit)",
       low=0.01, high=100, meaning_zh="企业决策随机扰动"),
    _p("firms.decision_rule", "choice", "logit", "",
       "how firms choose: logit over expected value (bounded rationality) or pairwise imitation of realised payoffs (replicator dynamics)",
       choices=("logit", "imitation"), source="logit: McFadden; imitation: Schlag 1998, the evolutionary-game papers", meaning_zh="企业决策规则(预期收益或模仿)"),
    _p("firms.imitation_scope", "choice", "network", "", "whom an imitating firm compares itself with",
       choices=("network", "population"), meaning_zh="模仿对象范围"),
    _p("firms.initial_engagement_share", "share", 0.0, "share",
       "share of firms engaged shallowly when the model starts (0: the consortium is new)", meaning_zh="初始浅度参与企业比例"),
    _p("firms.peer_weight", "float", 0.5, "utility", "peer effect: weight of the engaged share among network neighbours",
       low=0, high=20, explore=(0, 3), source="assumption; network learning in SKIN", meaning_zh="同伴效应权重"),
    _p("firms.switching_cost", "float", 0.6, "utility", "cost of changing engagement level (hysteresis)",
       low=0, high=20, explore=(0, 2), meaning_zh="改变参与程度的转换成本(路径依赖)"),
    _p("firms.expectation_learning_rate", "share", 0.35, "per year",
       "weight of the latest realised outcome in a firm's adaptive expectation", meaning_zh="预期更新速度"),
    _p("firms.neighbour_learning_weight", "share", 0.4, "share",
       "weight of network neighbours' realised outcomes relative to the firm's own", meaning_zh="向网络邻居学习的权重"),
    _p("firms.goodwill_initial", "float", 0.6, "utility", "upper bound of initial intrinsic goodwill (情怀), uniform",
       low=0, high=20, explore=(0, 2), meaning_zh="初始情怀上限"),
    _p("firms.goodwill_decay", "share", 0.2, "per year", "share of goodwill lost in a year without returns", meaning_zh="无回报时情怀年衰减"),
    _p("firms.obligation_anchor", "float", 2.5, "utility",
       "felt obligation of an anchor firm as a consortium member (council seat, government relations)",
       low=0, high=20, explore=(0, 3), meaning_zh="链主企业的成员责任感"),
    _p("firms.obligation_sme", "float", 0.1, "utility", "felt obligation of an SME member", low=0, high=20,
       explore=(0, 2), meaning_zh="中小企业的成员责任感"),
    _p("firms.reputation_value_anchor", "float", 2000.0, "yuan per slot", "reputation and government-relations value per trainee slot of an anchor at shallow engagement (doubled at deep)",
       low=0, high=1e6, meaning_zh="链主企业每个实习岗位的声誉价值"),
    _p("firms.reputation_value_sme", "float", 300.0, "yuan per slot", "reputation value per trainee slot of an SME at shallow engagement (doubled at deep)", low=0, high=1e6, meaning_zh="中小企业每个实习岗位的声誉价值"),
    _p("firms.education_surcharge_per_employee", "float", 940.0, "yuan per employee-year",
       "education surcharges (教育费附加 and local) a firm owes, the cap of the 产教融合 credit",
       low=0, high=1e6, explore=(470, 1400),
       source="(3% + 2%) x domestic VAT + consumption tax per legal-unit employee: MOF 2018 final accounts, "
              "domestic VAT 61,530.77 + domestic consumption tax 10,631.75 (100 million yuan) / 383.236 million "
              "employees of 2nd- and 3rd-industry legal units (4th Economic Census 2018, communique no. 1) "
              "= 18,830 yuan x 5% = 941; ignores small-firm exemptions and halving (lower) and non-enterprise "
              "units in the headcount (higher)",
       meaning_zh="人均教育费附加(抵免上限)"),
    _p("firms.bottleneck_rate", "share", 0.3, "per firm-year", "chance a firm (SME or anchor) meets a technical bottleneck in a year",
       source="assumption; the study's technology-transfer platform case", meaning_zh="中小企业年技术瓶颈概率"),
    _p("firms.bottleneck_value", "float", 200000.0, "yuan", "median saving when a bottleneck is solved (log-normal, sd 1)",
       low=0, high=1e9, explore=(20_000, 1_000_000), source="the study: one case saved about a million yuan", meaning_zh="解决一个技术瓶颈的节约额(中位数)"),
    _p("firms.slot_cap_workforce", "share", 0.10, "share of workforce",
       "internship cap: trainees at most this share of the workforce", source="2021 internship rules: 10%", meaning_zh="实习生占员工比例上限"),
    _p("firms.slot_cap_post", "share", 0.20, "share of a post", "internship cap per post",
       source="2021 internship rules: 20%", meaning_zh="每岗位实习生比例上限"),
    _p("firms.skilled_post_share", "share", 0.5, "share of workforce", "share of the workforce in the posts trainees fill", meaning_zh="实习生可顶岗岗位占员工比例"),
    # ---------------------------------------------------------------- schools
    _p("schools.base_effort", "share", 0.55, "index", "effort a school puts into partnerships for its own sake (evaluations, reputation)",
       source="the study: schools gain from cooperating even alone", meaning_zh="学校自发合作投入"),
    _p("schools.evaluation_pressure", "share", 0.25, "index", "extra effort from the education department's evaluations", meaning_zh="评估带来的额外投入"),
    _p("schools.programme_adjustment_rate", "share", 0.1, "per year",
       "share of the gap between a school's programme mix and local demand closed per year", meaning_zh="专业结构向本地需求调整速度"),
    _p("schools.dynamic_adjustment", "bool", False, "", "a dynamic programme-adjustment mechanism (new majors opened and closed yearly)",
       source="the study: dynamic adjustment, new majors such as intelligent robotics", meaning_zh="专业动态调整机制"),
    _p("schools.curriculum_update_rate", "share", 0.3, "per year",
       "share of the curriculum lag a school closes per year on its own, at full effort (scaled by the school's effort)", meaning_zh="学校自主课程更新速度"),
    _p("schools.cowriting_update_rate", "share", 0.35, "per year at full firm voice",
       "extra share of the lag closed per year when deep partners co-write the curriculum",
       source="the study: stationed engineers and co-written curricula", meaning_zh="校企共编课程的额外更新速度"),
    _p("schools.equipment_realism", "share", 0.4, "index", "initial realism of school training equipment", meaning_zh="学校实训设备真实度(初始)"),
    _p("schools.partner_search_rate", "share", 0.15, "per school-year",
       "chance a school at full effort forms a tie with a fitting firm it has no tie with, per year, without a platform (scaled by effort; a platform triples it at full matching)", meaning_zh="学校年寻找新合作企业概率(无平台)"),
    _p("schools.tie_decay", "share", 0.3, "per year", "share of tie strength lost in a year without activity", meaning_zh="无活动时合作关系年衰减"),
    # ---------------------------------------------------------------- students
    _p("students.real_training_skill_gain", "float", 0.3, "skill units", "skill gained in a placement that is real training",
       low=0, high=5, meaning_zh="真实训练实习的技能增量"),
    _p("students.odd_job_skill_gain", "float", 0.05, "skill units", "skill gained in an odd-job placement (打杂)", low=0, high=5, meaning_zh="打杂式实习的技能增量"),
    _p("students.credential_threshold", "float", 1.0, "skill units", "skill needed for a credential", low=0, high=10, meaning_zh="获得证书所需技能"),
    # ---------------------------------------------------------------- technology
    _p("technology.frontier_speed", "float", 1.0, "technology-years per year",
       "how fast each sector's technology frontier moves (1 = one year of technology per calendar year)",
       low=0, high=10, explore=(0.5, 2.0), meaning_zh="技术前沿推进速度"),
    _p("technology.initial_curriculum_lag", "float", 3.0, "years", "initial gap between teaching and the frontier",
       low=0, high=50, source="assumption; the study: last year's textbook technology is this year's project", meaning_zh="初始课程滞后"),
    # ---------------------------------------------------------------- government
    _p("government.disbursement_lag_months", "int", 6, "months", "delay between a subsidy claim and its payment",
       low=0, high=36, meaning_zh="补贴申请到拨付的延迟"),
    _p("government.coordination", "share", 0.5, "index",
       "coordination among education, industry, HR and finance departments (cross-department data); valid claims processed = 0.6 + 0.4 x coordination", meaning_zh="部门协同程度(跨部门数据)"),
    # ---------------------------------------------------------------- policy levers
    _p("policy.subsidy.cost_share", "share", 0.0, "share", "share of a firm's participation cost the government reimburses",
       meaning_zh="政府补贴企业参与成本的比例"),
    _p("policy.subsidy.target", "choice", "all", "", "who may claim the subsidy", choices=("all", "sme", "anchor"), meaning_zh="补贴对象"),
    _p("policy.subsidy.annual_budget", "float", 5_000_000.0, "yuan per year",
       "subsidy budget cap; claims beyond it go unpaid", low=0, high=1e12, explore=(0, 50_000_000), meaning_zh="年度补贴预算上限"),
    _p("policy.funding.approval_ratio", "share", 0.3, "share", "share of requested special funds approved",
       source="the study: about 30% (no primary source found)", meaning_zh="专项资金批复比例"),
    _p("policy.funding.request", "float", 10_000_000.0, "yuan per year",
       "special funds the consortium requests yearly (equipment, platform, operating body)", low=0, high=1e12,
       explore=(0, 50_000_000), meaning_zh="联合体每年申请的专项资金"),
    _p("policy.tax_credit.investment_offset", "share", 0.3, "share",
       "产教融合型企业 credit against education surcharges, as a share of qualifying investment, capped by the firm's liability",
       source="财税〔2019〕46号 (产教融合型企业 investment offsets 30% of education surcharges); 发改社会〔2019〕590号", meaning_zh="产教融合型企业投资抵免比例"),
    _p("policy.tax_credit.refundable", "bool", False, "", "credit beyond the liability is paid out (lifts the cap)", meaning_zh="抵免超出应缴额部分可退还"),
    _p("policy.credential.mode", "choice", "none", "", "skill credentials: none, nationally portable, or tied to a firm's pay ladder",
       choices=("none", "portable", "employer_ladder"), source="Acemoglu & Pischke 2000; the Haitian model in the study", meaning_zh="技能证书模式"),
    _p("policy.credential.portability", "share", 0.3, "share",
       "how far other employers recognise the credential (in either mode; a firm's ladder certificate is rarely honoured elsewhere)",
       source="assumption: 1+X and firm certificates are weakly recognised across employers; the portable preset uses 0.9", meaning_zh="证书被其他雇主认可的程度"),
    _p("policy.credential.ladder_premium", "share", 0.12, "share of wage",
       "pay rise a credential holder gets on the issuing firm's (or its supply chain's) pay ladder", meaning_zh="持证者在发证企业薪酬阶梯上的加薪"),
    _p("policy.credential.wage_premium", "share", 0.10, "share of wage",
       "outside wage premium of a fully recognised credential", meaning_zh="完全认可证书的外部工资溢价"),
    _p("policy.governance.legal_status", "choice", "council", "",
       "non-legal-person council, or an entity that can hold assets and sign contracts",
       choices=("council", "registered_entity"), source="the study: 非法人化", meaning_zh="联合体法律地位"),
    _p("policy.governance.firm_voice", "share", 0.2, "share",
       "weight of firms in consortium decisions (cost sharing, IP, curriculum)",
       source="the study: firms 'attend, not decide'", meaning_zh="企业在联合体决策中的话语权"),
    _p("policy.governance.ip_contracts", "bool", False, "", "a contract framework for IP ownership and returns from joint projects", meaning_zh="知识产权与收益分配契约框架"),
    _p("policy.governance.operating_body", "bool", False, "", "a dedicated operating body runs the consortium day to day", meaning_zh="专门运营机构"),
    _p("policy.governance.entity_transaction_factor", "share", 0.5, "share",
       "transaction cost per match under a registered entity, relative to a council", meaning_zh="法人实体下每次对接成本(相对理事会)"),
    _p("policy.platform.placement_matching", "share", 0.0, "share",
       "how far a shared platform cuts search cost for placements and projects",
       source="the study: nearly half the consortia lack a regular matching platform", meaning_zh="对接平台降低搜寻成本的程度"),
    _p("policy.platform.graduate_transparency", "share", 0.3, "share",
       "how visible graduates are to all employers (helps matching, raises poaching)", meaning_zh="毕业生对所有雇主的可见度"),
    _p("policy.schedule", "schedule", [], "", "policy changes during a run: a list of {year, set = {KEY = VALUE}}", meaning_zh="运行中的政策调整"),
)

BY_KEY: dict[str, Param] = {p.key: p for p in PARAMETERS}

#: Keys fixed when the model is built (population, network and initial conditions).
STRUCTURAL = frozenset({
    "years", "warmup_years", "policy.schedule", "labour_market.competitors_per_sector", "firms.placement_months",
    "firms.production_motive_share_sme", "firms.production_motive_share_anchor", "firms.goodwill_initial",
    "schools.equipment_realism", "technology.initial_curriculum_lag", "firms.initial_engagement_share",
})

#: Keys a ``policy.schedule`` entry may change (everything but structural keys).
SCHEDULABLE = tuple(
    p.key for p in PARAMETERS if not p.key.startswith("population.") and p.key not in STRUCTURAL
)


def defaults() -> dict[str, Any]:
    """Flat mapping of every key to its default value (lists copied)."""
    return {p.key: (list(p.default) if isinstance(p.default, list) else p.default) for p in PARAMETERS}


def groups() -> dict[str, list[Param]]:
    """Parameters grouped for display (policy levers, labour market, population, ...)."""
    out: dict[str, list[Param]] = {}
    for p in PARAMETERS:
        out.setdefault(p.group, []).append(p)
    return out
