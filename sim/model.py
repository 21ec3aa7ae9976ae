"""ConsortiumModel: one city's industry-education consortium, month by month.

Design note
-----------
One step is one month; the academic year starts in September (month 0).
Calendar of a year (``m`` = month in the academic year):

* m = 0 (September): policy-schedule changes for the year apply; the
  government approves special funds and opens the subsidy budget; firms update
  their expectations from last year's outcomes; schools set effort, adjust
  programmes and curricula; students move up a year; partnership ties grow,
  decay or dissolve and new ones form; firms decide their engagement level.
* m = 9 - placement months (December for 6 months): the placement round.
* placement months: trainees produce, hosts pay; monthly accounts.
* m = 9 (June): the cohort one year out is measured (retention, poaching);
  placement accounts close (claims, credits); students graduate and are hired.
* every month: joint projects progress, due subsidies are paid, graduates quit
  or are poached (except in June, when they are hired), and every indicator is
  recorded.

Before year 1 the model runs ``warmup_years`` unrecorded years under the
year-1 policies (the consortium is new: every firm starts unengaged), so every
indicator is defined from the first recorded month. All randomness flows from
the model's generator ``self.rng`` (seeded by ``seed``).
"""

from __future__ import annotations

import operator

import networkx as nx
import numpy as np
import pandas as pd
from mesa import Model
from mesa.datacollection import DataCollector
from mesa.discrete_space import Network

from sim import economics as eco
from sim import labour_market as lm
from sim import network as net
from sim import placement as plc
from sim import projects as prj
from sim import schools as sch
from sim.consortium import Consortium
from sim.firms import SME, AnchorFirm, FirmState, decide, slot_numbers
from sim.government import Government
from sim.indicators import NAMES
from sim.kernels import yearly as kyear
from sim.scenario import Scenario
from sim.sorting import argsort_stable, lexsort2
from sim.students import Enrolment, FinalYear, Graduates

GRADUATION_MONTH = 9
#: Value of an odd-job trainee's output relative to a real trainee's (simple tasks; assumption).
ODD_JOB_OUTPUT = 0.9
#: Chance a job-seeking graduate searches in the sector trained for, before
#: transparency and credentials (MyCOS: about 60-70% work in a related field).
OWN_SECTOR_SEARCH = 0.55
MONTHS = 12


class ConsortiumModel(Model):
    """A city's vocational schools, anchor firms, SMEs and government over a network.

    Build with a :class:`sim.scenario.Scenario` and a seed; :meth:`step`
    advances one month; :meth:`run_to_end` runs the scenario's years;
    :meth:`timeseries` returns one row per recorded month.
    """

    #: True only while the constructor runs the unrecorded warm-up (indicators are then computed once, at its end)
    _warming_up = False

    def __init__(self, scenario: Scenario | None = None, seed: int = 1) -> None:
        super().__init__(rng=seed)
        self.sc = scenario if scenario is not None else Scenario()
        self.seed = seed
        self.p: dict = self.sc.to_flat()
        self.years = int(self.p["years"])
        self.warmup = int(self.p["warmup_years"])
        self.sectors: list[str] = list(self.p["population.sectors"])
        self.year = -self.warmup  # becomes 1 - warmup at the first September
        self.month = -1
        self.recorded_steps = 0
        self._build_population()
        self._build_network()
        self.government = Government(self)
        self.consortium = Consortium(self)
        self.projects = prj.Projects()
        self.graduates = Graduates()
        self.final_year: FinalYear | None = None
        #: firms' belief about the share of trainees who earn a credential, by the level they were hosted at
        self.credential_share_belief = np.full(3, 0.3)
        self.last_expected_values = np.zeros((self.firm_state.n, 3))
        self._last_round = plc.RoundResult(0, 0, 0, 0, 0, 0)
        self._held = {"placement_quality": 0.0, "unfilled_placement_slots": 0.0, "unplaced_students": 0.0,
                      "hosts_losing_money_share": 0.0, "retention_rate": 0.0, "poaching_rate": 0.0}
        self._measured_retention = False
        self._extra_offers = np.zeros(self.firm_state.n, dtype=np.int64)
        self._projects_this_step = 0
        self._tie_last_active = np.full(len(self.ties), -10**6, dtype=np.int64)
        # the networkx graph and Mesa network mirror the arrays; built on first access (see `G`)
        self._n_initial_ties = len(self.ties)
        self._tie_serial = np.arange(len(self.ties), dtype=np.int64)  # creation order
        self._next_tie_serial = len(self.ties)
        self._tie_g_strength = self.ties.strength.copy()  # strength shown on the graph (synced each June)
        for name in NAMES:
            setattr(self, name, 0.0)
        self.datacollector = _IndicatorCollector(model_reporters={name: name for name in NAMES})
        self._rows_step: list[int] = []
        self._rows_year: list[int] = []
        # nothing reads the indicators during the unrecorded warm-up: they are computed once, at its end
        self._warming_up = True
        for _ in range(self.warmup * MONTHS):
            self.step()
        self._warming_up = False
        if self.warmup:
            self._update_indicators()

    # ------------------------------------------------------------------ build
    def _build_population(self) -> None:
        p, rng = self.p, self.rng
        k = len(self.sectors)
        n_anchor, n_sme = p["population.anchor_firms"], p["population.smes"]
        n = n_anchor + n_sme
        is_anchor = np.arange(n) < n_anchor
        sector_weights = rng.dirichlet(np.full(k, 5.0))
        sector = np.empty(n, dtype=np.int64)
        sector[:n_anchor] = rng.permutation(np.arange(n_anchor) % k) if n_anchor else []
        sector[n_anchor:] = rng.choice(k, size=n_sme, p=sector_weights)
        employees = np.where(
            is_anchor,
            p["population.anchor_employees_median"] * np.exp(p["population.anchor_employees_sigma"] * rng.standard_normal(n)),
            p["population.sme_employees_median"] * np.exp(p["population.sme_employees_sigma"] * rng.standard_normal(n)),
        )
        employees = np.maximum(np.round(employees), 3.0)
        wage = p["labour_market.entry_wage"] * np.exp(0.08 * rng.standard_normal(n)) * np.where(is_anchor, 1.08, 1.0)
        motive_share = np.where(is_anchor, p["firms.production_motive_share_anchor"], p["firms.production_motive_share_sme"])
        self.firm_state = FirmState(
            is_anchor=is_anchor, sector=sector, employees=employees, wage=wage,
            productivity=np.exp(p["population.firm_productivity_sigma"] * rng.standard_normal(n)),
            production_motive=rng.random(n) < motive_share,
            supplier_of=np.full(n, -1, dtype=np.int64), competitors=np.zeros(n),
            engagement=(rng.random(n) < p["firms.initial_engagement_share"]).astype(np.int64),
            goodwill=rng.uniform(0.0, p["firms.goodwill_initial"], size=n),
            belief_productivity=np.exp(0.2 * rng.standard_normal(n)),
            belief_retention=np.exp(0.2 * rng.standard_normal(n)),
            belief_paid=np.full(n, 1.0), belief_projects=np.zeros(n),
            slots=np.zeros(n, dtype=np.int64), vacancies=np.zeros(n, dtype=np.int64),
            on_ladder=np.zeros(n, dtype=bool), hosted=np.zeros(n, dtype=np.int64),
            acc_output=np.zeros(n), acc_cost=np.zeros(n), acc_public=np.zeros(n), predicted_output=np.zeros(n),
            realised_net=np.full(n, np.nan), project_value_year=np.zeros(n), realised_value=np.zeros(n),
            _surcharge=p["firms.education_surcharge_per_employee"],
        )
        self.firm_state.belief_projects = np.full(n, self._project_value_prior())
        # schools
        tiers = np.concatenate([np.full(p[f"population.schools.{t}"], i, dtype=np.int64) for i, t in enumerate(sch.TIERS)])
        n_s = tiers.size
        cohort = np.array([p[f"population.cohort_size.{sch.TIERS[t]}"] for t in tiers], dtype=np.int64)
        # schools specialise: each leans to a few sectors; higher tiers are broader
        conc = np.where(tiers == 0, 0.6, np.where(tiers == 1, 1.0, 1.5))
        shares = _dirichlet_rows(rng, conc, k)
        self.school_state = sch.SchoolState(
            tier=tiers, cohort_size=cohort, shares=shares,
            lag=np.full((n_s, k), p["technology.initial_curriculum_lag"]) * np.exp(0.2 * rng.standard_normal((n_s, k))),
            equipment=np.clip(p["schools.equipment_realism"] + 0.1 * rng.standard_normal(n_s), 0.0, 1.0),
            effort=np.full(n_s, p["schools.base_effort"]),
        )
        self.enrolment = Enrolment.start(cohort, shares)
        # Mesa agents (thin views on the arrays)
        self.school_agents = [sch.School(self, i) for i in range(n_s)]
        self.firm_agents = [AnchorFirm(self, i) if a else SME(self, i) for i, a in enumerate(is_anchor.tolist())]
        self.school_nodes = np.array([a.unique_id for a in self.school_agents], dtype=np.int64)
        self.firm_nodes = np.array([a.unique_id for a in self.firm_agents], dtype=np.int64)

    def _build_network(self) -> None:
        fs, rng = self.firm_state, self.rng
        fs.supplier_of = net.supply_chain(rng, fs.is_anchor, fs.sector, fs.employees, self.p["population.supply_chain_share"])
        comp = net.competition_edges(rng, fs.sector, self.p["labour_market.competitors_per_sector"])
        self.competition = net.adjacency(fs.n, comp)
        fs.competitors = np.diff(self.competition.indptr).astype(np.float64)  # row sums of a 0/1 matrix
        chain = np.column_stack([np.flatnonzero(fs.supplier_of >= 0), fs.supplier_of[fs.supplier_of >= 0]])
        self.firm_adjacency = net.adjacency(fs.n, np.concatenate([comp, chain]) if len(chain) else comp)
        self.firm_adjacency.data[:] = 1.0
        self._firm_degree = np.diff(self.firm_adjacency.indptr).astype(np.float64)
        a = self.firm_adjacency  # its CSR arrays, with int64 indices, for the compiled belief update
        self._adjacency_csr = (a.indptr.astype(np.int64), a.indices.astype(np.int64), a.data)
        self.ties = net.initial_ties(rng, self.school_state.shares, fs.is_anchor, fs.sector)
        self._comp_edges = comp
        self._G = None
        self._network = None

    @property
    def G(self) -> nx.Graph:  # noqa: N802 - the usual name of a networkx graph
        """The network as a :class:`networkx.Graph` over agent ids (partnership, supply and competition edges).

        Built from the tie arrays on first access, then kept in step with them
        (new ties added, dissolved ties removed, strengths synced each June).
        Runs that never look at it do not pay for it.
        """
        if self._G is None:
            later = int(np.searchsorted(self._tie_serial, self._n_initial_ties))
            self._G = net.build_graph(self.school_nodes, self.firm_nodes, self.ties, self.firm_state.supplier_of,
                                      self._comp_edges, partnership=self._tie_g_strength, later_ties_from=later)
        return self._G

    @property
    def network(self) -> Network:
        """The :class:`mesa.discrete_space.Network` on :attr:`G`; schools and firms sit on their nodes' cells.

        Built on first access (of this or of an agent's ``cell``), then kept in step with the ties.
        """
        if self._network is None:
            self._network = Network(self.G, layout=None, random=self.random)
            for a in self.school_agents + self.firm_agents:
                a.cell = self._network[a.unique_id]
        return self._network

    # ------------------------------------------------------------------ helpers read by the rules
    @property
    def schools(self):
        """AgentSet of schools."""
        return self.agents_by_type.get(sch.School, self._empty())

    @property
    def anchors(self):
        """AgentSet of anchor firms."""
        return self.agents_by_type.get(AnchorFirm, self._empty())

    @property
    def smes(self):
        """AgentSet of SMEs."""
        return self.agents_by_type.get(SME, self._empty())

    @property
    def firms(self):
        """AgentSet of all firms."""
        from mesa.agent import AgentSet

        return AgentSet(self.firm_agents, random=self.random)

    def _empty(self):
        from mesa.agent import AgentSet

        return AgentSet([], random=self.random)

    @property
    def market_wage(self) -> float:
        """The city's entry wage for a graduate post, yuan per month."""
        return float(self.p["labour_market.entry_wage"])

    def slot_terms(self) -> eco.SlotTerms:
        """Current placement terms."""
        p = self.p
        return eco.SlotTerms(
            months=int(p["firms.placement_months"]), pay_floor=p["firms.trainee_pay_floor"],
            task_share=p["firms.productive_task_share"], productivity_start=p["firms.trainee_productivity_start"],
            productivity_gain=p["firms.trainee_productivity_gain"],
            mentor_days=(0.0, p["firms.shallow_mentor_days_per_week"], p["firms.mentor_days_per_week"]),
            trainees_per_mentor=p["firms.trainees_per_mentor"], mentor_wage_ratio=p["firms.mentor_wage_ratio"],
            equipment_per_month=p["firms.equipment_cost_per_month"], admin_per_trainee=p["firms.admin_cost_per_trainee"],
            transaction_per_match=p["firms.transaction_cost_per_match"] * self.consortium.transaction_factor(),
            skilled_wage_ratio=p["labour_market.skilled_wage_ratio"], nonwage_share=p["labour_market.nonwage_cost_share"],
            hiring_cost_weeks=p["labour_market.hiring_cost_weeks"], wage_compression=p["labour_market.wage_compression"],
            discount_rate=p["labour_market.wage_discount"],
        )

    def market_terms(self) -> lm.MarketTerms:
        """Current labour-market terms."""
        p = self.p
        terms = dict(
            compression=p["labour_market.wage_compression"], transparency=p["policy.platform.graduate_transparency"],
            poaching_intensity=p["labour_market.poaching_intensity"], base_quit_hazard=p["labour_market.base_quit_hazard"],
            outside_wage_premium=p["labour_market.outside_wage_premium"], mobility_cost=p["labour_market.mobility_cost"],
            credential_mode=p["policy.credential.mode"], portability=p["policy.credential.portability"],
            ladder_premium=p["policy.credential.ladder_premium"] if p["policy.credential.mode"] == "employer_ladder" else 0.0,
            credential_wage_premium=p["policy.credential.wage_premium"],
        )
        cached = self.__dict__.get("_market_terms")  # the same terms as last time: the same (immutable) object
        if cached is None or cached[0] != terms:
            cached = self._market_terms = (terms, lm.MarketTerms(**terms))
        return cached[1]

    def subsidy_rate_for(self, is_anchor: np.ndarray) -> np.ndarray:
        """Share of participation cost reimbursed, by who may claim."""
        target = self.p["policy.subsidy.target"]
        eligible = np.ones_like(is_anchor) if target == "all" else (is_anchor if target == "anchor" else ~is_anchor)
        return self.p["policy.subsidy.cost_share"] * eligible.astype(float)

    def subsidy_delay_discount(self) -> float:
        """Value today of a yuan paid after the disbursement lag (and the placement)."""
        months = self.p["government.disbursement_lag_months"] + self.p["firms.placement_months"]
        return 1.0 / (1.0 + self.p["labour_market.wage_discount"]) ** (months / 12.0)

    def deep_fixed_cost(self, is_anchor: np.ndarray) -> np.ndarray:
        """Yearly fixed cost of deep engagement, after the consortium's pooling and cost sharing."""
        base = np.where(is_anchor, self.p["firms.deep_fixed_cost_anchor"], self.p["firms.deep_fixed_cost_sme"])
        return base * self.consortium.deep_cost_factor()

    def host_fixed_cost(self) -> float:
        """Yearly fixed cost of hosting trainees at all, after platform, entity and operating-body effects."""
        return self.p["firms.shallow_fixed_cost"] * self.consortium.transaction_factor()

    def project_access(self, level: int) -> np.ndarray:
        """Extra chance of starting a joint project at ``level`` over not engaging, per firm."""
        strong = self._strong_tie_firms()
        platform = self.p["policy.platform.placement_matching"]
        ipf = prj.ip_start_factor(self.consortium.ip_effectiveness())
        lvl = np.full(self.firm_state.n, level)
        base = prj.access_probability(np.zeros(self.firm_state.n, dtype=np.int64), strong, platform)
        with_level = prj.access_probability(lvl, strong | (level >= 1), platform)
        return (with_level - base) * ipf

    def _project_value_prior(self) -> float:
        p = self.p
        return prj.expected_yearly_value(p["firms.bottleneck_rate"], p["firms.bottleneck_value"],
                                         p["schools.equipment_realism"], 0.0) / prj.ip_start_factor(0.0)

    def _memo(self, name: str, key: tuple, compute):
        """``compute()``, kept until an object in ``key`` is replaced (compared by identity).

        The model replaces a state array (never edits it in place) when what it
        holds changes, and market terms are immutable, so identity is enough.
        """
        cache = self.__dict__.setdefault("_memo_cache", {})
        hit = cache.get(name)
        if hit is not None and len(hit[0]) == len(key) and all(map(operator.is_, hit[0], key)):
            return hit[1]
        value = compute()
        cache[name] = (key, value)
        return value

    def _per_ties(self, name: str, compute):
        """``compute()``, cached until the ties change; an array result is read-only."""
        def readonly():
            value = compute()
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            return value

        t = self.ties
        return self._memo(f"ties:{name}", (t.school, t.firm, t.strength), readonly)

    def _strong_tie_firms(self) -> np.ndarray:
        def compute() -> np.ndarray:
            strong = np.zeros(self.firm_state.n, dtype=bool)
            strong[self.ties.firm[self.ties.strength >= 0.3]] = True
            return strong

        return self._per_ties("strong", compute)

    def expected_trainee_quality(self) -> np.ndarray:
        """Mean preparation quality of the trainees each firm's sector supplies."""
        ss = self.school_state
        q = sch.preparation_quality(ss)
        weight = ss.shares * ss.cohort_size[:, None]
        by_sector = (q * weight).sum(axis=0) / np.maximum(weight.sum(axis=0), 1e-12)
        by_sector[weight.sum(axis=0) <= 0] = 1.0
        return by_sector[self.firm_state.sector]

    def neighbour_mean(self, x: np.ndarray) -> np.ndarray:
        """Mean of ``x`` over each firm's firm neighbours (supply chain and competitors); 0 if none."""
        s = self.firm_adjacency @ x
        return np.divide(s, self._firm_degree, out=np.zeros_like(s, dtype=float), where=self._firm_degree > 0)

    # ------------------------------------------------------------------ the month
    def step(self) -> None:
        """Advance one month."""
        self.month = (self.month + 1) % MONTHS
        m = self.month
        self.government.paid_this_step = 0.0
        self._projects_this_step = 0
        if m == 0:
            self._start_year()
        start = GRADUATION_MONTH - int(self.p["firms.placement_months"])
        if m == start:
            self._placement_round()
        if start <= m < GRADUATION_MONTH:
            self._placement_month(m - start)
        self._run_projects()
        self.government.step()
        if m == GRADUATION_MONTH:
            self._graduation()
        elif len(self.graduates):
            self._turnover()
        if not self._warming_up:
            self._update_indicators()
        if self.year >= 1:
            self.recorded_steps += 1
            self._rows_step.append(self.recorded_steps)
            self._rows_year.append(self.year)
            self.datacollector.collect(self)
            if self.recorded_steps >= self.years * MONTHS:
                self.running = False

    def run_to_end(self) -> None:
        """Step until the scenario's last month."""
        while self.running:
            self.step()

    # ------------------------------------------------------------------ September
    def _start_year(self) -> None:
        self.year += 1
        # warm-up years run under the year-1 policies (entries for year 1 included)
        for entry in self.p["policy.schedule"]:
            if entry["year"] == max(self.year, 1):
                self.p.update(entry["set"])
        fs, ss, p = self.firm_state, self.school_state, self.p
        self._update_beliefs()
        self.government.evaluate(np.count_nonzero(fs.engagement >= 1) / fs.n if fs.n else 0.0, self._active_tie_share())
        self.government.start_year()
        # schools: equipment, effort, programme mix, curricula (one compiled pass, see sim.kernels.yearly.school_year)
        n_s = ss.n
        per_school = 0.6 * self.government.special_funds_year / max(n_s, 1)
        rate = 0.35 if p["schools.dynamic_adjustment"] else p["schools.programme_adjustment_rate"]
        rate = min(1.0, rate + 0.1 * p["policy.platform.placement_matching"])
        t = self.ties
        ss.equipment, ss.effort, shares, adjusted, ss.lag, base_skill = kyear.school_year(
            t.school, t.firm, t.active, fs.engagement, fs.sector, fs.employees, sch.TIER_SKILL[ss.tier], ss.equipment,
            ss.shares, ss.lag, float(per_school), 0.03 if self.consortium.is_entity else 0.01,
            float(p["schools.base_effort"]), float(p["schools.evaluation_pressure"]), float(rate),
            float(p["schools.cowriting_update_rate"] * self.consortium.curriculum_voice()),
            float(p["technology.frontier_speed"]), float(p["schools.curriculum_update_rate"]))
        if adjusted:
            ss.shares = shares
        # students move up
        self.enrolment.advance(ss.cohort_size, ss.shares)
        self.final_year = FinalYear.from_counts(self.enrolment.counts[:, :, -1], base_skill, self.rng)
        # ties
        self._update_ties()
        # firms
        slot_args = (fs.employees, p["labour_market.annual_turnover"], p["firms.slot_cap_workforce"],
                     p["firms.slot_cap_post"], p["firms.skilled_post_share"])
        # the same until the workforce or a parameter changes; a copy, as the model's arrays are its own each year
        fs.slots = self._memo("slots", slot_args, lambda: slot_numbers(*slot_args)).copy()
        raw = fs.employees * p["labour_market.annual_turnover"] * p["labour_market.graduate_hiring_share"]
        low = np.floor(raw)
        fs.vacancies = (low + (self.rng.random(fs.n) < raw - low)).astype(np.int64) + self._extra_offers
        self._extra_offers[:] = 0
        fs.on_ladder = self._ladder_firms()
        decide(self)
        fs.hosted[:] = 0
        fs.acc_output[:] = 0.0
        fs.acc_cost[:] = 0.0
        fs.acc_public[:] = 0.0
        fs.project_value_year[:] = 0.0
        deep = fs.engagement == 2
        self._deep_fixed = np.where(deep, self.deep_fixed_cost(fs.is_anchor), 0.0)
        self._host_fixed = np.where(fs.engagement >= 1, self.host_fixed_cost(), 0.0)

    def _ladder_firms(self) -> np.ndarray:
        """Firms with a credential pay ladder: every anchor and its suppliers (point-to-chain).

        Only hosts issue the credential (to trainees above the skill threshold);
        any ladder firm honours it in pay.
        """
        fs = self.firm_state
        if self.p["policy.credential.mode"] != "employer_ladder":
            return np.zeros(fs.n, dtype=bool)
        ladder = fs.is_anchor.copy()
        chain = fs.supplier_of >= 0
        ladder[chain] = True
        return ladder

    def _active_tie_share(self) -> float:
        return np.count_nonzero(self.ties.active) / len(self.ties) if len(self.ties) else 0.0

    def _update_ties(self) -> None:
        """September: ties strengthen with last year's activity or decay (and dissolve); schools search for new ones."""
        t, p, rng = self.ties, self.p, self.rng
        if len(t):
            t.strength = np.where(t.active, np.minimum(1.0, t.strength + 0.2), t.strength * (1.0 - p["schools.tie_decay"]))
            keep = t.strength >= net.DISSOLVE_BELOW
            if not keep.all():
                self._unmirror_ties(t.school[~keep], t.firm[~keep])
                t.keep(keep)
                self._tie_last_active = self._tie_last_active[keep]
                self._tie_serial = self._tie_serial[keep]
                self._tie_g_strength = self._tie_g_strength[keep]
            t.active[:] = False
        # new ties: schools search for fitting firms, helped by a platform
        ss, fs = self.school_state, self.firm_state
        if ss.n == 0 or fs.n == 0:
            return
        chance = p["schools.partner_search_rate"] * ss.effort * (1.0 + 2.0 * p["policy.platform.placement_matching"])
        searching = (rng.random(ss.n) < chance).nonzero()[0]
        if searching.size == 0:
            return
        # Each searching school draws a sector from its programme mix, then a firm of that sector weighted
        # by engagement and size: the same draws as Generator.choice(p=...). When every sector has firms,
        # every search takes two uniforms, drawn at once; otherwise a search whose sector has none takes one.
        has_firms = self._memo("sector_has_firms", (fs.sector,), lambda: bool(
            (np.bincount(fs.sector, minlength=len(self.sectors)) > 0).all()))
        if has_firms:
            new_f = kyear.search_partners(searching, ss.shares, rng.random(2 * searching.size), fs.sector,
                                          fs.engagement, fs.employees)
            self._add_ties(searching, new_f)
            return
        sector_cdf = ss.shares[searching].cumsum(axis=1)
        sector_cdf /= sector_cdf[:, -1:]
        cands_of: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
        new_s, new_f = [], []
        for i, s in enumerate(searching.tolist()):
            k = int(sector_cdf[i].searchsorted(rng.random(), side="right"))
            if k not in cands_of:
                cands = (fs.sector == k).nonzero()[0]
                if cands.size:
                    w = (1.0 + 2.0 * fs.engagement[cands]) * np.sqrt(fs.employees[cands])
                    p_k = w / w.sum()
                    cdf = p_k.cumsum()
                    cdf /= cdf[-1]
                    cands_of[k] = (cands, cdf)
                else:
                    cands_of[k] = None
            if cands_of[k] is None:
                continue
            cands, cdf = cands_of[k]
            new_s.append(s)
            new_f.append(int(cands[cdf.searchsorted(rng.random(), side="right")]))
        self._add_ties(np.array(new_s, dtype=np.int64), np.array(new_f, dtype=np.int64))

    def _add_ties(self, schools: np.ndarray, firms: np.ndarray) -> np.ndarray:
        idx = self.ties.add(schools, firms, net.NEW_TIE_STRENGTH)
        if idx.size == 0:
            return idx
        self._tie_last_active = np.concatenate([self._tie_last_active, np.full(idx.size, -10**6, dtype=np.int64)])
        self._tie_serial = np.concatenate([self._tie_serial, self._next_tie_serial + np.arange(idx.size)])
        self._next_tie_serial += idx.size
        self._tie_g_strength = np.concatenate([self._tie_g_strength, self.ties.strength[idx]])
        if idx.size and self._G is not None:  # mirror into the graph (and network) once someone has looked
            u = self.school_nodes[self.ties.school[idx]].tolist()
            v = self.firm_nodes[self.ties.firm[idx]].tolist()
            st = self.ties.strength[idx].tolist()
            for a, b, x in zip(u, v, st, strict=True):
                if self._network is not None:
                    self._network.add_connection(self._network[a], self._network[b])
                    self._G.edges[a, b].update(partnership=x, supply=False, competition=False)
                else:
                    self._G.add_edge(a, b, partnership=x, supply=False, competition=False)
        return idx

    def _unmirror_ties(self, schools: np.ndarray, firms: np.ndarray) -> None:
        """Remove dissolving ties from the graph and network, if they have been built."""
        if self._G is None:
            return
        for a, b in zip(self.school_nodes[schools].tolist(), self.firm_nodes[firms].tolist(), strict=True):
            if self._network is not None:
                self._network.remove_connection(self._network[a], self._network[b])
            else:
                self._G.remove_edge(a, b)

    def _sync_tie_strengths(self) -> None:
        self._tie_g_strength = self.ties.strength.copy()
        if self._G is None:
            return
        edges = self._G.edges
        for a, b, st in zip(self.school_nodes[self.ties.school].tolist(), self.firm_nodes[self.ties.firm].tolist(),
                            self._tie_g_strength.tolist(), strict=True):
            edges[a, b]["partnership"] = st

    def _update_beliefs(self) -> None:
        """Adaptive expectations from own and neighbours' outcomes; goodwill decays without returns.

        Each of trainee output (realised / predicted), retention (realised /
        expected) and joint-project value is learnt at rate
        ``firms.expectation_learning_rate`` toward a target mixing the firm's
        own outcome with its firm neighbours' mean (weight
        ``firms.neighbour_learning_weight``), from whichever of them exists;
        the share of subsidy claims paid is learnt from the city-wide share.
        One compiled pass: :func:`sim.kernels.yearly.update_beliefs`.
        """
        fs, p = self.firm_state, self.p
        indptr, indices, data = self._adjacency_csr
        retention = getattr(self, "_retention_ratio", None)
        r, has = retention if retention is not None else (fs.belief_retention, np.zeros(0, dtype=bool))
        productivity, belief_retention, fs.belief_paid, fs.belief_projects, fs.goodwill = kyear.update_beliefs(
            indptr, indices, data, float(p["firms.expectation_learning_rate"]),
            float(p["firms.neighbour_learning_weight"]), fs.hosted, fs.acc_output, fs.predicted_output,
            fs.belief_productivity, retention is not None, r, has, fs.belief_retention,
            fs.belief_paid, float(self.government.claims_paid_share), fs.project_value_year, fs.engagement,
            fs.belief_projects, fs.realised_net, fs.goodwill, 1.0 - p["firms.goodwill_decay"])
        fs.belief_productivity = productivity
        if retention is not None:
            fs.belief_retention = belief_retention

    # ------------------------------------------------------------------ placement
    def _placement_round(self) -> None:
        fs, ss, fy = self.firm_state, self.school_state, self.final_year
        k = len(self.sectors)
        self._placement_terms = self.slot_terms()
        if fs.n == 0 or len(fy) == 0:
            fs.hosted[:] = 0
            self._host_quality = np.ones(fs.n)
            self._realised_productivity = fs.productivity.copy()
            slots = int(np.where(fs.engagement >= 1, fs.slots, 0).sum())
            self._last_round = plc.RoundResult(slots, 0, len(fy), 0, 0, 0)
            self._held.update(placement_quality=0.0, unfilled_placement_slots=float(slots), unplaced_students=float(len(fy)))
            return
        need = self.enrolment.counts[:, :, -1].copy()
        slots = np.where(fs.engagement >= 1, fs.slots, 0)
        t = self.ties
        allocations, new = plc.allocate(self.rng, need, slots, fs.sector, t.school, t.firm, t.strength,
                                        self.consortium.search_reach())
        if len(new):
            self._add_ties(new[:, 0], new[:, 1])
        fy.host = plc.assign_students(allocations, fy.school, fy.sector, k, fs.sector)
        placed = fy.host >= 0
        fy.host_level = np.where(placed, fs.engagement[np.maximum(fy.host, 0)], 0)
        terms = self._placement_terms
        mentor = np.asarray(terms.mentor_days)[fy.host_level]
        h = np.maximum(fy.host, 0)
        r = plc.realism(fy.host_level, mentor, ss.equipment[fy.school], ss.lag[fy.school, fy.sector],
                        fs.production_motive[h], ss.effort[fy.school])
        fy.real_training = placed & (self.rng.random(len(fy)) < r)
        fy.skill = fy.skill + np.where(placed, np.where(fy.real_training, self.p["students.real_training_skill_gain"],
                                                        self.p["students.odd_job_skill_gain"]), 0.0)
        fs.hosted = np.bincount(fy.host[placed], minlength=fs.n).astype(np.int64)
        # trainee quality per host: preparation and real training share
        q = sch.preparation_quality(ss)[fy.school, fy.sector] * np.where(fy.real_training, 1.0, ODD_JOB_OUTPUT)
        qsum = np.bincount(fy.host[placed], weights=q[placed], minlength=fs.n)
        self._host_quality = np.divide(qsum, fs.hosted, out=np.ones(fs.n), where=fs.hosted > 0)
        self._realised_productivity = fs.productivity * np.exp(0.15 * self.rng.standard_normal(fs.n))
        hosts = fs.hosted > 0
        lvl = fs.engagement
        expected_out, _ = eco.placement_net_benefit(terms, fs.wage, fs.production_motive, lvl, fs.productivity,
                                                    self.expected_trainee_quality())
        fs.predicted_output = np.where(hosts, expected_out * fs.hosted * fs.belief_productivity, 0.0)
        fs.acc_cost += fs.hosted * eco.upfront_cost(terms)
        self._mark_active(allocations.school, allocations.firm)
        self._last_round = plc.RoundResult(
            slots_offered=int(slots.sum()), slots_filled=int(placed.sum()), students_needing=len(fy),
            students_placed=int(placed.sum()), real_training=int(fy.real_training.sum()), new_ties=len(new))
        self._held["placement_quality"] = fy.real_training.sum() / placed.sum() if placed.any() else 0.0
        self._held["unfilled_placement_slots"] = float(slots.sum() - placed.sum())
        self._held["unplaced_students"] = float(len(fy) - placed.sum())

    def _mark_active(self, schools: np.ndarray, firms: np.ndarray) -> None:
        if schools.size == 0 or len(self.ties) == 0:
            return
        hit = self.ties.find(schools, firms)
        hit = hit[hit >= 0]
        self.ties.active[hit] = True
        self._tie_last_active[hit] = self.steps

    def _placement_month(self, i: int) -> None:
        fs = self.firm_state
        if not (fs.hosted > 0).any():
            return
        terms = self._placement_terms
        # the output of every placement month and the monthly cost are fixed by the round (computed once a round)
        key = (terms, fs.wage, fs.production_motive, fs.engagement, self._realised_productivity, self._host_quality)
        output, cost = self._memo("placement_flows", key, lambda: (
            eco.monthly_output(*key), eco.monthly_cost(terms, fs.wage, fs.engagement)))
        fs.acc_output += fs.hosted * output[i]
        fs.acc_cost += fs.hosted * cost

    # ------------------------------------------------------------------ projects
    def _run_projects(self) -> None:
        fs, p, rng = self.firm_state, self.p, self.rng
        firms, schools, values = self.projects.finish()
        if firms.size:
            share = prj.firm_share(self.consortium.ip_effectiveness())
            np.add.at(fs.project_value_year, firms, values * share)
            for s, f in zip(schools, firms, strict=True):
                k = fs.sector[f]
                self.school_state.lag[s, k] = max(0.0, self.school_state.lag[s, k] - prj.CURRICULUM_REFRESH_YEARS)
            np.add.at(self._extra_offers, firms, 1)
            self._mark_active(schools, firms)
            self._projects_this_step = int(firms.size)
        if fs.n == 0 or self.school_state.n == 0:
            return
        hit = (rng.random(fs.n) < p["firms.bottleneck_rate"] / MONTHS).nonzero()[0]
        if hit.size == 0:
            return
        platform = p["policy.platform.placement_matching"]
        strong = self._strong_tie_firms()[hit]
        prob = prj.access_probability(fs.engagement[hit], strong, platform) * prj.ip_start_factor(
            self.consortium.ip_effectiveness())
        go = hit[rng.random(hit.size) < prob]
        if go.size == 0:
            return
        school = self._partner_school(go)
        ok = school >= 0
        go, school = go[ok], school[ok]
        if go.size == 0:
            return
        success = rng.random(go.size) < prj.SUCCESS_BASE + prj.SUCCESS_EQUIPMENT * self.school_state.equipment[school]
        value = p["firms.bottleneck_value"] * np.exp(rng.standard_normal(go.size))
        self.projects.add(go, school, prj.durations(rng, go.size, platform), success, value)

    def _partner_school(self, firms: np.ndarray) -> np.ndarray:
        """Strongest partner school of each firm, else a school teaching its sector (platform), else -1."""
        t, fs, ss = self.ties, self.firm_state, self.school_state

        def strongest() -> np.ndarray:
            best = np.full(fs.n, -1, dtype=np.int64)
            if len(t):
                order = np.argsort(t.strength)  # later (stronger) overwrite earlier
                best[t.firm[order]] = t.school[order]
            return best

        out = self._per_ties("strongest_partner", strongest)[firms]
        missing = (out < 0).nonzero()[0]
        if missing.size == 0:
            return out
        # a school teaching the firm's sector, weighted by its programme share: one uniform each, in order,
        # as Generator.choice(ss.n, p=w / w.sum()) draws it
        sector = fs.sector[firms[missing]]
        cdf_all = self._memo("school_cdfs", (ss.shares,), dict)  # per sector, filled as needed, until the mix changes
        cdf_of = {}
        for k in np.unique(sector).tolist():
            if k not in cdf_all:
                w = ss.shares[:, k]
                cdf = None
                if w.sum() > 0:
                    p_k = w / w.sum()
                    cdf = p_k.cumsum()
                    cdf /= cdf[-1]
                cdf_all[k] = cdf
            if cdf_all[k] is not None:
                cdf_of[k] = cdf_all[k]
        drawn = np.array([k in cdf_of for k in sector.tolist()], dtype=bool)
        u = self.rng.random(int(drawn.sum()))
        for k, cdf in cdf_of.items():
            sel = sector[drawn] == k
            out[missing[drawn][sel]] = cdf.searchsorted(u[sel], side="right")
        return out

    # ------------------------------------------------------------------ June
    def _graduation(self) -> None:
        self._measure_one_year_out()
        self._close_placements()
        self._hire_graduates()
        self._turnover_drop_old()
        self._sync_tie_strengths()

    def _close_placements(self) -> None:
        fs, gov = self.firm_state, self.government
        hosts = fs.hosted > 0
        rate = self.subsidy_rate_for(fs.is_anchor)
        fixed = self._deep_fixed + np.where(hosts, self._host_fixed, 0.0)
        claim = rate * (fs.acc_cost + fixed)
        claimants = (claim > 0).nonzero()[0]
        approved = np.zeros(fs.n)
        if claimants.size:
            approved[claimants] = gov.claim(claimants, claim[claimants])
        placement_part = np.divide(fs.acc_cost, fs.acc_cost + fixed, out=np.zeros(fs.n),
                                   where=(fs.acc_cost + fixed) > 0)
        fs.acc_public = approved * placement_part
        # tax credit for certified deep partners (产教融合型企业)
        deep = fs.engagement == 2
        if deep.any() and self.p["policy.tax_credit.investment_offset"] > 0:
            terms = self._placement_terms if hasattr(self, "_placement_terms") else self.slot_terms()
            investment = self._deep_fixed + fs.hosted * (eco.monthly_cost(terms, fs.wage, 2) - terms.pay_floor * fs.wage) * terms.months
            credit = eco.tax_credit(self.p["policy.tax_credit.investment_offset"], investment, fs.liability,
                                    self.p["policy.tax_credit.refundable"])
            idx = (deep & (credit > 0)).nonzero()[0]
            gov.grant_credits(idx, credit[idx])
        net_benefit = fs.acc_output - fs.acc_cost + fs.acc_public
        fs.realised_net = np.where(hosts, net_benefit / np.maximum(fs.hosted, 1), np.nan)
        # the year's realised value of the firm's engagement (what imitation compares)
        credits = np.zeros(fs.n)
        if deep.any() and self.p["policy.tax_credit.investment_offset"] > 0:
            credits[idx] = credit[idx]
        reputation = np.where(fs.is_anchor, self.p["firms.reputation_value_anchor"],
                              self.p["firms.reputation_value_sme"]) * fs.engagement * fs.hosted
        retained = getattr(self, "_retained_count", np.zeros(fs.n))
        fs.realised_value = (net_benefit - fixed + approved * (1.0 - placement_part) + credits + reputation
                             + fs.project_value_year + retained * eco.hiring_cost(self._placement_terms, fs.wage))
        self._held["hosts_losing_money_share"] = float((net_benefit[hosts] < 0).mean()) if hosts.any() else 0.0

    def _hire_graduates(self) -> None:
        fs, fy, rng = self.firm_state, self.final_year, self.rng
        mt = self.market_terms()
        n = len(fy)
        self.enrolment.graduate()
        if n == 0:
            self.final_year = None
            return
        if fs.n == 0:
            fy.host[:] = -1
        host = fy.host
        hosted = host >= 0
        h = np.maximum(host, 0) if fs.n else np.zeros(n, dtype=np.int64)
        # credentials
        thresh = self.p["students.credential_threshold"]
        mode = self.p["policy.credential.mode"]
        if mode == "portable":
            cred = fy.skill >= thresh
        elif mode == "employer_ladder" and fs.n:
            cred = hosted & fs.on_ladder[h] & (fy.skill >= thresh)
        else:
            cred = np.zeros(n, dtype=bool)
        # by level: deep hosts certify more of their trainees than shallow ones (pooled share where a level hosted none)
        belief = np.full(3, float(cred[hosted].mean()) if hosted.any() else 0.0)
        for level in (1, 2):
            at = hosted & (fy.host_level == level)
            if at.any():
                belief[level] = cred[at].mean()
        self.credential_share_belief = belief
        vac = fs.vacancies.copy()
        employer = np.full(n, -1, dtype=np.int64)
        wage = np.zeros(n)
        offered = np.zeros(n, dtype=bool)
        poached = np.zeros(n, dtype=bool)
        # 1. hosts offer to their best trainees, up to vacancies
        if hosted.any() and fs.n:
            rate = np.where(fs.production_motive, lm.OFFER_RATE[True], lm.OFFER_RATE[False])
            want = rng.random(n) < rate[h]
            cand = (hosted & want).nonzero()[0]
            cand = cand[lexsort2(-fy.skill[cand], host[cand])]
            rank = _rank_within(host[cand])
            offered[cand[rank < vac[host[cand]]]] = True
        # 2. offered graduates compare with a competitor's offer and leaving the city
        idx = offered.nonzero()[0]
        market = self.market_wage
        if idx.size:
            f = host[idx]
            on_ladder = (fs.on_ladder[f] & cred[idx]).astype(float)
            p_out = lm.outside_offer_probability(mt, fs.competitors[f], cred[idx].astype(float))
            has_out = rng.random(idx.size) < p_out
            out_w = lm.outside_wage(mt, np.full(idx.size, market), fy.skill[idx], cred[idx].astype(float))
            coastal = lm.coastal_wage(mt, market, cred[idx].astype(float))
            alt = np.where(has_out, np.maximum(out_w, coastal), coastal)
            hw = lm.host_wage(mt, fs.wage[f], on_ladder, cred[idx].astype(float))
            accept = rng.random(idx.size) < lm.acceptance_probability(mt, hw, alt, np.full(idx.size, market), fy.host_level[idx])
            employer[idx[accept]] = f[accept]
            wage[idx[accept]] = hw[accept]
            np.subtract.at(vac, f[accept], 1)
            # declined for a local competitor: hired away by a firm that did not train them
            local = ~accept & has_out & (out_w >= coastal)
            movers = idx[local]
            if movers.size:
                dest = self._competitor_of(host[movers])
                okd = _within_vacancies(dest, vac)
                employer[movers[okd]] = dest[okd]
                wage[movers[okd]] = out_w[local][okd]
                poached[movers[okd]] = True
                np.subtract.at(vac, dest[okd], 1)
        # 3. open market: the rest search by sector; a share land in another sector (mismatch).
        # Transparency and credentials make graduates visible and matched to their own sector.
        seeking = (employer < 0).nonzero()[0]
        seen = 0.5 + 0.5 * mt.transparency + 0.2 * cred[seeking]
        seeking = seeking[rng.random(seeking.size) < np.clip(seen, 0, 1)]
        own = rng.random(seeking.size) < np.clip(OWN_SECTOR_SEARCH + 0.3 * mt.transparency + 0.1 * cred[seeking], 0, 1)
        target = np.where(own, fy.sector[seeking], rng.integers(0, len(self.sectors), size=seeking.size))
        order = argsort_stable(-fy.skill[seeking] - 0.3 * cred[seeking])
        seeking, target = seeking[order], target[order]
        # by target sector, in skill order within each (a stable sort by sector keeps that order)
        by_sector = argsort_stable(target)
        bounds = np.searchsorted(target[by_sector], np.arange(len(self.sectors) + 1)).tolist()
        hired, hired_by = [], []
        for k in range(len(self.sectors)):
            g = seeking[by_sector[bounds[k]:bounds[k + 1]]]
            firms_k = ((fs.sector == k) & (vac > 0)).nonzero()[0]
            if g.size == 0 or firms_k.size == 0:
                continue
            firms_k = firms_k[rng.permutation(firms_k.size)]
            fi, gj, amount = plc.interval_match(vac[firms_k], np.ones(g.size, dtype=np.int64))
            hired.append(g[gj])
            hired_by.append(firms_k[fi])
            np.subtract.at(vac, firms_k[fi], amount)
        if hired:  # wages elementwise, so computed once for every sector
            hired, hired_by = np.concatenate(hired), np.concatenate(hired_by)
            employer[hired] = hired_by
            wage[hired] = lm.outside_wage(mt, fs.wage[hired_by], fy.skill[hired], cred[hired].astype(float))
        self.graduates.append(
            school=fy.school, sector=fy.sector, skill=fy.skill, credential=cred, host=host, host_level=fy.host_level,
            real_training=fy.real_training, employer=employer, wage=wage,
            grad_step=np.full(n, self.steps, dtype=np.int64), offered=offered, poached=poached,
            first_employer=employer.copy(),
            left_first_step=np.full(n, -1, dtype=np.int64),
        )
        self._latest_grad_step = self.steps
        self.final_year = None

    def _competitor_of(self, firms: np.ndarray) -> np.ndarray:
        """A random same-sector competitor of each firm (-1 if it has none)."""
        a = self.competition
        start, n_comp = a.indptr[firms], self._memo("competitor_count", (a.indptr,), lambda: np.diff(a.indptr))[firms]
        has = n_comp > 0
        if has.all():  # the usual case: the same draws and picks, fewer array calls
            return a.indices[start + (self.rng.random(firms.size) * n_comp).astype(np.int64)].astype(np.int64)
        out = np.full(firms.size, -1, dtype=np.int64)
        pick = start[has] + (self.rng.random(int(has.sum())) * n_comp[has]).astype(np.int64)
        out[has] = a.indices[pick]
        return out

    def _hazards_of(self, idx: np.ndarray, mt: lm.MarketTerms) -> tuple[np.ndarray, np.ndarray]:
        """Monthly (quit, poach) hazards of the employed graduates ``idx`` at their current employers."""
        g, fs = self.graduates, self.firm_state
        f = g.employer[idx]
        at_host = f == g.host[idx]
        on_ladder = (fs.on_ladder[f] & g.credential[idx]).astype(float)
        attach = np.where(at_host, g.host_level[idx], 0)
        return lm.monthly_hazards(mt, fs.competitors[f], on_ladder, attach, g.credential[idx].astype(float), g.skill[idx])

    def _hazards(self, mt: lm.MarketTerms) -> list[np.ndarray]:
        """The employed graduates, their quit hazards and their quit + poach hazards: ``[emp, quit, total]``.

        ``emp`` lists the employed tracked graduates in increasing order (the
        order in which :meth:`_turnover` draws for them). The hazards change
        only when a graduate changes employer, when graduates are added or
        dropped, or when the market terms or pay ladders change (each
        September), so they are computed once and kept up to date by
        :meth:`_turnover` (which also drops those who leave from the three
        arrays). Elementwise, hence equal to computing them afresh each month.
        """
        g, fs = self.graduates, self.firm_state
        cached = getattr(self, "_hz", None)
        if cached is not None and cached[0] == g.version and (cached[1] is mt or cached[1] == mt) \
                and cached[3] is fs.competitors \
                and (cached[2] is fs.on_ladder or np.array_equal(cached[2], fs.on_ladder)):
            return cached[4]
        emp = (g.employer >= 0).nonzero()[0]
        quit, total = np.zeros(0), np.zeros(0)
        if emp.size:
            quit, p = self._hazards_of(emp, mt)
            total = quit + p
        state = [emp, quit, total]
        self._hz = (g.version, mt, fs.on_ladder, fs.competitors, state)
        return state

    def _graduate_counts(self) -> dict[str, int]:
        """Counts behind the graduate indicators, recounted when graduates are added or dropped.

        ``_turnover`` keeps them up to date month by month; an indicator that is
        a share of graduates is count / count, the same number as the mean of
        the mask it replaces.
        """
        g, fs = self.graduates, self.firm_state
        c = getattr(self, "_gcount", None)
        if c is not None and c["version"] == g.version:
            return c
        latest_step = getattr(self, "_latest_grad_step", -1)
        latest = g.grad_step == latest_step
        emp = g.employer >= 0
        c = {"version": g.version, "latest_step": latest_step, "latest": int(latest.sum()),
             "latest_employed": int((g.employer[latest] >= 0).sum()), "employed": int(emp.sum()),
             "matched": int((fs.sector[g.employer[emp]] == g.sector[emp]).sum())}
        self._gcount = c
        return c

    def _turnover(self) -> None:
        """A month of quits and poaching among tracked graduates."""
        g, fs = self.graduates, self.firm_state
        mt = self.market_terms()
        state = self._hazards(mt)
        emp, quit, total = state
        if emp.size == 0:
            return
        counts = self._graduate_counts()
        u = self.rng.random(emp.size)
        # a graduate leaves if u < quit, else moves if u < total; total >= quit, so u < total selects both
        ci = (u < total).nonzero()[0]
        if ci.size == 0:
            return
        leaves = u[ci] < quit[ci]
        changed = emp[ci]
        cur, sector = g.employer[changed], g.sector[changed]  # employer before this month's moves
        was_matched = fs.sector[cur] == sector
        first = (cur == g.first_employer[changed]) & (g.left_first_step[changed] < 0)
        g.left_first_step[changed[first]] = self.steps
        gone = changed[leaves]
        counts["employed"] -= gone.size
        counts["matched"] -= int(was_matched[leaves].sum())
        counts["latest_employed"] -= int((g.grad_step[gone] == counts["latest_step"]).sum())
        g.employer[gone] = -1
        moving = ~leaves
        mv_at = ci[moving]
        mv = changed[moving]
        if mv.size:
            cur_mv = cur[moving]
            dest = self._competitor_of(cur_mv)
            ok = dest >= 0
            g.poached[mv[ok & (cur_mv == g.host[mv])]] = True
            moved, dest = mv[ok], dest[ok]
            counts["matched"] -= int(was_matched[moving][ok].sum())
            g.employer[moved] = dest
            counts["matched"] += int((fs.sector[dest] == sector[moving][ok]).sum())
            g.wage[moved] = lm.outside_wage(mt, fs.wage[dest], g.skill[moved], g.credential[moved].astype(float))
            if moved.size:
                q, p = self._hazards_of(moved, mt)
                at = mv_at[ok]
                quit[at], total[at] = q, q + p
        if gone.size:
            keep = np.ones(emp.size, dtype=bool)
            keep[ci[leaves]] = False
            state[:] = emp[keep], quit[keep], total[keep]

    def _turnover_drop_old(self) -> None:
        g = self.graduates
        if len(g):
            g.keep(self.steps - g.grad_step < lm.TRACK_MONTHS)

    def _measure_one_year_out(self) -> None:
        """Retention and poaching of the cohort that graduated twelve months ago."""
        g, fs = self.graduates, self.firm_state
        if not len(g):
            return
        cohort = g.grad_step == self.steps - MONTHS
        trained = cohort & (g.host >= 0)
        if not trained.any():
            return
        stayed = trained & (g.employer == g.host)
        self._held["retention_rate"] = float(stayed.sum() / trained.sum())
        self._held["poaching_rate"] = float(g.poached[trained].sum() / trained.sum())
        self._measured_retention = True
        # per-host realised vs expected retention, for the belief update
        hosts = g.host[trained]
        n_tr = np.bincount(hosts, minlength=fs.n)
        n_st = np.bincount(g.host[stayed], minlength=fs.n)
        realised = np.divide(n_st, n_tr, out=np.zeros(fs.n), where=n_tr > 0)
        mt = self.market_terms()
        # compare with what the firm expected at the level it hosted at
        level_hosted = np.zeros(fs.n, dtype=np.int64)
        np.maximum.at(level_hosted, hosts, g.host_level[trained])
        expected_at = {
            level: lm.expected_retention(
                mt, wage=fs.wage, market_wage=self.market_wage, competitors=fs.competitors,
                production_motive=fs.production_motive, level=level, on_ladder=fs.on_ladder.astype(float),
                offer_capacity=fs.vacancies / np.maximum(fs.slots, 1), credential_share=float(self.credential_share_belief[level]))
            for level in (1, 2)
        }
        expected = np.where(level_hosted == 2, expected_at[2], expected_at[1])
        ratio = np.divide(realised, expected, out=np.ones(fs.n), where=expected > 1e-6)
        self._retention_ratio = (np.clip(ratio, 0.1, 3.0), n_tr > 0)
        self._retained_count = n_st

    # ------------------------------------------------------------------ indicators
    def _update_indicators(self) -> None:
        """Set every indicator attribute (``NAMES``) to this month's value."""
        fs, ss, g = self.firm_state, self.school_state, self.graduates
        # the firm and school parts change only when their arrays are replaced (each September)
        year = self.__dict__.get("_indicator_year")
        if year is None or year[0] is not fs.engagement or year[1] is not fs.is_anchor or year[2] is not ss.effort \
                or year[3] is not ss.shares or year[4] is not ss.cohort_size:
            year = self._indicator_year = (fs.engagement, fs.is_anchor, ss.effort, ss.shares, ss.cohort_size,
                                           *self._yearly_indicator_parts())
        values, n_part, weight, w_sum = year[5:]
        d = self.__dict__  # plain attributes: one dict update instead of twenty setattr calls
        d.update(self._held)
        d.update(values)
        if not self._measured_retention and len(g):
            trained = g.host >= 0
            if trained.any():
                d["retention_rate"] = float((g.employer[trained] == g.host[trained]).mean())
                d["poaching_rate"] = float(g.poached[trained].mean())
        if len(g):
            c = self._graduate_counts()
            d["graduate_local_employment_rate"] = c["latest_employed"] / c["latest"] if c["latest"] else 0.0
            d["skill_match_rate"] = c["matched"] / c["employed"] if c["employed"] else 0.0
        else:
            d["graduate_local_employment_rate"] = 0.0
            d["skill_match_rate"] = 0.0
        lag_total, n_active = kyear.indicator_month(ss.lag, weight, self._tie_last_active, self.steps, MONTHS)
        d["curriculum_lag_years"] = float(lag_total / w_sum) if w_sum > 0 else 0.0
        d["tech_projects_completed"] = float(MONTHS * self._projects_this_step)
        spent = MONTHS * self.government.paid_this_step
        d["subsidy_spent"] = float(spent)
        d["cost_per_participating_firm"] = float(spent / n_part) if n_part else 0.0
        d["active_partnerships"] = float(n_active)

    def _yearly_indicator_parts(self) -> tuple[dict[str, float], int, np.ndarray, np.float64]:
        """The indicators of firms' and schools' yearly choices; participants; the weights of the curriculum lag.

        Firms by (level, anchor) in one pass: a share of firms is count / count,
        as the mean of a mask.
        """
        fs, ss = self.firm_state, self.school_state
        n = fs.n
        c = np.bincount(fs.engagement * 2 + fs.is_anchor, minlength=6).tolist() if n else [0] * 6
        n_sme, n_anchor = c[0] + c[2] + c[4], c[1] + c[3] + c[5]
        n_part = c[2] + c[3] + c[4] + c[5]
        school_effort = float(ss.effort.mean()) if ss.n else 0.0
        firm_effort = float(eco.EFFORT_BY_LEVEL[fs.engagement].mean()) if n else 0.0
        values = {
            "firm_participation_rate": n_part / n if n else 0.0,
            "sme_participation_rate": (c[2] + c[4]) / n_sme if n_sme else 0.0,
            "anchor_participation_rate": (c[3] + c[5]) / n_anchor if n_anchor else 0.0,
            "deep_engagement_share": (c[4] + c[5]) / n if n else 0.0,
            "school_effort_index": school_effort,
            "firm_effort_index": firm_effort,
            "engagement_gap": school_effort - firm_effort,
        }
        weight = ss.shares * ss.cohort_size[:, None]
        return values, n_part, weight, weight.sum()

    def diagnostics(self) -> dict[str, float]:
        """Calibration figures not in the indicator table (see docs/ODD.md, Calibration).

        ``six_month_turnover``: share of the tracked graduates who had a first
        job and left it within six months (MyCOS: about 45%). ``break_even_month``
        and ``payback_month``: for a typical production-motive shallow host
        (Ran & Shi 2020: months 4 and 8). ``mean_engaged_years``: how long firms
        stayed engaged so far is not tracked; use the time series.
        """
        g = self.graduates
        had = (g.first_employer >= 0) & (self.steps - g.grad_step >= 6)
        left6 = had & (g.left_first_step >= 0) & (g.left_first_step - g.grad_step <= 6)
        be, pb = eco.break_even_month(self.slot_terms(), self.market_wage, True, 1)
        return {
            "six_month_turnover": float(left6.sum() / had.sum()) if had.any() else float("nan"),
            "break_even_month": float(be) if be else float("nan"),
            "payback_month": float(pb) if pb else float("nan"),
            "students_entered": float(self.enrolment.entered),
            "students_in_school": float(self.enrolment.in_school),
            "students_graduated": float(self.enrolment.graduated),
        }

    def current_indicators(self) -> dict[str, float]:
        """The latest month's value of every indicator."""
        return {name: float(getattr(self, name)) for name in NAMES}

    def timeseries(self) -> pd.DataFrame:
        """One row per recorded month: ``step``, ``year`` and every indicator."""
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "year", np.array(self._rows_year, dtype=np.int64))
        df.insert(0, "step", np.array(self._rows_step, dtype=np.int64))
        return df


class _IndicatorCollector(DataCollector):
    """Mesa's :class:`DataCollector` over model attributes, appending each month's values without copying.

    Every reporter names a model attribute holding an immutable number, so the
    values stored are the ones ``DataCollector.collect`` stores (it deep-copies
    them, which for a number gives an equal number).
    """

    def collect(self, model) -> None:
        """Record the model reporters' current values (as :meth:`DataCollector.collect`)."""
        fast = self.__dict__.get("_fast")
        if fast is None or fast[0] is not self.model_reporters or self.agent_reporters or self.agenttype_reporters:
            super().collect(model)  # validates the reporters on the first call
            if all(isinstance(r, str) for r in self.model_reporters.values()):
                self._fast = (self.model_reporters, [(self.model_vars[v], r) for v, r in self.model_reporters.items()])
            return
        self._collection_steps.append(model.time)
        for values, attr in fast[1]:
            values.append(getattr(model, attr, None))


def _dirichlet_rows(rng: np.random.Generator, conc: np.ndarray, k: int) -> np.ndarray:
    """Row ``i`` drawn as ``rng.dirichlet(np.full(k, conc[i]))``, in order; a run of equal ``conc`` in one call.

    ``Generator.dirichlet(alpha, size=m)`` draws its rows one after another
    exactly as ``m`` calls would, so the rows and the generator's state are the same.
    """
    rows = [np.zeros((0, k))]
    start = 0
    for i in range(1, conc.size + 1):
        if i == conc.size or conc[i] != conc[start]:
            rows.append(rng.dirichlet(np.full(k, conc[start]), size=i - start))
            start = i
    return np.vstack(rows)


def _within_vacancies(dest: np.ndarray, vacancies: np.ndarray) -> np.ndarray:
    """Which moves to firm ``dest`` fit its open vacancies (first come, first served; -1 never fits)."""
    ok = np.zeros(dest.size, dtype=bool)
    cand = (dest >= 0).nonzero()[0]
    if cand.size:
        order = cand[argsort_stable(dest[cand])]
        rank = _rank_within(dest[order])
        ok[order[rank < vacancies[dest[order]]]] = True
    return ok


def _rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based rank of each element within its run of equal, sorted ``groups``."""
    if groups.size == 0:
        return groups
    change = np.concatenate([[True], groups[1:] != groups[:-1]])
    start_idx = change.nonzero()[0]
    run_id = np.cumsum(change) - 1
    return np.arange(groups.size) - start_idx[run_id]


__all__ = ["ConsortiumModel"]
