"""The compiled firm decision (sim.kernels.decisions) gives the numpy formulation's results bit for bit.

The reference below is the numpy code that :func:`sim.firms.expected_values`,
:func:`sim.firms.utilities`, :func:`sim.firms.decide_logit` and
:meth:`sim.model.ConsortiumModel.project_access` ran before the kernels. A
small model gets random firms (any number, including none and one), networks,
beliefs and policy terms, and both versions must agree to the last bit.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import Scenario
from sim import economics as eco
from sim import labour_market as lm
from sim import projects as prj
from sim.firms import FirmState, decide_logit, expected_values, utilities
from sim.kernels import decisions as kd
from sim.kernels import placement as kp
from sim.model import ConsortiumModel

SMALL = {"years": 1, "warmup_years": 1, "population.smes": 12, "population.anchor_firms": 2,
         "population.schools.secondary": 2, "population.schools.higher": 1, "population.schools.undergraduate": 1}


# ---------------------------------------------------------------- the numpy reference
def old_project_access(model, level):
    strong = model._strong_tie_firms()
    platform = model.p["policy.platform.placement_matching"]
    ipf = prj.ip_start_factor(model.consortium.ip_effectiveness())
    lvl = np.full(model.firm_state.n, level)
    base = prj.access_probability(np.zeros(model.firm_state.n, dtype=np.int64), strong, platform)
    with_level = prj.access_probability(lvl, strong | (level >= 1), platform)
    return (with_level - base) * ipf


def old_expected_values(model):
    fs = model.firm_state
    terms = model.slot_terms()
    mterms = model.market_terms()
    n = fs.n
    out = np.zeros((n, 3))
    subsidy_rate = model.subsidy_rate_for(fs.is_anchor)
    quality = model.expected_trainee_quality()
    for level in (1, 2):
        cred_share = float(model.credential_share_belief[level])
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
                                             wage_premium=lm.host_premium(mterms, on_ladder, cred_share),
                                             on_ladder=on_ladder)
        reputation = np.where(fs.is_anchor, model.p["firms.reputation_value_anchor"],
                              model.p["firms.reputation_value_sme"]) * level
        fixed = model.host_fixed_cost() + (model.deep_fixed_cost(fs.is_anchor) if level == 2 else 0.0)
        gross = cost * fs.slots + fixed
        subsidy = subsidy_rate * gross * fs.belief_paid * model.subsidy_delay_discount()
        per_slot = output - cost + ret * value_retained + reputation
        value = fs.slots * per_slot - fixed + subsidy
        if level == 2:
            qualifying = model.deep_fixed_cost(fs.is_anchor) + fs.slots * (
                eco.monthly_cost(terms, fs.wage, 2) - terms.pay_floor * fs.wage) * terms.months
            value += eco.tax_credit(model.p["policy.tax_credit.investment_offset"], qualifying, fs.liability,
                                    model.p["policy.tax_credit.refundable"])
            value += fs.belief_projects * old_project_access(model, 2)
        else:
            value += fs.belief_projects * old_project_access(model, 1)
        out[:, level] = value
    return out


def old_utilities(model, values):
    fs = model.firm_state
    p = model.p
    scale = fs.employees * fs.wage * p["labour_market.skilled_wage_ratio"]
    u = p["firms.decision_sensitivity"] * values / scale[:, None]
    engaged = (fs.engagement >= 1).astype(float)
    deep = (fs.engagement == 2).astype(float)
    peer_any = model.neighbour_mean(engaged)
    peer_deep = model.neighbour_mean(deep)
    u[:, 1] += p["firms.peer_weight"] * peer_any
    u[:, 2] += p["firms.peer_weight"] * (peer_any + peer_deep) / 2.0
    obligation = np.where(fs.is_anchor, p["firms.obligation_anchor"], p["firms.obligation_sme"]) \
        * model.consortium.obligation_factor()
    u[:, 1:] += (obligation + fs.goodwill)[:, None]
    switching = p["firms.switching_cost"]
    for level in range(3):
        u[:, level] -= switching * (fs.engagement != level)
    u[fs.slots == 0, 1:] = -np.inf
    return u


def old_decide_logit(model):
    values = old_expected_values(model)
    u = old_utilities(model, values) / model.p["firms.decision_noise"]
    u -= u.max(axis=1, keepdims=True)
    prob = np.exp(u)
    prob /= prob.sum(axis=1, keepdims=True)
    draw = model.rng.random(len(prob))
    choice = (draw[:, None] > np.cumsum(prob, axis=1)).sum(axis=1)
    model.firm_state.engagement = np.minimum(choice, 2).astype(np.int64)
    model.last_expected_values = values
    return prob


# ---------------------------------------------------------------- random firms and terms
@pytest.fixture(scope="module")
def model():
    return ConsortiumModel(Scenario().with_overrides(SMALL), seed=3)


def same_bits(a, b) -> bool:
    """Equal shapes and identical bytes (so -0.0 != 0.0 and every rounding counts)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def randomise(m: ConsortiumModel, rng: np.random.Generator, n: int) -> None:
    """Give the model ``n`` random firms, a random firm network, beliefs, trainee quality and policy terms."""
    anchor = rng.random(n) < 0.2
    fields = dict(
        is_anchor=anchor, sector=rng.integers(0, 3, n), employees=rng.uniform(1, 5000, n).round(rng.integers(0, 3)),
        wage=rng.uniform(1500, 15000, n), productivity=rng.uniform(0.3, 2.0, n),
        production_motive=rng.random(n) < 0.5, supplier_of=np.where(anchor, -1, rng.integers(-1, 3, n)),
        competitors=rng.integers(0, 9, n).astype(float), engagement=rng.integers(0, 3, n),
        goodwill=rng.normal(0, 0.5, n), belief_productivity=rng.uniform(0, 2, n),
        belief_retention=rng.uniform(0, 2, n), belief_paid=rng.uniform(0, 1, n),
        belief_projects=rng.choice([0.0, 1.0, 3e4], n) * rng.random(n),
        slots=rng.choice([0, 0, 1, 2, 5, 40], n).astype(np.int64), vacancies=rng.integers(0, 30, n),
        on_ladder=rng.random(n) < 0.4,
    )
    rest = {f.name: np.zeros(n) for f in dataclasses.fields(FirmState) if f.name not in fields and f.name != "_surcharge"}
    fs = FirmState(**fields, **rest)
    fs._surcharge = float(rng.choice([0.0, 5.0, 2e3]))
    m.firm_state = fs
    # a random undirected firm network (some firms without neighbours)
    k = int(rng.integers(0, 3 * n + 1)) if n else 0
    i, j = rng.integers(0, max(n, 1), k), rng.integers(0, max(n, 1), k)
    keep = i != j
    rows, cols = np.concatenate([i[keep], j[keep]]), np.concatenate([j[keep], i[keep]])
    adj = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(n, n))
    adj.sum_duplicates()
    adj.data[:] = 1.0
    m.firm_adjacency = adj
    m._firm_degree = np.asarray(adj.sum(axis=1)).ravel()
    strong = rng.random(n) < 0.3
    quality = rng.uniform(0.5, 1.4, n)
    m._strong_tie_firms = lambda: strong
    m.expected_trainee_quality = lambda: quality
    m.credential_share_belief = rng.choice([0.0, 0.3, 1.0], 3) * rng.random(3)
    p = m.p
    p.update({
        "labour_market.entry_wage": float(rng.choice([4000.0, 5123.5])),
        "labour_market.wage_compression": float(rng.uniform(0, 1)),
        "labour_market.poaching_intensity": float(rng.uniform(0, 0.2)),
        "labour_market.base_quit_hazard": float(rng.uniform(0, 0.5)),
        "labour_market.outside_wage_premium": float(rng.uniform(0, 0.5)),
        "labour_market.mobility_cost": float(rng.uniform(-0.2, 0.3)),
        "labour_market.wage_discount": float(rng.uniform(0, 0.2)),
        "policy.credential.mode": str(rng.choice(["none", "portable", "employer_ladder"])),
        "policy.credential.portability": float(rng.uniform(0, 1)),
        "policy.credential.ladder_premium": float(rng.uniform(0, 0.3)),
        "policy.credential.wage_premium": float(rng.uniform(0, 0.3)),
        "policy.platform.graduate_transparency": float(rng.uniform(0, 1)),
        "policy.platform.placement_matching": float(rng.choice([0.0, 0.5, 1.0])),
        "policy.subsidy.target": str(rng.choice(["all", "sme", "anchor"])),
        "policy.subsidy.cost_share": float(rng.uniform(0, 1)),
        "policy.tax_credit.refundable": bool(rng.random() < 0.5),
        "policy.tax_credit.investment_offset": float(rng.uniform(0, 1)),
        "policy.governance.legal_status": str(rng.choice(["council", "registered_entity"])),
        "policy.governance.ip_contracts": bool(rng.random() < 0.5),
        "policy.governance.firm_voice": float(rng.uniform(0, 1)),
        "firms.placement_months": int(rng.choice([0, 1, 6, 12])),
        "firms.trainee_pay_floor": float(rng.uniform(0, 1)),
        "firms.mentor_days_per_week": float(rng.uniform(0, 3)),
        "firms.switching_cost": float(rng.uniform(0, 2)),
        "firms.decision_noise": float(rng.uniform(0.1, 2)),
        "firms.peer_weight": float(rng.uniform(0, 2)),
        "firms.decision_sensitivity": float(rng.uniform(0, 5)),
    })


SIZES = st.sampled_from([0, 1, 2, 3, 7, 8, 9, 33])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=SIZES)
def test_expected_values_and_utilities_are_the_numpy_formulas_bit_for_bit(model, seed, n):
    randomise(model, np.random.default_rng(seed), n)
    values = expected_values(model)
    ref = old_expected_values(model)
    assert same_bits(values, ref), np.argwhere(values != ref)
    u, ref_u = utilities(model, values), old_utilities(model, ref)
    assert same_bits(u, ref_u), np.argwhere(u != ref_u)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=SIZES)
def test_decide_logit_draws_the_same_levels(model, seed, n):
    randomise(model, np.random.default_rng(seed), n)
    before = model.firm_state.engagement
    model.rng = np.random.default_rng(seed)
    prob = decide_logit(model)
    new = (prob, model.firm_state.engagement, model.last_expected_values)
    model.firm_state.engagement = before
    model.rng = np.random.default_rng(seed)
    ref = (old_decide_logit(model), model.firm_state.engagement, model.last_expected_values)
    for a, b in zip(new, ref, strict=True):
        assert same_bits(a, b)


def test_logit_choice_on_ties_and_boundaries():
    """Draws exactly on a cumulative probability, equal utilities, levels without weight."""
    prob = np.exp(np.array([[0.0, 0.0, 0.0], [0.0, -np.inf, -np.inf], [-np.inf, 0.0, 0.0],
                            [0.0, 0.0, -np.inf], [-1.0, -np.inf, 0.0], [0.0, 0.0, 0.0]]))
    draw = np.array([1 / 3, 0.999, 0.5, 0.5, 0.0, 1.0])
    ref = prob / prob.sum(axis=1, keepdims=True)
    choice = np.minimum((draw[:, None] > np.cumsum(ref, axis=1)).sum(axis=1), 2)
    got = kd.logit_choice(prob, draw)
    assert same_bits(prob, ref) and same_bits(got, choice.astype(np.int64))
    assert got.tolist() == [0, 0, 1, 0, 0, 2]  # a draw equal to the cumulative share stays at that level
    empty = np.zeros((0, 3))
    assert kd.logit_choice(empty, np.zeros(0)).shape == (0,)


def test_project_access_table_matches_the_per_firm_formula(model):
    for seed in range(6):
        rng = np.random.default_rng(seed)
        randomise(model, rng, 20)
        for level in (0, 1, 2):
            assert same_bits(model.project_access(level), old_project_access(model, level))
        flags = np.array([False, True])
        assert same_bits(model.project_access(2, strong_tie=flags),
                         prj.access_probability(np.full(2, 2), np.ones(2, bool), model.p["policy.platform.placement_matching"])
                         - prj.access_probability(np.zeros(2, np.int64), flags, model.p["policy.platform.placement_matching"])
                         ) or model.consortium.ip_effectiveness() != 1.0


def test_slot_terms_object_is_kept_until_a_term_changes(model):
    a = model.slot_terms()
    assert model.slot_terms() is a
    model.p["firms.trainee_pay_floor"] = a.pay_floor + 0.125
    b = model.slot_terms()
    assert b is not a and b.pay_floor == a.pay_floor + 0.125


def test_the_kernels_see_a_difference():
    """The bit-for-bit comparison can fail: one ulp off in an input changes the values."""
    m = ConsortiumModel(Scenario().with_overrides(SMALL), seed=4)
    randomise(m, np.random.default_rng(11), 9)
    base = expected_values(m)
    m.firm_state.wage = np.nextafter(m.firm_state.wage, np.inf)
    assert not same_bits(expected_values(m), base)


def old_sector_quality(q, shares, cohort_size, sector):
    weight = shares * cohort_size[:, None]
    by_sector = (q * weight).sum(axis=0) / np.maximum(weight.sum(axis=0), 1e-12)
    by_sector[weight.sum(axis=0) <= 0] = 1.0
    return by_sector[sector]


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), schools=st.sampled_from([0, 1, 2, 7, 8, 9, 20, 200]),
       sectors=st.integers(1, 6))
def test_sector_quality_is_the_weighted_mean_bit_for_bit(seed, schools, sectors):
    """School-by-school sums (pairwise for one sector), sectors nobody trains for at 1, zero cohorts."""
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(sectors), size=schools) * (rng.random((schools, sectors)) < 0.8)
    cohort = rng.choice([0, 150, 400, 517], size=schools).astype(np.int64)
    q = rng.uniform(0.5, 1.4, (schools, sectors))
    sector = rng.integers(0, sectors, 25)
    assert same_bits(kp.sector_quality(q, shares, cohort, sector), old_sector_quality(q, shares, cohort, sector))


def test_expected_trainee_quality_uses_the_model_schools(model):
    from sim import schools as sch

    ss = model.school_state
    want = old_sector_quality(sch.preparation_quality(ss), ss.shares, ss.cohort_size, model.firm_state.sector)
    got = ConsortiumModel.expected_trainee_quality(model)
    assert same_bits(got, want) and got.shape == (model.firm_state.n,)


def test_division_by_zero_gives_inf_or_nan_as_numpy(model):
    """A firm without employees has a zero wage bill: numpy divides to inf / nan, and so do the kernels."""
    randomise(model, np.random.default_rng(5), 6)
    model.firm_state.employees[:2] = 0.0
    values = expected_values(model)
    u = utilities(model, values)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = old_utilities(model, values)
    assert not np.isfinite(u[:2]).all()
    np.testing.assert_array_equal(u, ref)
