"""Firms: anchor firms (链主企业) and SMEs, and their yearly engagement decision.

Design note
-----------
Each firm is a Mesa agent (:class:`AnchorFirm` or :class:`SME`) placed on its
node of the network; its state lives in one row of :class:`FirmState`, a set
of numpy arrays, so that the yearly decision of every firm is computed at
once (:func:`decide`). The agent's attributes read and write its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from mesa.discrete_space import FixedAgent

from sim import economics as eco
from sim import labour_market as lm
from sim.kernels import decisions as kd
from sim.network import OnNetwork

if TYPE_CHECKING:  # pragma: no cover
    from sim.model import ConsortiumModel

LEVELS = ("none", "shallow", "deep")


@dataclass
class FirmState:
    """Per-firm arrays (anchors first, then SMEs)."""

    is_anchor: np.ndarray
    sector: np.ndarray
    employees: np.ndarray
    wage: np.ndarray  # entry post wage, yuan per month
    productivity: np.ndarray  # multiplier on trainee output
    production_motive: np.ndarray
    supplier_of: np.ndarray  # anchor index or -1
    competitors: np.ndarray  # number of competition ties
    engagement: np.ndarray  # 0 / 1 / 2, this year's choice
    goodwill: np.ndarray
    belief_productivity: np.ndarray  # realised / predicted output, adaptive
    belief_retention: np.ndarray  # realised / predicted retention, adaptive
    belief_paid: np.ndarray  # share of subsidy claims paid, adaptive
    belief_projects: np.ndarray  # yuan of joint-project value a year, adaptive
    slots: np.ndarray
    vacancies: np.ndarray  # graduate vacancies this year
    on_ladder: np.ndarray  # pays a credential pay-ladder premium to its trainees
    # this year's placement accounts
    hosted: np.ndarray
    acc_output: np.ndarray
    acc_cost: np.ndarray
    acc_public: np.ndarray
    predicted_output: np.ndarray
    realised_net: np.ndarray  # last placement's net benefit per trainee (NaN if none)
    realised_value: np.ndarray  # last year's realised net value of engagement, yuan (0 if none)
    project_value_year: np.ndarray

    @property
    def n(self) -> int:
        """Number of firms."""
        return int(self.sector.size)

    @property
    def liability(self) -> np.ndarray:
        """Yearly education-surcharge liability (cap of the 产教融合 credit)."""
        return self._surcharge * self.employees

    _surcharge: float = 0.0


class Firm(OnNetwork, FixedAgent):
    """A firm deciding each year how deeply to engage with the consortium's schools.

    Decision rule (each September; Muehlemann et al. 2007; Acemoglu & Pischke
    1998): the firm observes the announced policy, its own and its network
    neighbours' realised outcomes, and computes the expected yearly net value of
    no, shallow and deep engagement: slots x (placement output - trainee pay -
    mentor time - equipment - admin - transaction cost + P(retained) x (hiring
    cost saved + rent) + reputation) - the fixed cost of hosting at all - the
    fixed cost of deep engagement + expected subsidy on the gross cost +
    expected joint-project value + tax credit (capped by its surcharge
    liability). It then chooses a level by a multinomial logit over
    beta x value / monthly wage bill + peer effect (engaged share of
    neighbours) + consortium obligation + goodwill (情怀) - switching cost
    (hysteresis). The number of slots follows replacement demand and the
    internship caps, not cost. Expectations of trainee output, retention,
    subsidy payment and project value adapt to own and neighbours' outcomes;
    goodwill decays without returns.
    """

    kind = "firm"

    def __init__(self, model: ConsortiumModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def _s(self) -> FirmState:
        return self.model.firm_state

    @property
    def engagement(self) -> int:
        """0 none, 1 shallow, 2 deep."""
        return int(self._s.engagement[self.index])

    @property
    def engagement_label(self) -> str:
        """None / shallow / deep."""
        return LEVELS[self.engagement]

    @property
    def sector(self) -> int:
        """Sector index."""
        return int(self._s.sector[self.index])

    @property
    def sector_name(self) -> str:
        """Sector name."""
        return self.model.sectors[self.sector]

    @property
    def employees(self) -> float:
        """Workforce."""
        return float(self._s.employees[self.index])

    @property
    def slots(self) -> int:
        """Trainee slots offered this year."""
        return int(self._s.slots[self.index])

    @property
    def hosted(self) -> int:
        """Trainees hosted this year."""
        return int(self._s.hosted[self.index])

    @property
    def production_motive(self) -> bool:
        """True for a production-motive firm, False for an investment-motive one."""
        return bool(self._s.production_motive[self.index])

    def step(self) -> None:
        """Firms act through the model's yearly and monthly phases (vectorised)."""


class AnchorFirm(Firm):
    """An anchor (chain-leader, 链主) firm: large, in the consortium council, with suppliers.

    Its decision rule is :class:`Firm`'s, with a larger felt obligation and
    reputation value, a surcharge liability large enough to use the
    产教融合 credit, and, under an ``employer_ladder`` credential, its own pay
    ladder extended to its supply chain (the Haitian point-to-chain model).
    """

    kind = "anchor"


class SME(Firm):
    """A small or medium firm: weighs private cost against returns it may not capture.

    Its decision rule is :class:`Firm`'s; small liabilities cap its tax credit,
    and it meets technical bottlenecks that a partnered school team can solve
    (joint technical projects, :mod:`sim.projects`).
    """

    kind = "sme"


def slot_numbers(employees: np.ndarray, turnover: float, cap_workforce: float, cap_post: float,
                 skilled_post_share: float) -> np.ndarray:
    """Trainee slots: replacement demand, within the internship caps (10% of workforce, 20% per post)."""
    demand = np.ceil(employees * turnover)
    cap = np.floor(np.minimum(cap_workforce * employees, cap_post * skilled_post_share * employees))
    return np.maximum(0, np.minimum(demand, cap)).astype(np.int64)


def _kept(model: ConsortiumModel, name: str, key: tuple, compute):
    """``compute()``, kept on the model while ``key`` (scalars and immutable terms) compares equal."""
    cache = model.__dict__.setdefault("_decide_cache", {})
    hit = cache.get(name)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = compute()
    cache[name] = (key, value)
    return value


def _retention_tables(model: ConsortiumModel, mterms: lm.MarketTerms) -> dict:
    """Firm-independent parts of the expected retention at levels 1 and 2 (see :func:`expected_values`).

    The hazards' exp factors depend only on the market terms and a firm's
    ladder flag, the wage and credential terms only on the level's believed
    credential share: one small table each instead of per-firm arrays.
    """
    market = model.market_wage
    cred = tuple(float(model.credential_share_belief[level]) for level in (1, 2))

    def compute() -> dict:
        ladder = np.array([0.0, 1.0])
        stay, unmatched = lm.hazard_factors(mterms)  # monthly_hazards' exp factors, [ladder, level] and [ladder]
        by_level = np.array(cred)  # called as expected_retention calls them, with one element per level
        coastal = lm.coastal_wage(mterms, market, by_level)
        return dict(
            pull=1.0 + 1.5 * lm.recognition(mterms) * by_level,
            stay=stay, unmatched=unmatched,
            host_premium=np.array([lm.host_premium(mterms, ladder > 0, c) for c in cred]),
            coastal=coastal,
            local=np.maximum(lm.outside_wage(mterms, market, np.ones(2), by_level), coastal),
        )

    return _kept(model, "retention_tables", (mterms, market, cred), compute)


def expected_values(model: ConsortiumModel) -> np.ndarray:
    """Expected yearly net value (yuan) of levels none / shallow / deep, per firm: shape (n, 3).

    Per slot: placement output - cost (:func:`sim.economics.placement_net_benefit`)
    + expected retention (:func:`sim.labour_market.expected_retention`, scaled by
    the firm's belief) x value of a retained graduate (:func:`sim.economics.retention_value`,
    at the hazards of :func:`sim.labour_market.monthly_hazards`) + reputation; times
    the slots, minus the fixed costs, plus the expected subsidy, the tax credit
    (deep) and the expected joint-project value. Computed by the kernels of
    :mod:`sim.kernels.decisions` for both levels at once, with the exp, tanh and
    pow calls in numpy; bit-identical to the formulas it names.
    """
    fs, p = model.firm_state, model.p
    terms = model.slot_terms()
    mterms = model.market_terms()
    tables = _retention_tables(model, mterms)
    args, hazard = kd.hazard_arguments(
        fs.competitors, fs.on_ladder, fs.wage, float(lm.poaching_pressure(mterms)), float(mterms.base_quit_hazard),
        tables["pull"], tables["stay"], tables["unmatched"], tables["host_premium"], tables["coastal"],
        tables["local"], float(model.market_wage), float(mterms.mobility_cost), float(lm.WAGE_SENSITIVITY),
        lm.ATTACHMENT[1:], float(lm.OFFER_EXPOSURE_MONTHS))
    out_offer_exp = np.exp(args[0:2])
    accept_tanh = np.tanh(args[2:6])
    retained_pow = args[6:8] ** 12
    tenure = (1.0 - args[8:10] ** 24) / hazard  # eco.expected_tenure_months
    discount_pow = (1.0 + terms.discount_rate) ** (tenure / 24.0)

    def level_terms() -> tuple:
        motive = np.array([False, True])
        return (np.array([eco.task_share(terms, motive, level) for level in (1, 2)]),
                terms.productivity_start + terms.productivity_gain * np.arange(terms.months, dtype=float))

    task_share, ramp = model._memo("decide:slot_terms", (terms,), level_terms)
    reputation, host_fixed, deep_fixed, subsidy_rate, subsidy_discount, access = _public_terms(model)
    return kd.level_values(
        # the firms
        fs.wage, fs.production_motive, fs.productivity, model.expected_trainee_quality(), fs.slots, fs.vacancies,
        fs.on_ladder, fs.is_anchor, model._strong_tie_firms(), fs.employees, float(fs._surcharge),
        fs.belief_productivity, fs.belief_retention, fs.belief_paid, fs.belief_projects,
        # numpy's exp / tanh / pow results
        out_offer_exp, accept_tanh, retained_pow, tenure, discount_pow,
        # placement and retention terms
        int(terms.months), ramp, float(eco.MAX_RELATIVE_PRODUCTIVITY), task_share, float(terms.skilled_wage_ratio),
        float(terms.nonwage_share), float(terms.pay_floor), np.array(terms.mentor_days[1:], dtype=float),
        float(eco.WEEKS_PER_MONTH), float(eco.WORKDAYS_PER_MONTH), float(terms.mentor_wage_ratio),
        float(terms.trainees_per_mentor), float(terms.equipment_per_month), float(eco.upfront_cost(terms)),
        float(terms.hiring_cost_weeks), float(terms.wage_compression), eco.TRAINING_PRODUCTIVITY_GAIN[1:],
        float(eco.LADDER_SPECIFIC_GAIN), tables["host_premium"],
        np.array([lm.OFFER_RATE[False], lm.OFFER_RATE[True]], dtype=float),
        # reputation, fixed costs, public money and projects (tables by anchor flag, access by strong-tie flag)
        reputation, host_fixed, deep_fixed, subsidy_rate, subsidy_discount,
        float(p["policy.tax_credit.investment_offset"]), bool(p["policy.tax_credit.refundable"]), access,
    )


def _public_terms(model: ConsortiumModel) -> tuple:
    """The firm-independent reputation, fixed-cost, subsidy and project-access terms of :func:`expected_values`.

    Tables by anchor flag (access: by strong-tie flag, one row per level),
    kept while the parameters and consortium factors they are made of are unchanged.
    """
    p, consortium = model.p, model.consortium
    key = (p["firms.reputation_value_sme"], p["firms.reputation_value_anchor"], model.host_fixed_cost(),
           p["firms.deep_fixed_cost_anchor"], p["firms.deep_fixed_cost_sme"], consortium.deep_cost_factor(),
           p["policy.subsidy.target"], p["policy.subsidy.cost_share"], model.subsidy_delay_discount(),
           p["policy.platform.placement_matching"], consortium.ip_effectiveness())

    def compute() -> tuple:
        anchor = np.array([False, True])
        return (np.array(key[:2], dtype=float), float(key[2]), model.deep_fixed_cost(anchor).astype(float),
                model.subsidy_rate_for(anchor).astype(float), float(key[8]),
                np.array([model.project_access(level, strong_tie=anchor) for level in (1, 2)]))

    return _kept(model, "public_terms", key, compute)


def utilities(model: ConsortiumModel, values: np.ndarray) -> np.ndarray:
    """Utility of each level (n, 3): scaled value + peer + obligation + goodwill - switching."""
    return _utilities(model, values, 1.0, shift=False)


def _utilities(model: ConsortiumModel, values: np.ndarray, noise: float, shift: bool) -> np.ndarray:
    """:func:`utilities` (with ``shift``: divided by ``noise``, minus each row's maximum)."""
    fs, p = model.firm_state, model.p
    a = model.firm_adjacency
    indptr, indices = model._memo("decide:adjacency", (a,), lambda: (a.indptr.astype(np.int64),
                                                                     a.indices.astype(np.int64)))
    of = model.consortium.obligation_factor()
    obligation = np.array([p["firms.obligation_sme"] * of, p["firms.obligation_anchor"] * of])
    return kd.level_utilities(
        np.ascontiguousarray(values, dtype=float), fs.employees, fs.wage, float(p["labour_market.skilled_wage_ratio"]),
        float(p["firms.decision_sensitivity"]), fs.engagement, indptr, indices, a.data, model._firm_degree,
        float(p["firms.peer_weight"]), fs.is_anchor, obligation, fs.goodwill, float(p["firms.switching_cost"]), fs.slots,
        float(noise), bool(shift))


def decide(model: ConsortiumModel) -> np.ndarray | None:
    """Each firm chooses its engagement level for the year by the scenario's decision rule."""
    if model.p["firms.decision_rule"] == "imitation":
        imitate(model)
        return None
    return decide_logit(model)


def imitate(model: ConsortiumModel) -> None:
    """Pairwise proportional imitation (Schlag 1998), whose mean field is the replicator dynamics.

    Each firm compares last year's realised value of engagement (scaled by its
    monthly wage bill) with that of one other firm, drawn from the whole
    population (``firms.imitation_scope = "population"``, the well-mixed limit
    of the evolutionary-game papers) or from its network neighbours, and copies
    the other's level with probability proportional to the payoff difference.
    """
    fs, rng = model.firm_state, model.rng
    n = fs.n
    if n < 2:
        return
    scale = fs.employees * fs.wage * model.p["labour_market.skilled_wage_ratio"]
    payoff = fs.realised_value / scale
    other = rng.integers(0, n - 1, size=n)
    other = other + (other >= np.arange(n))  # anyone but oneself
    if model.p["firms.imitation_scope"] == "network":
        a = model.firm_adjacency
        deg = np.diff(a.indptr)
        has = deg > 0
        pick = a.indptr[:-1][has] + (rng.random(int(has.sum())) * deg[has]).astype(np.int64)
        other[has] = a.indices[pick]
    diff = payoff[other] - payoff
    span = float(np.ptp(payoff)) if n else 0.0
    prob = np.clip(diff / span, 0.0, 1.0) if span > 0 else np.zeros(n)
    switch = rng.random(n) < prob
    new = fs.engagement.copy()
    new[switch] = fs.engagement[other[switch]]
    new[fs.slots == 0] = 0
    fs.engagement = new


def decide_logit(model: ConsortiumModel) -> np.ndarray:
    """Each firm draws its engagement level for the year from the logit over :func:`utilities`."""
    values = expected_values(model)
    u = _utilities(model, values, model.p["firms.decision_noise"], shift=True)
    prob = np.exp(u)
    draw = model.rng.random(len(prob))
    model.firm_state.engagement = kd.logit_choice(prob, draw)
    model.last_expected_values = values
    return prob
