"""Invariants after every step: people, money and slots conserved, caps respected, shares in [0, 1].

Each scenario is stepped month by month; after every step
:func:`sim.invariants.violations` must be empty, and this module's own checks
(computed independently of ``sim.invariants``) must hold. A last test makes
sure the checker itself can fail.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from sim import INDICATORS, Scenario
from sim.invariants import violations
from sim.model import ConsortiumModel
from sim.scenario import preset_names

SMALL = {"population.smes": 60, "population.anchor_firms": 3, "population.schools.secondary": 3,
         "population.schools.higher": 2, "population.schools.undergraduate": 1}
TOL = 1e-6

EDGE_CASES = {
    "zero_smes": {**SMALL, "population.smes": 0},
    "zero_anchors": {**SMALL, "population.anchor_firms": 0},
    "zero_firms": {**SMALL, "population.anchor_firms": 0, "population.smes": 0},
    "zero_schools": {**SMALL, "population.schools.secondary": 0, "population.schools.higher": 0,
                     "population.schools.undergraduate": 0},
    "one_sector": {**SMALL, "population.sectors": ["machining"]},
    "tiny_cohorts": {**SMALL, "population.cohort_size.secondary": 1, "population.cohort_size.higher": 1,
                     "population.cohort_size.undergraduate": 0},
    "huge_subsidy": {**SMALL, "policy.subsidy.cost_share": 1.0, "policy.subsidy.annual_budget": 1e12,
                     "policy.tax_credit.investment_offset": 1.0, "policy.tax_credit.refundable": True},
    "zero_budget": {**SMALL, "policy.subsidy.cost_share": 0.8, "policy.subsidy.annual_budget": 0.0},
    "tiny_budget": {**SMALL, "policy.subsidy.cost_share": 0.8, "policy.subsidy.annual_budget": 50_000.0},
    "placement_1_month": {**SMALL, "firms.placement_months": 1},
    "placement_9_months": {**SMALL, "firms.placement_months": 9},
    "no_disbursement_lag": {**SMALL, "policy.subsidy.cost_share": 0.5, "government.disbursement_lag_months": 0},
    "long_disbursement_lag": {**SMALL, "policy.subsidy.cost_share": 0.5, "government.disbursement_lag_months": 30},
    "imitation_rule": {**SMALL, "firms.decision_rule": "imitation", "firms.initial_engagement_share": 0.5},
    "everything_on": {**SMALL, "policy.governance.legal_status": "registered_entity", "policy.governance.firm_voice": 1.0,
                      "policy.governance.ip_contracts": True, "policy.governance.operating_body": True,
                      "policy.platform.placement_matching": 1.0, "policy.platform.graduate_transparency": 1.0,
                      "policy.credential.mode": "employer_ladder", "schools.dynamic_adjustment": True},
    "no_competitors": {**SMALL, "labour_market.competitors_per_sector": 0},
    "tiny_firms": {**SMALL, "population.sme_employees_median": 2, "population.sme_employees_sigma": 0.0},
}


def own_checks(m: ConsortiumModel) -> list[str]:
    """Checks written here, independently of sim.invariants."""
    out = []
    fs, p = m.firm_state, m.p
    cap = np.floor(np.minimum(p["firms.slot_cap_workforce"] * fs.employees,
                              p["firms.slot_cap_post"] * p["firms.skilled_post_share"] * fs.employees))
    if (fs.slots > cap).any() or (fs.slots < 0).any():
        out.append("slots outside [0, internship cap]")
    if (fs.hosted > fs.slots).any():
        out.append("hosted > slots")
    if m.final_year is not None and len(m.final_year):
        placed = m.final_year.host >= 0
        if int(placed.sum()) != int(fs.hosted.sum()):
            out.append(f"placed students {int(placed.sum())} != hosted {int(fs.hosted.sum())}")
    e = m.enrolment
    if e.entered != e.in_school + e.graduated:
        out.append("students not conserved")
    if len(m.graduates) + m.graduates.dropped != e.graduated:
        out.append("graduates not conserved")
    led = m.government.ledger
    if abs(led.claimed - (led.paid + led.pending_total + led.refused_budget + led.refused_coordination)) > TOL * max(1, led.claimed):
        out.append("claims not conserved: claimed != paid + pending + refused")
    if abs(m.government.paid_by_firm.sum() - (led.paid + led.credits)) > TOL * max(1, led.paid + led.credits):
        out.append("money paid to firms != ledger")
    for ind in INDICATORS:
        v = getattr(m, ind.name)
        if not np.isfinite(v) or (ind.low is not None and v < ind.low - TOL) or (ind.high is not None and v > ind.high + TOL):
            out.append(f"{ind.name} = {v}")
    for name in ("firm_participation_rate", "sme_participation_rate", "anchor_participation_rate",
                 "deep_engagement_share", "placement_quality", "retention_rate", "poaching_rate",
                 "graduate_local_employment_rate", "skill_match_rate", "hosts_losing_money_share",
                 "school_effort_index", "firm_effort_index"):
        if not 0.0 <= getattr(m, name) <= 1.0:
            out.append(f"share {name} outside [0, 1]")
    if m.unfilled_placement_slots < 0 or m.unplaced_students < 0:
        out.append("negative unfilled slots or unplaced students")
    return out


def run_checked(sc: Scenario, seed: int) -> ConsortiumModel:
    """Step ``sc`` month by month, checking invariants and the yearly subsidy budget after every step."""
    m = ConsortiumModel(sc, seed=seed)
    problems = violations(m) + own_checks(m)
    assert not problems, f"after warm-up: {problems}"
    approved_at_start = m.government.ledger.approved
    paid_at_start = m.government.ledger.paid
    while m.running:
        m.step()
        led = m.government.ledger
        if m.month == 0:  # September: a new budget year
            approved_at_start, paid_at_start = led.approved, led.paid
        budget = m.p["policy.subsidy.annual_budget"]
        problems = violations(m) + own_checks(m)
        if led.approved - approved_at_start > budget + TOL:
            problems.append(f"approved {led.approved - approved_at_start:.2f} in the year > budget {budget:.2f}")
        if m.p["government.disbursement_lag_months"] <= 12 and led.paid - paid_at_start > budget + TOL:
            # claims come once a year, so a year's payments are one year's approvals
            problems.append(f"paid {led.paid - paid_at_start:.2f} in the year > budget {budget:.2f}")
        assert not problems, f"year {m.year} month {m.month} (step {m.steps}): {problems}"
    return m


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_case_invariants(case):
    sc = Scenario.load("baseline").with_overrides({**EDGE_CASES[case], "years": 3})
    m = run_checked(sc, seed=1)
    ts = m.timeseries()
    assert len(ts) == 36
    if case.startswith("zero_firms"):
        assert ts["firm_participation_rate"].eq(0).all() and ts["unplaced_students"].gt(0).all()
    if case == "zero_schools":
        assert ts["active_partnerships"].eq(0).all() and m.enrolment.entered == 0
    if case == "zero_budget":
        assert m.government.ledger.approved == 0 and m.government.ledger.refused_budget > 0
    if case == "tiny_budget":
        assert m.government.ledger.refused_budget > 0
    if case == "huge_subsidy":
        assert m.government.ledger.refused_budget == 0 and ts["subsidy_spent"].gt(0).any()


@pytest.mark.parametrize("name", preset_names())
def test_preset_invariants(name):
    sc = Scenario.load(name)
    years = min(sc.get("years"), 9 if sc.get("policy.schedule") else 3)
    run_checked(sc.with_overrides({"years": years}), seed=2)


@pytest.mark.parametrize("seed", [3, 4])
def test_baseline_full_population_invariants(seed):
    m = run_checked(Scenario.load("baseline").with_overrides({"years": 3}), seed=seed)
    # the baseline's budget is not binding without a subsidy; credits are outside it
    assert m.government.ledger.refused_budget == 0


def test_checker_detects_broken_invariants(small_scenario):
    m = ConsortiumModel(small_scenario, seed=1)
    for _ in range(9):
        m.step()
    assert violations(m) == []

    def broken(mutate) -> list[str]:
        c = copy.deepcopy(m)
        mutate(c)
        return violations(c)

    def over_cap(c):
        c.firm_state.slots[0] = 10**6
        c.firm_state.hosted[0] = 0

    assert any("cap" in v for v in broken(over_cap))
    assert any("students" in v for v in broken(lambda c: setattr(c.enrolment, "entered", c.enrolment.entered + 1)))
    assert any("money" in v for v in broken(lambda c: setattr(c.government.ledger, "claimed", c.government.ledger.claimed + 5.0)))
    assert any("money" in v for v in broken(lambda c: c.government.paid_by_firm.__setitem__(0, c.government.paid_by_firm[0] + 1.0)))
    assert any("engagement" in v for v in broken(lambda c: c.firm_state.engagement.__setitem__(0, 3)))
    assert any("overspent" in v for v in broken(lambda c: setattr(c.government, "subsidy_budget_left", -10.0)))
    assert any("retention_rate" in v for v in broken(lambda c: setattr(c, "retention_rate", 1.5)))
    assert any("programme shares" in v for v in broken(lambda c: c.school_state.shares.__imul__(2.0)))


@pytest.mark.slow
@pytest.mark.parametrize("name", preset_names())
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_preset_invariants_full_length(name, seed):
    run_checked(Scenario.load(name), seed=seed)
