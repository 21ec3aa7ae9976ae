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
from sim.kernels import graduation as kg
from sim.kernels import placement as kp
from sim.kernels import turnover as kturnover
from sim.kernels import yearly as kyear
from sim.scenario import Scenario
from sim.sorting import argsort_stable
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
        self.p: dict = _Params(self.sc.to_flat())
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
        self._routes = None  # see _project_routes
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
        """Current placement terms (the same immutable object while they are unchanged)."""
        p = self.p
        terms = dict(
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
        cached = self.__dict__.get("_slot_terms")
        if cached is None or cached[0] != terms:
            cached = self._slot_terms = (terms, eco.SlotTerms(**terms))
        return cached[1]

    def market_terms(self) -> lm.MarketTerms:
        """Current labour-market terms (the same immutable object while they are unchanged).

        Rebuilt only when a parameter has been set since the last call (``self.p`` counts its
        changes), so the monthly callers pay a lookup.
        """
        p = self.p
        version = getattr(p, "version", None)
        cached = self.__dict__.get("_market_terms")
        if cached is not None and version is not None and cached[0] is p and cached[1] == version:
            return cached[3]
        terms = dict(
            compression=p["labour_market.wage_compression"], transparency=p["policy.platform.graduate_transparency"],
            poaching_intensity=p["labour_market.poaching_intensity"], base_quit_hazard=p["labour_market.base_quit_hazard"],
            outside_wage_premium=p["labour_market.outside_wage_premium"], mobility_cost=p["labour_market.mobility_cost"],
            credential_mode=p["policy.credential.mode"], portability=p["policy.credential.portability"],
            ladder_premium=p["policy.credential.ladder_premium"] if p["policy.credential.mode"] == "employer_ladder" else 0.0,
            credential_wage_premium=p["policy.credential.wage_premium"],
        )
        terms_object = cached[3] if cached is not None and cached[2] == terms else lm.MarketTerms(**terms)
        self._market_terms = (p, version, terms, terms_object)
        return terms_object

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

    def project_access(self, level: int, strong_tie: np.ndarray | None = None) -> np.ndarray:
        """Extra chance of starting a joint project at ``level`` over not engaging, per firm.

        ``strong_tie``: evaluate it for these strong-tie flags instead of the firms' own.
        Each firm's value depends only on its strong-tie flag, so it is read
        from a two-entry table (weak, strong), kept while the platform and IP
        terms are unchanged.
        """
        strong = self._strong_tie_firms() if strong_tie is None else strong_tie
        platform = self.p["policy.platform.placement_matching"]
        ipf = prj.ip_start_factor(self.consortium.ip_effectiveness())
        key = (level, platform, ipf)
        tables = self.__dict__.setdefault("_access_tables", {})
        table = tables.get(key)
        if table is None:
            flags = np.array([False, True])
            base = prj.access_probability(np.zeros(2, dtype=np.int64), flags, platform)
            with_level = prj.access_probability(np.full(2, level), flags | (level >= 1), platform)
            if len(tables) >= 16:
                tables.clear()
            table = tables[key] = (with_level - base) * ipf
        return table[strong.astype(np.intp)]

    def _project_value_prior(self) -> float:
        p = self.p
        return prj.expected_yearly_value(p["firms.bottleneck_rate"], p["firms.bottleneck_value"],
                                         p["schools.equipment_realism"], 0.0) / prj.ip_start_factor(0.0)

    def _memo(self, name: str, key: tuple, compute):
        """``compute()``, kept until an object in ``key`` is replaced (compared by identity).

        The model replaces a state array (never edits it in place) when what it
        holds changes, and market terms are immutable, so identity is enough.
        Exceptions, never to be used as keys: ``school_state.lag`` (a finished joint
        project refreshes one school's curriculum in place), the ties' ``active``
        flags and the firms' yearly accumulators (``acc_*``, ``hosted``, ``project_value_year``).
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
        return self._tie_partners()[0]

    def _tie_partners(self) -> tuple[np.ndarray, np.ndarray]:
        """Per firm: has it a tie of strength >= 0.3, and its strongest partner school (-1 if none); per ties."""
        def compute() -> tuple[np.ndarray, np.ndarray]:
            t = self.ties
            order = np.argsort(t.strength) if len(t) else np.zeros(0, dtype=np.int64)  # later (stronger) win
            strong, best = kp.tie_partners(order, t.school, t.firm, np.asarray(t.strength, dtype=np.float64),
                                           self.firm_state.n, 0.3)
            strong.setflags(write=False)
            best.setflags(write=False)
            return strong, best

        return self._per_ties("partners", compute)

    def expected_trainee_quality(self) -> np.ndarray:
        """Mean preparation quality of the trainees each firm's sector supplies."""
        ss = self.school_state
        sept = self.__dict__.get("_september_quality")
        if sept is not None and sept[0] is ss.tier and sept[1] is ss.equipment and sept[2] is ss.effort \
                and sept[3] is ss.lag:
            q = sept[4]
        else:
            q = sch.preparation_quality(ss)
        if q.flags.c_contiguous and ss.shares.flags.c_contiguous and q.shape == ss.shares.shape \
                and q.dtype == ss.shares.dtype == np.float64 and ss.cohort_size.dtype == np.int64:
            from sim.kernels.placement import sector_quality  # the lines below, compiled

            return sector_quality(q, ss.shares, ss.cohort_size, self.firm_state.sector)
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
        # the trainees' preparation quality (sch.preparation_quality) from the same base skill, for this September's decisions
        self._september_quality = (ss.tier, ss.equipment, ss.effort, ss.lag, np.clip(base_skill / 0.85, 0.5, 1.4))
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
        self._september_quality = None  # schools' arrays may change during the year
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
        self._add_ties(*_search_partners(rng, searching, ss.shares, fs.sector, fs.engagement, fs.employees))

    def _add_ties(self, schools: np.ndarray, firms: np.ndarray) -> np.ndarray:
        idx = self.ties.add(schools, firms, net.NEW_TIE_STRENGTH)
        if idx.size == 0:
            return idx
        first, n_new = int(idx[0]), idx.size  # the new ties are the last n_new
        self._tie_last_active = np.concatenate([self._tie_last_active, np.full(n_new, -10**6, dtype=np.int64)])
        self._tie_serial = np.concatenate([self._tie_serial,
                                           np.arange(self._next_tie_serial, self._next_tie_serial + n_new)])
        self._next_tie_serial += n_new
        self._tie_g_strength = np.concatenate([self._tie_g_strength, self.ties.strength[first:]])
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
        need = self.enrolment.counts[:, :, -1]  # allocate works on a copy
        slots = np.where(fs.engagement >= 1, fs.slots, 0)
        t = self.ties
        allocations, new = plc.allocate(self.rng, need, slots, fs.sector, t.school, t.firm, t.strength,
                                        self.consortium.search_reach())
        if len(new):
            self._add_ties(new[:, 0], new[:, 1])
        # per student the host and what the placement makes of it; per host the trainees, their quality, the
        # predicted output and the upfront cost; the placement months' output and cost; the ties marked active
        # (one compiled pass, sim.kernels.placement.settle_round)
        terms = self._placement_terms
        u = self.rng.random(len(fy))
        self._realised_productivity = fs.productivity * np.exp(0.15 * self.rng.standard_normal(fs.n))
        skey, order, active, last_active = self._tie_arrays()
        (fy.host, fy.host_level, fy.real_training, fy.skill, fs.hosted, self._host_quality, fs.predicted_output,
         output, cost, n_placed, n_real) = kp.settle_round(
            allocations.school, allocations.firm, allocations.students, fy.school, fy.sector, fy.skill, u, k,
            fs.sector, fs.engagement, np.asarray(terms.mentor_days, dtype=np.float64),
            np.asarray(sch.TIER_SKILL[ss.tier], dtype=np.float64), ss.equipment, ss.effort, ss.lag,
            fs.production_motive, float(self.p["students.real_training_skill_gain"]),
            float(self.p["students.odd_job_skill_gain"]), ODD_JOB_OUTPUT, fs.wage, fs.productivity,
            self._realised_productivity, fs.belief_productivity, fs.acc_cost,
            np.ascontiguousarray(ss.shares, dtype=np.float64), np.asarray(ss.cohort_size, dtype=np.float64),
            self._round_terms(terms), int(terms.months), skey, order, active, last_active, self.steps)
        self._placement_flows = (self._flows_key(), output, cost)
        n_slots = int(slots.sum())
        self._last_round = plc.RoundResult(
            slots_offered=n_slots, slots_filled=n_placed, students_needing=len(fy),
            students_placed=n_placed, real_training=n_real, new_ties=len(new))
        self._held["placement_quality"] = np.int64(n_real) / np.int64(n_placed) if n_placed else 0.0
        self._held["unfilled_placement_slots"] = float(n_slots - n_placed)
        self._held["unplaced_students"] = float(len(fy) - n_placed)

    def _round_terms(self, terms: eco.SlotTerms) -> np.ndarray:
        """The slot terms :func:`sim.kernels.placement.settle_round` reads, as one float array (kept per terms)."""
        c = self.__dict__.get("_round_terms_cache")
        if c is None or c[0] is not terms:
            c = self._round_terms_cache = (terms, np.array([
                terms.productivity_start, terms.productivity_gain, terms.task_share, terms.skilled_wage_ratio,
                terms.nonwage_share, eco.upfront_cost(terms), terms.mentor_wage_ratio, terms.trainees_per_mentor,
                terms.pay_floor, terms.equipment_per_month, eco.WEEKS_PER_MONTH, eco.WORKDAYS_PER_MONTH],
                dtype=np.float64))
        return c[1]

    def _flows_key(self) -> tuple:
        """What the placement months' output and cost depend on (compared by identity)."""
        fs = self.firm_state
        return (self._placement_terms, fs.wage, fs.production_motive, fs.engagement, self._realised_productivity,
                self._host_quality)

    def _placement_month(self, i: int) -> None:
        fs = self.firm_state
        if not fs.hosted.any():
            return
        # the output of every placement month and the monthly cost are fixed by the round (computed in it)
        flows = getattr(self, "_placement_flows", None)
        if flows is not None:
            k = flows[0]
            if not (k[0] is self._placement_terms and k[1] is fs.wage and k[2] is fs.production_motive
                    and k[3] is fs.engagement and k[4] is self._realised_productivity and k[5] is self._host_quality):
                flows = None
        if flows is None:
            key, terms = self._flows_key(), self._placement_terms
            flows = self._placement_flows = (key, eco.monthly_output(*key), eco.monthly_cost(terms, fs.wage,
                                                                                              fs.engagement))
        plc.add_placement_month(fs.acc_output, fs.acc_cost, fs.hosted, flows[1][i], flows[2])

    # ------------------------------------------------------------------ projects
    def _run_projects(self) -> None:
        fs, ss, p = self.firm_state, self.school_state, self.p
        book = self.projects
        if book.finishing():  # book the projects finishing now, mark their ties active (one compiled pass)
            self._projects_this_step = book.finish_and_book(
                prj.firm_share(self.consortium.ip_effectiveness()), fs.sector, fs.project_value_year, ss.lag,
                self._extra_offers, self._tie_arrays(), self.steps)
        else:
            book.finish()  # nothing is due: the month passes
        if fs.n == 0 or ss.n == 0:
            return
        rng = self.rng
        hit = (rng.random(fs.n) < p["firms.bottleneck_rate"] / MONTHS).nonzero()[0]
        if hit.size == 0:
            return
        prob, strongest, has_cdf, cdfs = self._project_routes()
        go, school, sector, n_missing, n_draw = prj.starters(hit, rng.random(hit.size), prob, strongest, fs.sector,
                                                             has_cdf)
        n_start = go.size - n_missing + n_draw  # firms without a partner whose sector no school teaches drop out
        if n_start == 0:
            return
        # one uniform per firm without a partner (a school drawn for it), then one per project: drawn in one call
        u = rng.random(n_draw + n_start)
        shock = np.exp(rng.standard_normal(n_start))
        months = prj.durations(rng, n_start, p["policy.platform.placement_matching"])
        book.start_drawn(go, school, sector, has_cdf, cdfs, u, n_draw, months, ss.equipment, p["firms.bottleneck_value"],
                         shock)

    def _tie_arrays(self) -> tuple:
        """The ties' sorted keys and tie index of each, ``active`` and ``last_active`` (for the compiled passes)."""
        t = self.ties
        skey, order = t._lookup()
        return skey, order, t.active, self._tie_last_active

    def _project_routes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """What a firm with a bottleneck needs to start a project, kept while levels, ties, mix and policies last.

        Returns per firm the chance it starts one (:func:`sim.projects.access_probability`
        times the IP factor) and its strongest partner school (-1 if none), and
        per sector whether a school teaches it and the CDF of the schools' shares
        in it (a firm without a partner gets a school drawn from it, as
        ``Generator.choice(ss.n, p=w / w.sum())`` would).
        """
        fs, ss, t = self.firm_state, self.school_state, self.ties
        platform = self.p["policy.platform.placement_matching"]
        ipf = prj.ip_start_factor(self.consortium.ip_effectiveness())
        c = self._routes
        if c is not None and c[0] is fs.engagement and c[1] is t.school and c[2] is t.firm and c[3] is t.strength \
                and c[4] is ss.shares and c[5] == platform and c[6] == ipf:
            return c[7]
        strong, strongest = self._tie_partners()
        cdfs, has_cdf = self._memo("school_cdfs", (ss.shares,), lambda: prj.share_cdfs(np.ascontiguousarray(ss.shares.T)))
        # the chance depends on a firm's level and strong-tie flag only: read from a table of the six cases
        tables = self.__dict__.setdefault("_start_tables", {})
        table = tables.get((platform, ipf))
        if table is None:
            if len(tables) >= 16:
                tables.clear()
            table = tables[platform, ipf] = prj.access_probability(
                np.array([0, 0, 1, 1, 2, 2]), np.array([False, True] * 3), platform) * ipf
        routes = (table[fs.engagement * 2 + strong], strongest, has_cdf, cdfs)
        self._routes = (fs.engagement, t.school, t.firm, t.strength, ss.shares, platform, ipf, routes)
        return routes

    # ------------------------------------------------------------------ June
    def _graduation(self) -> None:
        self._measure_one_year_out()
        # the oldest cohort leaves the records before the new one is added (the same rows as after: it
        # is 24 months out either way; the graduates' arrays then move one cohort, not two)
        self._turnover_drop_old()
        self._close_placements()
        self._hire_graduates()
        self._sync_tie_strengths()

    def _close_placements(self) -> None:
        fs, gov, p = self.firm_state, self.government, self.p
        fixed, claim, claimants = kg.placement_claims(fs.hosted, fs.acc_cost, self._deep_fixed, self._host_fixed,
                                                      self.subsidy_rate_for(fs.is_anchor))
        approved = np.zeros(fs.n)
        if claimants.size:
            approved[claimants] = gov.claim(claimants, claim[claimants])
        # tax credit for certified deep partners (产教融合型企业)
        credits = np.zeros(fs.n)
        deep = fs.engagement == 2
        if deep.any() and p["policy.tax_credit.investment_offset"] > 0:
            terms = self._placement_terms if hasattr(self, "_placement_terms") else self.slot_terms()
            investment = self._deep_fixed + fs.hosted * self._deep_slot_investment(terms) * terms.months
            credit = eco.tax_credit(p["policy.tax_credit.investment_offset"], investment, fs.liability,
                                    p["policy.tax_credit.refundable"])
            idx = (deep & (credit > 0)).nonzero()[0]
            gov.grant_credits(idx, credit[idx])
            credits[idx] = credit[idx]
        # the year's realised value of the firm's engagement (what imitation compares)
        retained = getattr(self, "_retained_count", None)
        fs.acc_public, fs.realised_net, fs.realised_value, losing = kg.close_accounts(
            fs.hosted, fs.acc_output, fs.acc_cost, fixed, approved, credits, fs.is_anchor,
            float(p["firms.reputation_value_anchor"]), float(p["firms.reputation_value_sme"]), fs.engagement,
            fs.project_value_year, np.zeros(fs.n, dtype=np.int64) if retained is None else retained,
            eco.hiring_cost(self._placement_terms, fs.wage))
        self._held["hosts_losing_money_share"] = float(losing)

    def _deep_slot_investment(self, terms: eco.SlotTerms) -> np.ndarray:
        """Monthly cost of a deep trainee above the pay floor, per firm; kept while the terms and wages are unchanged."""
        fs = self.firm_state
        c = getattr(self, "_deep_slot_investment_cache", None)
        if c is None or c[0] != terms or c[1] is not fs.wage:
            c = self._deep_slot_investment_cache = (terms, fs.wage, eco.monthly_cost(terms, fs.wage, 2) - terms.pay_floor * fs.wage)
        return c[2]

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
        host, skill = fy.host, fy.skill
        # credentials; by level, deep hosts certify more of their trainees than shallow ones
        # (the pooled share where a level hosted none)
        cred, self.credential_share_belief, n_hosted = kg.credentials(
            kg.CREDENTIAL_MODE.get(self.p["policy.credential.mode"], 0), skill, host, fy.host_level, fs.on_ladder,
            float(self.p["students.credential_threshold"]))
        vac = fs.vacancies.copy()
        employer = np.full(n, -1, dtype=np.int64)
        wage = np.zeros(n)
        offered = np.zeros(n, dtype=bool)
        poached = np.zeros(n, dtype=bool)
        # 1. hosts offer to their best trainees, up to vacancies
        idx = np.zeros(0, dtype=np.int64)
        if n_hosted and fs.n:
            idx = _offers(rng, host, skill, fs.production_motive, vac)
            offered[idx] = True
        # 2. offered graduates compare with a competitor's offer and leaving the city
        market = self.market_wage
        n_taken = 0
        if idx.size:
            # elementwise in (credential, firm): tabled for credential 0 and 1 over the firms
            p_out = self._memo("grad:outside_offer", (mt, fs.competitors), lambda: np.stack(
                [lm.outside_offer_probability(mt, fs.competitors, c) for c in (0.0, 1.0)]))
            host_w = self._host_wages(mt)
            coastal = np.array([lm.coastal_wage(mt, market, 0.0), lm.coastal_wage(mt, market, 1.0)])
            u_out = rng.random(idx.size)
            market_w = np.full(idx.size, market)
            out_w = lm.outside_wage(mt, market_w, skill[idx], cred[idx].astype(float))
            has_out, alt, hw, level = kg.offer_alternatives(idx, host, cred, fy.host_level, u_out, p_out, out_w,
                                                            coastal, host_w)
            p_accept = lm.acceptance_probability(mt, hw, alt, market_w, level)
            n_taken, movers = kg.accept_offers(idx, host, cred, rng.random(idx.size), p_accept, has_out, out_w,
                                               coastal, hw, employer, wage, vac)
            # declined for a local competitor: hired away by a firm that did not train them
            if movers.size:
                moving = idx[movers]
                dest = self._competitor_of(host[moving])
                okd = _within_vacancies(dest, vac)
                employer[moving[okd]] = dest[okd]
                wage[moving[okd]] = out_w[movers][okd]
                poached[moving[okd]] = True
                np.subtract.at(vac, dest[okd], 1)
                n_taken += int(okd.sum())
        # 3. open market: the rest search by sector; a share land in another sector (mismatch).
        # Transparency and credentials make graduates visible and matched to their own sector.
        hired, hired_by = _open_market(rng, mt.transparency, employer, cred, skill, fy.sector, n - n_taken, fs.sector,
                                       vac, len(self.sectors))
        if hired.size:  # wages elementwise, so computed once for every sector
            wage[hired] = lm.outside_wage(mt, fs.wage[hired_by], skill[hired], cred[hired].astype(float))
        self.graduates.append(
            school=fy.school, sector=fy.sector, skill=skill, credential=cred, host=host, host_level=fy.host_level,
            real_training=fy.real_training, employer=employer, wage=wage,
            grad_step=np.broadcast_to(np.int64(self.steps), n), offered=offered, poached=poached,
            first_employer=employer,  # append copies each column
            left_first_step=np.broadcast_to(np.int64(-1), n),
        )
        self._latest_grad_step = self.steps
        self.final_year = None

    def _host_wages(self, mt: lm.MarketTerms) -> np.ndarray:
        """The wage each firm pays a retained graduate without and with a credential (rows 0, 1).

        Recomputed only when the market terms, wages or pay ladders change
        (the ladders are re-chosen each September, mostly the same).
        """
        fs = self.firm_state
        c = getattr(self, "_host_wages_cache", None)
        if c is not None and c[0] == mt and c[1] is fs.wage and np.array_equal(c[2], fs.on_ladder):
            return c[3]
        value = np.stack([lm.host_wage(mt, fs.wage, np.zeros(fs.n), 0.0),
                          lm.host_wage(mt, fs.wage, fs.on_ladder.astype(float), 1.0)])
        self._host_wages_cache = (mt, fs.wage, fs.on_ladder.copy(), value)
        return value

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

    def _turnover_terms(self, mt: lm.MarketTerms) -> tuple[kturnover.HazardTerms, np.ndarray, np.ndarray]:
        """What the turnover kernels need besides the graduates and firms.

        The hazard and outside-wage factors of the terms ``mt`` (see
        :func:`sim.kernels.turnover.hazard_terms`) and the competition ties'
        CSR ``(indptr, indices)`` as int64.
        """
        a = self.competition
        return self._memo("turnover_terms", (mt, a.indptr, a.indices), lambda: (
            kturnover.hazard_terms(mt), a.indptr.astype(np.int64), a.indices.astype(np.int64)))

    def _hazards(self, mt: lm.MarketTerms) -> tuple[list[np.ndarray], tuple]:
        """The employed graduates' hazards ``[emp, quit, total]``, and :meth:`_turnover_terms` of ``mt``.

        ``emp`` lists the employed tracked graduates in increasing order (the
        order in which :meth:`_turnover` draws for them), ``quit`` their quit
        hazards and ``total`` their quit + poach hazards. The hazards change
        only when a graduate changes employer, when graduates are added or
        dropped, or when the market terms, pay ladders or competition ties
        change (each September), so they are computed once and kept up to
        date by :meth:`_turnover` (which also drops those who leave from the
        three arrays, in place). Elementwise, hence equal to computing them
        afresh each month.
        """
        g, fs, a = self.graduates, self.firm_state, self.competition
        c = self.__dict__.get("_hz")
        if c is not None and c[0] == g.version and c[3] is fs.competitors and c[4] is a.indptr \
                and c[5] is a.indices and (c[1] is mt or c[1] == mt) \
                and (c[2] is fs.on_ladder or np.array_equal(c[2], fs.on_ladder)):
            return c[6], c[7]
        terms = self._turnover_terms(mt)
        h = terms[0]
        state = list(kturnover.employed_hazards(g.employer, g.host, g.host_level, g.credential, g.skill,
                                                fs.competitors, fs.on_ladder, h.stay, h.unmatched, h.base_quit,
                                                h.pressure, h.pull))
        self._hz = (g.version, mt, fs.on_ladder, fs.competitors, a.indptr, a.indices, state, terms)
        return state, terms

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
        latest, latest_employed, employed, matched = kturnover.graduate_counts(
            g.grad_step, g.employer, g.sector, fs.sector, latest_step)
        c = {"version": g.version, "latest_step": latest_step, "latest": latest,
             "latest_employed": latest_employed, "employed": employed, "matched": matched}
        self._gcount = c
        return c

    def _turnover(self) -> None:
        """A month of quits and poaching among tracked graduates.

        Each employed graduate (in :meth:`_hazards`' order) draws a uniform
        ``u``: it quits (leaves the city's firms) if ``u`` is below its quit
        hazard, else it is hired away if ``u`` is below its quit + poach
        hazard, by a random same-sector competitor of its employer (a second
        draw, one uniform per mover whose employer has competitors, as
        :meth:`_competitor_of`), at that firm's outside wage. The cached
        hazards and graduate counts are kept up to date.
        """
        g, fs = self.graduates, self.firm_state
        mt = self.market_terms()
        state, (h, indptr, indices) = self._hazards(mt)
        emp, quit, total = state
        if emp.size == 0:
            return
        counts = self._graduate_counts()
        u = self.rng.random(emp.size)
        kept, movers, draws, quits, quits_matched, quits_latest = kturnover.month_changes(
            u, emp, quit, total, g.employer, g.sector, g.first_employer, g.left_first_step, g.grad_step,
            fs.sector, indptr, self.steps, counts["latest_step"])
        if quits:
            counts["employed"] -= quits
            counts["matched"] -= quits_matched
            counts["latest_employed"] -= quits_latest
            state[:] = emp[:kept], quit[:kept], total[:kept]
        if movers.size:
            r = self.rng.random(draws)
            counts["matched"] += kturnover.month_moves(
                r, movers, emp, quit, total, g.employer, g.sector, g.host, g.host_level, g.credential, g.skill,
                g.poached, g.wage, fs.sector, fs.wage, fs.competitors, fs.on_ladder, indptr, indices,
                h.stay, h.unmatched, h.base_quit, h.pressure, h.pull, h.skill_wage, h.credential_wage)

    def _turnover_drop_old(self) -> None:
        g = self.graduates
        if len(g):
            g.keep(self.steps - g.grad_step < lm.TRACK_MONTHS)

    def _measure_one_year_out(self) -> None:
        """Retention and poaching of the cohort that graduated twelve months ago."""
        g, fs = self.graduates, self.firm_state
        if not len(g):
            return
        n_trained, n_stayed, n_poached, n_tr, n_st, level_hosted = kg.one_year_out(
            g.grad_step, g.host, g.employer, g.poached, g.host_level, self.steps - MONTHS, fs.n)
        if not n_trained:
            return
        self._held["retention_rate"] = float(n_stayed / n_trained)
        self._held["poaching_rate"] = float(n_poached / n_trained)
        self._measured_retention = True
        # per-host realised vs expected retention (at the level it hosted at), for the belief update
        accept, survival = self._retention_given_offer()
        ratio = kg.retention_ratio(n_tr, n_st, level_hosted, fs.vacancies, fs.slots, fs.production_motive,
                                   lm.OFFER_RATE[True], lm.OFFER_RATE[False], accept, survival)
        self._retention_ratio = (ratio, n_tr > 0)
        self._retained_count = n_st

    def _retention_given_offer(self) -> tuple[np.ndarray, np.ndarray]:
        """:func:`_acceptance_and_survival` at levels 1 and 2 (rows), for every firm.

        Recomputed only when an input changes: the market terms, wages,
        competitors, pay ladders or the credential share believed at a level;
        the offer part of the expected retention (vacancies) changes yearly and
        is left to :func:`sim.kernels.graduation.retention_ratio`.
        """
        fs = self.firm_state
        shares = (float(self.credential_share_belief[1]), float(self.credential_share_belief[2]))
        mt, market = self.market_terms(), self.market_wage
        c = getattr(self, "_retention_given_offer_cache", None)
        if c is not None and c[0] == (mt, market, shares) and c[1] is fs.wage and c[2] is fs.competitors \
                and np.array_equal(c[3], fs.on_ladder):
            return c[4]
        on_ladder = fs.on_ladder.astype(float)
        parts = [_acceptance_and_survival(mt, wage=fs.wage, market_wage=market, competitors=fs.competitors,
                                          level=level, on_ladder=on_ladder, credential_share=share)
                 for level, share in zip((1, 2), shares, strict=True)]
        value = (np.stack([parts[0][0], parts[1][0]]), np.stack([parts[0][1], parts[1][1]]))
        self._retention_given_offer_cache = ((mt, market, shares), fs.wage, fs.competitors, fs.on_ladder.copy(), value)
        return value

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
        columns = {"step": np.array(self._rows_step, dtype=np.int64), "year": np.array(self._rows_year, dtype=np.int64)}
        model_vars = self.datacollector.model_vars  # the frame DataCollector.get_model_vars_dataframe builds
        arrays = [np.array(values) for values in model_vars.values()]
        if all(a.dtype == np.float64 for a in arrays):  # numbers (indicators are floats): their float64 columns
            columns.update(zip(model_vars, arrays, strict=True))
            return pd.DataFrame(columns, copy=False)
        df = self.datacollector.get_model_vars_dataframe().reset_index(drop=True)
        df.insert(0, "year", columns["year"])
        df.insert(0, "step", columns["step"])
        return df


class _Params(dict):
    """The model's flat parameter dict, counting its changes in ``version``.

    Terms derived from parameters and read every month (:meth:`ConsortiumModel._market_terms_now`)
    are rebuilt only when ``version`` has moved: when the policy schedule, a test or the
    dashboard sets a value.
    """

    version = 0

    def _changed(self) -> None:
        self.version += 1

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self._changed()

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        self._changed()

    def __ior__(self, other):
        super().__ior__(other)
        self._changed()
        return self

    def update(self, *args, **kwargs) -> None:
        """As :meth:`dict.update`."""
        super().update(*args, **kwargs)
        self._changed()

    def setdefault(self, key, default=None):
        """As :meth:`dict.setdefault`."""
        self._changed()
        return super().setdefault(key, default)

    def pop(self, *args):
        """As :meth:`dict.pop`."""
        self._changed()
        return super().pop(*args)

    def popitem(self):
        """As :meth:`dict.popitem`."""
        self._changed()
        return super().popitem()

    def clear(self) -> None:
        """As :meth:`dict.clear`."""
        super().clear()
        self._changed()


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


def _offers(rng: np.random.Generator, host: np.ndarray, skill: np.ndarray, production_motive: np.ndarray,
            vacancies: np.ndarray) -> np.ndarray:
    """Graduates offered a job by their host, ascending: each host's most skilled trainees it wants, up to its vacancies.

    A host wants each trainee with its motive's offer rate (one draw per graduate).
    """
    cand, key = kg.offer_candidates(host, rng.random(host.size), production_motive, lm.OFFER_RATE[True],
                                    lm.OFFER_RATE[False], skill)
    return kg.offers(cand, argsort_stable(key), host, vacancies, host.size)


def _open_market(rng: np.random.Generator, transparency: float, employer: np.ndarray, credential: np.ndarray,
                 skill: np.ndarray, sector: np.ndarray, n_seeking: int, firm_sector: np.ndarray, vacancies: np.ndarray,
                 n_sectors: int) -> tuple[np.ndarray, np.ndarray]:
    """The graduates without a job (``n_seeking`` of them) search the open market: ``(hired, hired_by)``.

    A seeker is visible to employers with a chance rising with transparency and
    a credential, searches in the sector trained for (else a random one) with
    a chance rising likewise, and the seekers of a sector, best first (skill,
    plus a credential), fill its firms' open vacancies, the firms taken in a
    random order. Sets ``employer`` and ``vacancies`` in place.
    """
    p_seen = [min(max(0.5 + 0.5 * transparency + 0.2 * c, 0.0), 1.0) for c in (0.0, 1.0)]
    seeking = kg.visible_seekers(employer, credential, rng.random(n_seeking), np.array(p_seen))
    p_own = [min(max(OWN_SECTOR_SEARCH + 0.3 * transparency + 0.1 * c, 0.0), 1.0) for c in (0.0, 1.0)]
    u_own = rng.random(seeking.size)
    target, key, perm_start = kg.search_targets(
        seeking, credential, skill, sector, u_own, np.array(p_own), rng.integers(0, n_sectors, size=seeking.size),
        firm_sector, vacancies, n_sectors)
    # the firms of a sector in a random order, drawn where it has seekers and open firms
    bounds = perm_start.tolist()
    perm = np.empty(bounds[-1], dtype=np.int64)
    for k in range(n_sectors):
        if bounds[k + 1] > bounds[k]:
            perm[bounds[k]:bounds[k + 1]] = rng.permutation(bounds[k + 1] - bounds[k])
    return kg.fill_by_sector(seeking, argsort_stable(key), target, firm_sector, vacancies, perm, perm_start, employer)


def _search_partners(rng: np.random.Generator, searching: np.ndarray, shares: np.ndarray, sector: np.ndarray,
                     engagement: np.ndarray, employees: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New partners of the ``searching`` schools, one search at a time: ``(schools, firms)``.

    Each school draws a sector from its programme mix ``shares``, then a firm
    of that sector weighted by ``(1 + 2 engagement) sqrt(employees)``: the
    same draws as ``Generator.choice(p=...)``, on cumulative weights computed
    once per sector. A search whose sector has no firm takes one draw and
    forms no tie. (When every sector has firms, the compiled
    :func:`sim.kernels.yearly.search_partners` gives the same ties.)
    """
    sector_cdf = shares[searching].cumsum(axis=1)
    sector_cdf /= sector_cdf[:, -1:]
    cands_of: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
    new_s, new_f = [], []
    for i, s in enumerate(searching.tolist()):
        k = int(sector_cdf[i].searchsorted(rng.random(), side="right"))
        if k not in cands_of:
            cands = (sector == k).nonzero()[0]
            if cands.size:
                w = (1.0 + 2.0 * engagement[cands]) * np.sqrt(employees[cands])
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
    return np.array(new_s, dtype=np.int64), np.array(new_f, dtype=np.int64)


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
    return kg.first_come(np.asarray(dest, dtype=np.int64), np.asarray(vacancies, dtype=np.int64))


def _acceptance_and_survival(terms: lm.MarketTerms, *, wage: np.ndarray, market_wage: float, competitors: np.ndarray,
                             level: int, on_ladder: np.ndarray, credential_share: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sim.labour_market.expected_retention` without its offer factor: ``(accept, survival)``.

    ``expected_retention = p_offer * accept * survival``, computed in that
    order (the same bits; tested): the offer part changes with each year's
    vacancies, the rest only with the market terms, wages, competitors, pay
    ladders and the credential share, so the model keeps it between years.
    """
    n = len(wage)
    lvl = np.full(n, level)
    cred = np.full(n, credential_share)
    p_out = lm.outside_offer_probability(terms, competitors, cred)
    hw = lm.host_wage(terms, wage, on_ladder, cred)
    coastal = lm.coastal_wage(terms, market_wage, cred)
    local = np.maximum(lm.outside_wage(terms, market_wage, np.ones(n), cred), coastal)
    accept = (1 - p_out) * lm.acceptance_probability(terms, hw, coastal, market_wage, lvl) \
        + p_out * lm.acceptance_probability(terms, hw, local, market_wage, lvl)
    quit, poach = lm.monthly_hazards(terms, competitors, on_ladder, lvl, cred)
    return accept, (1.0 - quit - poach).clip(0, 1) ** 12


__all__ = ["ConsortiumModel"]
