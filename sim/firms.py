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


def expected_values(model: ConsortiumModel) -> np.ndarray:
    """Expected yearly net value (yuan) of levels none / shallow / deep, per firm: shape (n, 3)."""
    fs = model.firm_state
    terms = model.slot_terms()
    mterms = model.market_terms()
    n = fs.n
    out = np.zeros((n, 3))
    subsidy_rate = model.subsidy_rate_for(fs.is_anchor)  # share of cost, by target
    quality = model.expected_trainee_quality()  # by firm
    for level in (1, 2):
        cred_share = float(model.credential_share_belief[level])  # expected credential share at this level
        output, cost = eco.placement_net_benefit(terms, fs.wage, fs.production_motive, level, fs.productivity, quality)
        output = output * fs.belief_productivity
        on_ladder = fs.on_ladder & (level >= 1)
        ret = lm.expected_retention(
            mterms, wage=fs.wage, market_wage=model.market_wage, competitors=fs.competitors,
            production_motive=fs.production_motive, level=level, on_ladder=on_ladder.astype(float),
            offer_capacity=fs.vacancies / np.maximum(fs.slots, 1), credential_share=cred_share,
        ) * fs.belief_retention
        quit, poach = lm.monthly_hazards(mterms, fs.competitors, on_ladder.astype(float), np.full(n, level),
                                         np.full(n, cred_share))
        value_retained = eco.retention_value(terms, fs.wage, level, quit + poach,
                                             wage_premium=lm.host_premium(mterms, on_ladder, cred_share), on_ladder=on_ladder)
        reputation = np.where(fs.is_anchor, model.p["firms.reputation_value_anchor"], model.p["firms.reputation_value_sme"]) * level
        fixed = model.host_fixed_cost() + (model.deep_fixed_cost(fs.is_anchor) if level == 2 else 0.0)
        gross = cost * fs.slots + fixed
        subsidy = subsidy_rate * gross * fs.belief_paid * model.subsidy_delay_discount()
        per_slot = output - cost + ret * value_retained + reputation
        value = fs.slots * per_slot - fixed + subsidy
        if level == 2:
            qualifying = model.deep_fixed_cost(fs.is_anchor) + fs.slots * (eco.monthly_cost(terms, fs.wage, 2) - terms.pay_floor * fs.wage) * terms.months
            value += eco.tax_credit(model.p["policy.tax_credit.investment_offset"], qualifying, fs.liability,
                                    model.p["policy.tax_credit.refundable"])
            value += fs.belief_projects * model.project_access(level=2)
        else:
            value += fs.belief_projects * model.project_access(level=1)
        out[:, level] = value
    return out


def utilities(model: ConsortiumModel, values: np.ndarray) -> np.ndarray:
    """Utility of each level (n, 3): scaled value + peer + obligation + goodwill - switching."""
    fs = model.firm_state
    p = model.p
    scale = fs.employees * fs.wage * p["labour_market.skilled_wage_ratio"]  # monthly wage bill
    u = p["firms.decision_sensitivity"] * values / scale[:, None]
    engaged = (fs.engagement >= 1).astype(float)
    deep = (fs.engagement == 2).astype(float)
    peer_any = model.neighbour_mean(engaged)
    peer_deep = model.neighbour_mean(deep)
    u[:, 1] += p["firms.peer_weight"] * peer_any
    u[:, 2] += p["firms.peer_weight"] * (peer_any + peer_deep) / 2.0
    obligation = np.where(fs.is_anchor, p["firms.obligation_anchor"], p["firms.obligation_sme"]) * model.consortium.obligation_factor()
    u[:, 1:] += (obligation + fs.goodwill)[:, None]
    switching = p["firms.switching_cost"]
    for level in range(3):
        u[:, level] -= switching * (fs.engagement != level)
    u[fs.slots == 0, 1:] = -np.inf  # nothing to host
    return u


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
    u = utilities(model, values) / model.p["firms.decision_noise"]
    u -= u.max(axis=1, keepdims=True)
    prob = np.exp(u)
    prob /= prob.sum(axis=1, keepdims=True)
    draw = model.rng.random(len(prob))
    choice = (draw[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    model.firm_state.engagement = np.minimum(choice, 2).astype(np.int64)
    model.last_expected_values = values
    return prob
