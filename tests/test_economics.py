"""Small reference cases with known answers: the economics of a slot, matching, splitting, imitation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import Scenario
from sim import economics as eco
from sim import labour_market as lm
from sim.firms import imitate, slot_numbers
from sim.model import ConsortiumModel
from sim.placement import interval_match
from sim.students import largest_remainder

# A slot simple enough to work out by hand: entry wage 1,000 yuan a month, skilled
# labour cost = wage (ratio 1, no non-wage cost), no mentor or equipment cost, trainee
# pay 50% of the wage, 1,000 yuan admin up front, productive-task share 0.6 (+0.1 for a
# production-motive firm = 0.7), relative productivity 0.2 + 0.1 a month, capped at 0.95.
HAND = eco.SlotTerms(
    months=6, pay_floor=0.5, task_share=0.6, productivity_start=0.2, productivity_gain=0.1,
    mentor_days=(0.0, 0.0, 0.0), trainees_per_mentor=1.0, mentor_wage_ratio=1.0, equipment_per_month=0.0,
    admin_per_trainee=1000.0, transaction_per_match=0.0, skilled_wage_ratio=1.0, nonwage_share=0.0,
    hiring_cost_weeks=13.0, wage_compression=0.3, discount_rate=0.05,
)


def test_break_even_and_payback_by_hand():
    # output by month: 140, 210, 280, 350, 420, 490, 560, 630, then 665 (0.95 cap); cost 500.
    # net: -360 -290 -220 -150 -80 -10 | +60 (month 7: break-even) +130 +165 +165 ...
    # cumulative net reaches the 1,000 yuan up-front cost in month 20:
    # -1110 after month 6, -1050, -920, -755, -590, -425, -260, -95, +70 (m14), 235, 400,
    # 565, 730, 895, 1060 (m20).
    assert eco.break_even_month(HAND, 1000.0, True, 1) == (7, 20)
    out = eco.monthly_output(HAND, np.array([1000.0]), np.array([True]), 1, np.array([1.0]))[:, 0]
    np.testing.assert_allclose(out, [140, 210, 280, 350, 420, 490])


def test_break_even_never_within_horizon():
    costly = eco.SlotTerms(**{**{f: getattr(HAND, f) for f in HAND.__slots__}, "pay_floor": 0.99})
    # investment-motive firm: task share 0.5, output at most 0.95 * 0.5 * 1000 = 475 < 990
    assert eco.break_even_month(costly, 1000.0, False, 1) == (None, None)


def test_placement_net_benefit_by_hand():
    out, cost = eco.placement_net_benefit(HAND, np.array([1000.0]), np.array([True]), 1, np.array([1.0]))
    assert out[0] == pytest.approx(140 + 210 + 280 + 350 + 420 + 490)
    assert cost[0] == pytest.approx(6 * 500 + 1000)


def test_monthly_cost_mentor_time_by_hand():
    t = eco.SlotTerms(**{**{f: getattr(HAND, f) for f in HAND.__slots__},
                         "mentor_days": (0.0, 0.5, 2.0), "trainees_per_mentor": 4.0, "mentor_wage_ratio": 2.0,
                         "nonwage_share": 0.5, "equipment_per_month": 300.0, "pay_floor": 0.8})
    # deep: 2 days/week x 52/12 weeks x (4000 x 2 x 1.5 / 21.75 a day) / 4 trainees
    mentor = 2 * (52 / 12) * (4000 * 2 * 1.5 / 21.75) / 4
    assert eco.monthly_cost(t, np.array([4000.0]), 2)[0] == pytest.approx(0.8 * 4000 + mentor + 300)
    assert eco.monthly_cost(t, np.array([4000.0]), 0)[0] == pytest.approx(0.8 * 4000 + 300)


def test_hiring_cost_is_weeks_of_skilled_wages():
    # 13 weeks = 3 months of a skilled wage (ratio 1)
    assert eco.hiring_cost(HAND, np.array([1000.0]))[0] == pytest.approx(3000.0)


def test_relative_productivity_capped():
    rp = eco.relative_productivity(eco.SlotTerms(**{**{f: getattr(HAND, f) for f in HAND.__slots__}, "months": 12}))
    assert rp.max() == pytest.approx(eco.MAX_RELATIVE_PRODUCTIVITY)
    assert (np.diff(rp[:, 0]) >= 0).all()


def test_tax_credit_capped_by_liability_unless_refundable():
    investment = np.array([100_000.0, 10_000.0, -5_000.0])
    liability = np.array([20_000.0, 20_000.0, 20_000.0])
    np.testing.assert_allclose(eco.tax_credit(0.3, investment, liability, refundable=False), [20_000, 3_000, 0])
    np.testing.assert_allclose(eco.tax_credit(0.3, investment, liability, refundable=True), [30_000, 3_000, 0])
    np.testing.assert_allclose(eco.tax_credit(0.0, investment, liability, refundable=True), [0, 0, 0])


def test_expected_tenure_matches_closed_form_and_sum():
    h = np.array([1e-12, 0.01, 0.05, 0.2, 1.0])
    got = eco.expected_tenure_months(h, horizon=24)
    by_sum = np.array([sum((1 - x) ** t for t in range(24)) for x in h])
    np.testing.assert_allclose(got, by_sum, rtol=1e-6)
    np.testing.assert_allclose(got, (1 - (1 - np.clip(h, 1e-9, 1)) ** 24) / np.clip(h, 1e-9, 1))
    assert got[0] == pytest.approx(24.0, rel=1e-6)  # no hazard: the whole horizon
    assert got[-1] == pytest.approx(1.0)  # certain to leave: one month
    assert (np.diff(got) < 0).all()


def test_survival_constant_hazard():
    assert eco.survival(np.array([0.1]), 12)[0] == pytest.approx(0.9 ** 12)
    assert eco.survival(np.array([0.0]), 12)[0] == 1.0


def test_logistic_symmetric_and_safe():
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(eco.logistic(x) + eco.logistic(-x), 1.0, atol=1e-15)
    np.testing.assert_allclose(eco.logistic(x), 1 / (1 + np.exp(-x)), rtol=1e-9, atol=1e-15)
    assert eco.logistic(0.0) == 0.5
    with np.errstate(all="raise"):
        big = eco.logistic(np.array([-1e4, 1e4]))
    np.testing.assert_array_equal(big, [0.0, 1.0])


def test_interval_match_small_case():
    i, j, amount = interval_match(np.array([2, 3]), np.array([4, 1]))
    assert list(zip(i.tolist(), j.tolist(), amount.tolist(), strict=True)) == [(0, 0, 2), (1, 0, 2), (1, 1, 1)]


@pytest.mark.parametrize("seed", range(20))
def test_interval_match_conserves_totals(seed):
    rng = np.random.default_rng(seed)
    supply = rng.integers(0, 6, size=rng.integers(1, 12))
    demand = rng.integers(0, 6, size=rng.integers(1, 12))
    i, j, amount = interval_match(supply, demand)
    assert amount.sum() == min(supply.sum(), demand.sum())
    assert (amount > 0).all()
    assert (np.bincount(i, weights=amount, minlength=supply.size) <= supply).all()
    assert (np.bincount(j, weights=amount, minlength=demand.size) <= demand).all()
    # greedy in order: a later supplier gives only once every earlier one is exhausted
    given = np.bincount(i, weights=amount, minlength=supply.size)
    short = np.flatnonzero(given < supply)
    if short.size:
        assert given[short[0] + 1:].sum() == 0


def test_interval_match_empty():
    i, j, amount = interval_match(np.array([0, 0]), np.array([3]))
    assert i.size == j.size == amount.size == 0


def test_largest_remainder_known_answers():
    assert largest_remainder(7, np.array([0.5, 0.3, 0.2])).tolist() == [4, 2, 1]  # 3.5, 2.1, 1.4
    assert largest_remainder(10, np.array([1.0, 1.0, 1.0])).tolist() == [4, 3, 3]
    assert largest_remainder(5, np.array([0.0, 0.0])).tolist() == [0, 0]
    assert largest_remainder(0, np.array([1.0, 2.0])).tolist() == [0, 0]
    assert largest_remainder(3, np.array([-1.0, 1.0])).tolist() == [0, 3]


@pytest.mark.parametrize("seed", range(20))
def test_largest_remainder_sums_exactly_and_is_fair(seed):
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(rng.integers(1, 9)))
    total = int(rng.integers(0, 10_000))
    got = largest_remainder(total, shares)
    assert got.sum() == total
    assert (np.abs(got - shares * total) < 1.0).all()  # within one of the exact quota


def test_slot_numbers_follow_demand_within_caps():
    employees = np.array([3.0, 40.0, 200.0, 2500.0])
    slots = slot_numbers(employees, turnover=0.15, cap_workforce=0.10, cap_post=0.20, skilled_post_share=0.5)
    # demand ceil(0.15 n) = 1, 6, 30, 375; caps floor(min(0.1 n, 0.1 n)) = 0, 4, 20, 250
    assert slots.tolist() == [0, 4, 20, 250]
    loose = slot_numbers(employees, turnover=0.02, cap_workforce=0.10, cap_post=0.20, skilled_post_share=0.5)
    assert loose.tolist() == [0, 1, 4, 50]  # demand binds: ceil(0.06, 0.8, 4, 50)


def _market(**kw):
    base = dict(compression=0.3, transparency=0.3, poaching_intensity=0.01, base_quit_hazard=0.03,
                outside_wage_premium=0.1, mobility_cost=0.1, credential_mode="none", portability=0.8,
                ladder_premium=0.0, credential_wage_premium=0.1)
    return lm.MarketTerms(**{**base, **kw})


def test_full_wage_compression_removes_poaching_pull_and_skill_premium():
    t = _market(compression=1.0)
    assert lm.poaching_pressure(t) == 0.0
    np.testing.assert_allclose(lm.outside_wage(t, np.array([4000.0]), np.array([1.8]), np.array([0.0])), [4000.0])
    open_market = _market(compression=0.0)
    # Becker limit: the outside wage pays the full return to skill
    np.testing.assert_allclose(lm.outside_wage(open_market, np.array([4000.0]), np.array([1.5]), np.array([0.0])),
                               [4000.0 * (1 + lm.SKILL_WAGE_RETURN * 0.5)])


def test_poaching_hazard_linear_in_competitors_and_no_credential_without_mode():
    t = _market()
    _, p1 = lm.monthly_hazards(t, np.array([1.0]), np.array([0.0]), np.array([0]), np.array([1.0]))
    _, p4 = lm.monthly_hazards(t, np.array([4.0]), np.array([0.0]), np.array([0]), np.array([1.0]))
    assert p4[0] == pytest.approx(4 * p1[0])
    assert lm.recognition(t) == 0.0
    assert lm.recognition(_market(credential_mode="portable", portability=0.9)) == 0.9


def test_imitation_well_mixed_limit_is_replicator_dynamics():
    """Pairwise proportional imitation: E[dx] = x (1 - x) (pi_1 - pi_0) / span (Schlag 1998).

    Half the firms shallow (payoff 1 per monthly wage bill), half none (payoff 0):
    a none-firm meeting a shallow one always switches, never the reverse, so the
    shallow share rises by n0 n1 / (n (n - 1)) in expectation.
    """
    sc = Scenario.load("baseline").with_overrides({
        "years": 1, "firms.decision_rule": "imitation", "firms.imitation_scope": "population"})
    m = ConsortiumModel(sc, seed=4)
    fs = m.firm_state
    n = fs.n
    scale = fs.employees * fs.wage * m.p["labour_market.skilled_wage_ratio"]
    fs.slots = np.maximum(fs.slots, 1)
    level = (np.arange(n) % 2).astype(np.int64)
    n1 = int(level.sum())
    expected = (n - n1) * n1 / (n * (n - 1))
    gains = []
    for _ in range(40):
        fs.engagement = level.copy()
        fs.realised_value = level * scale  # payoff 1 for shallow, 0 for none
        imitate(m)
        assert ((fs.engagement == 1) | (level == 0)).all()  # nobody leaves the better strategy
        gains.append(fs.engagement.mean() - level.mean())
    # 40 replications of n = 308 Bernoulli switches: sd of the mean about 0.004
    assert np.mean(gains) == pytest.approx(expected, abs=0.015)
    assert math.isclose(expected, 0.25, rel_tol=0.01)
