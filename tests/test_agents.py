"""Every agent type's tests, each inheriting :class:`agent_base.AgentTypeTests`."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from agent_base import AgentTypeTests, model_for

from sim import Scenario
from sim import economics as eco
from sim.consortium import Consortium
from sim.firms import SME, AnchorFirm
from sim.government import Government
from sim.model import ConsortiumModel
from sim.schools import TIERS, School


def _caps(model: ConsortiumModel) -> np.ndarray:
    fs, p = model.firm_state, model.p
    return np.floor(np.minimum(p["firms.slot_cap_workforce"] * fs.employees,
                               p["firms.slot_cap_post"] * p["firms.skilled_post_share"] * fs.employees))


def _deep_credit(model: ConsortiumModel, refundable: bool) -> tuple[np.ndarray, np.ndarray]:
    """(credit, uncapped credit) each firm would get for a year of deep engagement."""
    fs, t = model.firm_state, model.slot_terms()
    qualifying = model.deep_fixed_cost(fs.is_anchor) + fs.slots * (
        eco.monthly_cost(t, fs.wage, 2) - t.pay_floor * fs.wage) * t.months
    offset = model.p["policy.tax_credit.investment_offset"]
    return eco.tax_credit(offset, qualifying, fs.liability, refundable), offset * qualifying


class TestSchool(AgentTypeTests):
    agent_class = School
    attributes = ("tier", "effort", "curriculum_lag", "equipment", "node")

    @staticmethod
    def expected_count(scenario: Scenario) -> int:
        return sum(scenario.get(f"population.schools.{t}") for t in TIERS)

    def check_traits(self, model, agents):
        sc = model.sc
        for t in TIERS:
            assert sum(a.tier == t for a in agents) == sc.get(f"population.schools.{t}")
        assert all(a.tier in TIERS for a in agents)
        # eager (校热): effort never below the base effort it puts in for its own sake
        assert all(sc.get("schools.base_effort") - 1e-12 <= a.effort <= 1.0 for a in agents)
        assert all(0.0 <= a.equipment <= 1.0 and a.curriculum_lag >= 0.0 for a in agents)
        # a year of programme adjustment moves the intake mix toward local demand
        m = copy.deepcopy(model)
        fs = m.firm_state
        demand = np.bincount(fs.sector, weights=fs.employees, minlength=len(m.sectors))
        demand /= demand.sum()
        before = np.abs(m.school_state.shares - demand).sum(axis=1)
        for _ in range(12):
            m.step()
        after = np.abs(m.school_state.shares - demand).sum(axis=1)
        assert (after < before).all()


class _FirmTraits(AgentTypeTests):
    attributes = ("engagement", "sector", "employees", "slots", "hosted", "production_motive", "node")

    def check_common(self, model, agents):
        assert {a.engagement for a in agents} <= {0, 1, 2}
        assert all(a.engagement_label in ("none", "shallow", "deep") for a in agents)
        assert all(0 <= a.sector < len(model.sectors) for a in agents)
        caps = _caps(model)
        assert all(a.slots <= caps[a.index] and a.hosted <= a.slots for a in agents)
        assert all(a.hosted == 0 for a in agents if a.engagement == 0)


class TestAnchorFirm(_FirmTraits):
    agent_class = AnchorFirm

    @staticmethod
    def expected_count(scenario: Scenario) -> int:
        return scenario.get("population.anchor_firms")

    def check_traits(self, model, agents):
        self.check_common(model, agents)
        smes = model.agents_by_type[SME]
        assert min(a.employees for a in agents) > max(s.employees for s in smes)
        # a liability large enough to use the whole 产教融合 credit
        credit, uncapped = _deep_credit(model, refundable=False)
        idx = [a.index for a in agents]
        np.testing.assert_allclose(credit[idx], uncapped[idx])
        assert (credit[idx] > 0).all()

    def test_ladder_extends_to_supply_chain(self):
        m = model_for(Scenario.load("credential_ladder").with_overrides({"years": 2}), seed=3, steps=1)
        fs = m.firm_state
        assert fs.on_ladder[fs.is_anchor].all()
        assert fs.on_ladder[fs.supplier_of >= 0].all()
        assert not fs.on_ladder[~fs.is_anchor & (fs.supplier_of < 0)].any()
        assert (fs.supplier_of[fs.supplier_of >= 0] < fs.is_anchor.sum()).all()  # suppliers point at anchors
        b = model_for(Scenario.load("baseline").with_overrides({"years": 2}), seed=3, steps=1)
        assert not b.firm_state.on_ladder.any()


class TestSME(_FirmTraits):
    agent_class = SME

    @staticmethod
    def expected_count(scenario: Scenario) -> int:
        return scenario.get("population.smes")

    def check_traits(self, model, agents):
        self.check_common(model, agents)
        anchors = model.agents_by_type[AnchorFirm]
        assert np.median([a.employees for a in agents]) * 10 < np.median([a.employees for a in anchors])
        # production motive drawn with the declared share (300 SMEs: sd about 0.03)
        share = np.mean([a.production_motive for a in agents])
        assert abs(share - model.p["firms.production_motive_share_sme"]) < 0.1
        # small liabilities cap the credit for the smallest SMEs (7% at the sourced 940-yuan surcharge per
        # employee); a refundable credit lifts the cap
        idx = [a.index for a in agents]
        credit, uncapped = _deep_credit(model, refundable=False)
        capped = credit[idx] < uncapped[idx] - 1e-9
        assert 0.02 < capped.mean() < 0.5
        size = np.array([a.employees for a in agents])
        assert size[capped].max() < np.median(size[~capped])
        refund, _ = _deep_credit(model, refundable=True)
        np.testing.assert_allclose(refund[idx], uncapped[idx])


class TestGovernment(AgentTypeTests):
    agent_class = Government
    attributes = ("ledger", "paid_by_firm", "subsidy_budget_left", "subsidy_budget_year", "special_funds_year",
                  "evaluation_score", "claims_paid_share")

    @staticmethod
    def expected_count(scenario: Scenario) -> int:
        return 1

    def check_traits(self, model, agents):
        (gov,) = agents
        p = model.p
        assert gov.subsidy_budget_year == p["policy.subsidy.annual_budget"]
        assert 0.0 <= gov.subsidy_budget_left <= gov.subsidy_budget_year
        # special funds approved at about 30% of the request, moved by the evaluation score
        ratio = gov.special_funds_year / p["policy.funding.request"]
        assert p["policy.funding.approval_ratio"] * 0.8 - 1e-12 <= ratio <= p["policy.funding.approval_ratio"] * 1.2 + 1e-12
        led = gov.ledger
        assert led.claimed == pytest.approx(led.approved + led.refused_budget + led.refused_coordination)
        assert led.approved == pytest.approx(led.paid + led.pending_total)
        assert gov.paid_by_firm.sum() == pytest.approx(led.paid + led.credits)
        # imperfect coordination refuses the declared share of claims
        assert led.refused_coordination == pytest.approx(led.claimed * (1 - gov.processing_share()))


class TestConsortium(AgentTypeTests):
    agent_class = Consortium
    attributes = ("is_entity", "p")
    stochastic = False

    @staticmethod
    def expected_count(scenario: Scenario) -> int:
        return 1

    def check_traits(self, model, agents):
        (c,) = agents
        assert not c.is_entity  # the baseline is a council (非法人)
        assert c.transaction_factor() == 1.0
        assert c.ip_effectiveness() == 0.0
        entity = ConsortiumModel(Scenario.load("registered_entity").with_overrides({"years": 1}), seed=1).consortium
        assert entity.is_entity
        assert entity.transaction_factor() < c.transaction_factor()
        assert entity.deep_cost_factor() < c.deep_cost_factor()
        assert entity.obligation_factor() > c.obligation_factor()
        assert entity.ip_effectiveness() == 1.0


def test_every_agent_type_has_its_tests():
    """A new agent type must get a test class inheriting AgentTypeTests."""
    m = ConsortiumModel(Scenario.load("baseline").with_overrides({"years": 1}), seed=1)
    tested = {c.agent_class for c in globals().values()
              if isinstance(c, type) and issubclass(c, AgentTypeTests) and hasattr(c, "agent_class")}
    assert set(m.agents_by_type) <= tested, set(m.agents_by_type) - tested
