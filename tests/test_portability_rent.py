"""Acemoglu & Pischke (2000): a recognised credential moves the trainer's rent to the graduate.

Outside employers bid ``credential_wage_premium x recognition`` for a credential
they recognise; the trainer matches that bid to keep a credentialed graduate
(:func:`sim.labour_market.host_premium`), so its post-training rent, in the
firm's expected value of training, shrinks as portability rises. Without a
credential (the baseline, recognition 0) nothing changes.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim import Scenario
from sim import economics as eco
from sim import labour_market as lm
from sim.firms import expected_values
from sim.model import ConsortiumModel

SMALL = {"years": 3, "population.smes": 60, "population.anchor_firms": 3, "population.schools.secondary": 3,
         "population.schools.higher": 2, "population.schools.undergraduate": 1}


def _market(**kw) -> lm.MarketTerms:
    base = dict(compression=0.3, transparency=0.3, poaching_intensity=0.02, base_quit_hazard=0.05,
                outside_wage_premium=0.3, mobility_cost=0.1, credential_mode="portable", portability=1.0,
                ladder_premium=0.0, credential_wage_premium=0.1)
    return lm.MarketTerms(**{**base, **kw})


@pytest.mark.parametrize("portability", [0.0, 0.4, 1.0])
def test_host_matches_the_outside_bid_for_a_recognised_credential(portability):
    t = _market(portability=portability)
    wage = np.array([5000.0, 5000.0])
    cred = np.array([1.0, 0.0])
    hw = lm.host_wage(t, wage, np.zeros(2), cred)
    np.testing.assert_allclose(hw, [5000.0 * (1 + 0.1 * portability), 5000.0])
    # the host's premium is exactly what a local employer adds for the same credential
    out = lm.outside_wage(t, wage, np.ones(2), cred)
    np.testing.assert_allclose(hw, out)


def test_every_outside_employer_prices_the_credential_so_acceptance_does_not_move():
    # a nationally recognised credential raises the coastal bid and the host's wage alike:
    # the graduate's choice is unchanged, the host pays more (the rent goes to the graduate)
    market = np.array([4500.0])
    accept = []
    for r in (0.0, 0.5, 1.0):
        t = _market(portability=r)
        hw = lm.host_wage(t, np.array([4800.0]), np.zeros(1), np.ones(1))
        coastal = lm.coastal_wage(t, market, np.ones(1))
        assert coastal[0] == pytest.approx(4500.0 * (1 + 0.3 + 0.1 * r))
        accept.append(lm.acceptance_probability(t, hw, coastal, market, np.array([2]))[0])
    assert accept[0] == pytest.approx(accept[1], abs=0.02) and accept[0] == pytest.approx(accept[2], abs=0.02)


def test_no_credential_mode_pays_the_compressed_wage_whatever_the_portability():
    t = _market(credential_mode="none", portability=1.0)
    assert lm.host_premium(t, np.zeros(1), np.ones(1))[0] == 0.0
    assert lm.host_wage(t, np.array([4000.0]), np.zeros(1), np.ones(1))[0] == 4000.0
    assert lm.coastal_wage(t, 4000.0, 1.0) == 4000.0 * 1.3


def test_a_ladder_step_above_the_bid_is_not_paid_twice():
    t = _market(credential_mode="employer_ladder", portability=0.5, ladder_premium=0.12)
    np.testing.assert_allclose(lm.host_premium(t, np.array([1.0, 0.0]), np.array([1.0, 1.0])), [0.12, 0.05])
    big = _market(credential_mode="employer_ladder", portability=1.0, ladder_premium=0.05, credential_wage_premium=0.2)
    np.testing.assert_allclose(lm.host_premium(big, np.array([1.0]), np.array([1.0])), [0.2])


def test_retention_value_loses_the_matched_premium_over_the_expected_tenure():
    terms = eco.SlotTerms(
        months=6, pay_floor=0.8, task_share=0.6, productivity_start=0.3, productivity_gain=0.05,
        mentor_days=(0.0, 0.5, 1.0), trainees_per_mentor=3.0, mentor_wage_ratio=1.6, equipment_per_month=300.0,
        admin_per_trainee=1000.0, transaction_per_match=500.0, skilled_wage_ratio=1.4, nonwage_share=0.3,
        hiring_cost_weeks=13.0, wage_compression=0.3, discount_rate=0.04)
    wage, hazard = np.array([4500.0]), np.array([0.08])
    tenure = eco.expected_tenure_months(hazard)
    discount = 1.0 / 1.04 ** (tenure / 24.0)
    for level in (1, 2):
        v0 = eco.retention_value(terms, wage, level, hazard)
        v1 = eco.retention_value(terms, wage, level, hazard, wage_premium=0.1)
        np.testing.assert_allclose(v0 - v1, 0.1 * 4500.0 * tenure * discount)
    # at full recognition of a 10% premium the compressed rent of a trained hire is gone
    rent_deep = terms.wage_compression * eco.TRAINING_PRODUCTIVITY_GAIN[2] * eco.skilled_labour_cost(terms, wage)
    assert 0.1 * wage[0] > rent_deep[0]


def _model_at(overrides: dict, seed: int) -> ConsortiumModel:
    sc = Scenario.load("baseline").with_overrides({**SMALL, **overrides})
    m = ConsortiumModel(sc, seed=seed)
    for _ in range(24):  # two years: beliefs, credential shares and vacancies are in place
        m.step()
    return m


def _values_at(m: ConsortiumModel, portability: float) -> np.ndarray:
    m.p["policy.credential.portability"] = portability
    return expected_values(m)


@pytest.mark.parametrize("seed", [1, 2])
def test_expected_value_of_engagement_falls_with_recognition_through_the_wage_alone(seed):
    # no poaching: recognition acts only through the wage the host must pay
    m = _model_at({"policy.credential.mode": "portable", "labour_market.poaching_intensity": 0.0}, seed)
    assert (m.credential_share_belief[1:] > 0.0).all()
    engaged = m.firm_state.slots > 0
    v = {r: _values_at(m, r) for r in (0.0, 0.5, 1.0)}
    for level in (1, 2):
        assert np.all(v[0.5][engaged, level] < v[0.0][engaged, level])
        assert np.all(v[1.0][engaged, level] < v[0.5][engaged, level])
    # deep engagement loses more: its graduates are retained more and stay longer
    loss = v[0.0][engaged] - v[1.0][engaged]
    assert np.all(loss[:, 2] > loss[:, 1])


@pytest.mark.parametrize("seed", [1, 2])
def test_expected_value_of_deep_engagement_falls_with_portability(seed):
    m = _model_at({"policy.credential.mode": "portable"}, seed)
    engaged = m.firm_state.slots > 0
    v0, v1 = _values_at(m, 0.0), _values_at(m, 1.0)
    assert np.all(v1[engaged, 2] < v0[engaged, 2])
    assert (v1[engaged, 2] - v1[engaged, 1]).mean() < (v0[engaged, 2] - v0[engaged, 1]).mean()


@pytest.mark.parametrize("seed", [3, 4])
def test_retained_credentialed_graduates_are_paid_the_recognised_premium(seed):
    # paired seeds: the same city at portability 0 and 1
    premium = 0.1
    for r in (0.0, 1.0):
        m = _model_at({"policy.credential.mode": "portable", "policy.credential.wage_premium": premium,
                       "policy.credential.portability": r}, seed)
        g, fs = m.graduates, m.firm_state
        # still with the host that offered them a job (a few declined and were then hired by the
        # host in the open market at the skill-dependent outside wage: not equal to either level)
        stayed = g.offered & (g.employer == g.host) & (g.first_employer == g.host) & (g.left_first_step < 0)
        ratio = g.wage / fs.wage[np.maximum(g.employer, 0)]
        matched = np.isclose(ratio, 1.0 + premium * r, rtol=0, atol=1e-12)
        compressed = np.isclose(ratio, 1.0, rtol=0, atol=1e-12)
        cred, plain = stayed & g.credential, stayed & ~g.credential
        assert matched[cred].sum() > 5 and compressed[plain].sum() > 5
        if r > 0:  # no credentialed graduate accepted the compressed wage, no plain one got the premium
            assert not compressed[cred].any() and not matched[plain].any()


def test_baseline_without_credential_is_unaffected_by_portability():
    runs = []
    for r in (0.0, 1.0):
        m = _model_at({"policy.credential.mode": "none", "policy.credential.portability": r}, 5)
        runs.append((expected_values(m), m.graduates.wage.copy(), m.current_indicators()))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert runs[0][2] == runs[1][2]
