"""The model's calendar, recording, summaries and the agreement between agents, arrays and indicators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import INDICATORS, InputError, Scenario, run
from sim.indicators import NAMES
from sim.model import GRADUATION_MONTH, ConsortiumModel
from sim.run import summarise
from sim.scenario import ScenarioError
from sim.students import STUDY_YEARS


def test_timeseries_one_row_per_month_with_step_and_year(small_scenario, run_cached):
    res = run_cached(small_scenario, 1)
    ts = res.timeseries
    years = small_scenario.get("years")
    assert len(ts) == years * 12
    assert list(ts.columns[:2]) == ["step", "year"]
    assert set(NAMES) <= set(ts.columns)
    assert ts["step"].tolist() == list(range(1, years * 12 + 1))
    assert ts.groupby("year").size().to_dict() == dict.fromkeys(range(1, years + 1), 12)
    assert ts[list(NAMES)].notna().all().all()


def test_summary_is_final_year_mean(small_scenario, run_cached):
    res = run_cached(small_scenario, 1)
    final = res.timeseries[res.timeseries["year"] == small_scenario.get("years")]
    assert set(res.summary) == set(NAMES)
    for name in NAMES:
        assert res.summary[name] == pytest.approx(final[name].mean(), rel=1e-12, abs=1e-12)
    assert summarise(res.timeseries, small_scenario.get("years")) == res.summary


def test_yearly_flows_are_annualised_monthly_rates(small_scenario, run_cached):
    res = run_cached(small_scenario, 1)
    ts = res.timeseries
    # subsidy_spent is 12 x the month's payments: its final-year mean is the year's total
    assert res.summary["subsidy_spent"] == pytest.approx(ts[ts["year"] == 3]["subsidy_spent"].sum() / 12)
    assert (ts["tech_projects_completed"] % 12 == 0).all()


def test_warmup_is_unrecorded_and_the_run_stops():
    sc = Scenario.load("baseline").with_overrides({"years": 1, "warmup_years": 3, "population.smes": 30})
    m = ConsortiumModel(sc, seed=1)
    assert m.steps == 36 and m.recorded_steps == 0 and m.year == 0
    assert len(m.timeseries()) == 0
    # the warm-up already ran placements and graduations: indicators are defined from month one
    assert m.enrolment.graduated > 0 and len(m.graduates) > 0
    m.run_to_end()
    assert m.steps == 48 and not m.running
    assert m.timeseries()["year"].unique().tolist() == [1]


def test_schedule_applies_from_the_start_of_its_year():
    sc = Scenario.load("subsidy_withdrawn").with_overrides({"years": 9, "population.smes": 40})
    m = ConsortiumModel(sc, seed=2)
    seen: dict[int, set[float]] = {}
    while m.running:
        m.step()
        seen.setdefault(m.year, set()).add(m.p["policy.subsidy.cost_share"])
    assert seen[7] == {0.5} and seen[8] == {0.0} and seen[9] == {0.0}
    assert all(seen[y] == {0.5} for y in range(1, 8))
    # the scenario object itself is not changed by the run
    assert sc.get("policy.subsidy.cost_share") == 0.5


def test_schedule_beyond_the_last_year_never_applies():
    sc = Scenario.load("subsidy_withdrawn").with_overrides({"years": 3, "population.smes": 40})
    m = ConsortiumModel(sc, seed=2)
    m.run_to_end()
    assert m.p["policy.subsidy.cost_share"] == 0.5


def test_indicators_agree_with_agents_and_arrays(small_scenario):
    m = ConsortiumModel(small_scenario, seed=4)
    for _ in range(14):
        m.step()
    firms = list(m.firms)
    assert len(firms) == m.firm_state.n
    engaged = [f.engagement >= 1 for f in firms]
    assert m.firm_participation_rate == pytest.approx(np.mean(engaged))
    assert m.sme_participation_rate == pytest.approx(np.mean([f.engagement >= 1 for f in m.smes]))
    assert m.anchor_participation_rate == pytest.approx(np.mean([f.engagement >= 1 for f in m.anchors]))
    assert m.deep_engagement_share == pytest.approx(np.mean([f.engagement == 2 for f in firms]))
    assert m.school_effort_index == pytest.approx(np.mean([s.effort for s in m.schools]))
    assert m.engagement_gap == pytest.approx(m.school_effort_index - m.firm_effort_index)
    n_part = sum(engaged)
    assert m.cost_per_participating_firm == pytest.approx(m.subsidy_spent / n_part if n_part else 0.0)
    assert m.current_indicators() == {n: getattr(m, n) for n in NAMES}


def test_network_holds_every_agent_and_the_partnership_ties(small_scenario):
    m = ConsortiumModel(small_scenario, seed=4)
    for _ in range(30):
        m.step()
    nodes = {a.unique_id for a in list(m.schools) + list(m.firms)}
    assert set(m.G.nodes) == nodes
    for a in list(m.schools) + list(m.firms):
        assert a.cell.coordinate == a.unique_id and a in a.cell.agents
    schools = set(m.school_nodes.tolist())
    firms = set(m.firm_nodes.tolist())
    school_firm = {(u, v) if u in schools else (v, u) for u, v in m.G.edges
                   if (u in schools and v in firms) or (v in schools and u in firms)}
    ties = {(int(m.school_nodes[s]), int(m.firm_nodes[f])) for s, f in zip(m.ties.school, m.ties.firm, strict=True)}
    assert school_firm == ties
    # a supplier's chain edge points at an anchor
    fs = m.firm_state
    for i in np.flatnonzero(fs.supplier_of >= 0):
        assert m.G.has_edge(int(m.firm_nodes[i]), int(m.firm_nodes[fs.supplier_of[i]]))
        assert fs.is_anchor[fs.supplier_of[i]]


def test_placements_happen_in_the_placement_months():
    sc = Scenario.load("baseline").with_overrides({"years": 2, "population.smes": 80, "firms.placement_months": 3})
    m = ConsortiumModel(sc, seed=3)
    hosting = {}
    while m.running:
        m.step()
        if m.year == 2:
            hosting[m.month] = int(m.firm_state.hosted.sum())
    start = GRADUATION_MONTH - 3
    assert all(hosting[k] > 0 for k in range(start, GRADUATION_MONTH))
    assert all(hosting[k] == 0 for k in range(0, start))


def test_students_flow_through_three_study_years(small_scenario):
    m = ConsortiumModel(small_scenario, seed=5)
    intake = int(m.school_state.cohort_size.sum())
    m.run_to_end()
    years_run = m.warmup + m.years
    e = m.enrolment
    assert e.graduated == intake * years_run
    assert e.entered == intake * (STUDY_YEARS - 1) + intake * years_run
    d = m.diagnostics()
    assert d["students_entered"] == d["students_in_school"] + d["students_graduated"]
    assert 0.0 <= d["six_month_turnover"] <= 1.0
    assert d["break_even_month"] <= d["payback_month"]


def test_run_api(small_scenario):
    res = run(small_scenario, seed=3, keep_model=False)
    assert res.model is None and res.seed == 3 and res.scenario == small_scenario and res.seconds > 0
    assert isinstance(res.timeseries, pd.DataFrame)
    with pytest.raises(InputError, match="seed"):
        run(small_scenario, seed=-1)
    with pytest.raises(InputError, match="seed"):
        run(small_scenario, seed=True)
    by_name = run("baseline", seed=1, keep_model=False)
    assert len(by_name.timeseries) == Scenario.load("baseline").get("years") * 12


def test_indicator_declarations():
    assert len(NAMES) == len(set(NAMES)) == len(INDICATORS)
    contract = {"firm_participation_rate", "sme_participation_rate", "anchor_participation_rate",
                "deep_engagement_share", "school_effort_index", "firm_effort_index", "engagement_gap",
                "placement_quality", "unfilled_placement_slots", "unplaced_students", "retention_rate",
                "poaching_rate", "graduate_local_employment_rate", "skill_match_rate", "curriculum_lag_years",
                "hosts_losing_money_share", "tech_projects_completed", "subsidy_spent",
                "cost_per_participating_firm", "active_partnerships"}
    assert contract <= set(NAMES)
    for ind in INDICATORS:
        assert ind.meaning and ind.meaning_zh and ind.unit and ind.direction in (-1, 0, 1)



def test_placement_length_cannot_change_during_a_run():
    # a schedule changing the placement length would skip or double a year's round
    with pytest.raises(ScenarioError, match="firms.placement_months"):
        Scenario.load("baseline").with_overrides({
            "years": 3, "policy.schedule": [{"year": 2, "set": {"firms.placement_months": 9}}]})


@pytest.mark.parametrize("months", [3, 9])
def test_placement_round_opens_months_before_graduation(months):
    sc = Scenario.load("baseline").with_overrides({"years": 2, "population.smes": 60, "firms.placement_months": months})
    m = ConsortiumModel(sc, seed=1)
    first_hosting: dict[int, int] = {}
    while m.running:
        m.step()
        if int(m.firm_state.hosted.sum()) and m.year not in first_hosting:
            first_hosting[m.year] = m.month
    assert first_hosting[1] == first_hosting[2] == GRADUATION_MONTH - months, first_hosting


def test_market_terms_follow_parameter_changes_and_are_reused_otherwise():
    """market_terms() is cached on the parameter dict's change count: a set value shows at once."""
    m = ConsortiumModel(Scenario(), seed=1)
    first = m.market_terms()
    assert m.market_terms() is first  # nothing set: the same object
    m.p["labour_market.poaching_intensity"] = 0.123
    assert m.market_terms().poaching_intensity == 0.123
    m.p.update({"policy.platform.graduate_transparency": 0.9})
    assert m.market_terms().transparency == 0.9
    m.p = dict(m.p)  # a plain dict (no change count): rebuilt on every call, still right
    m.p["labour_market.poaching_intensity"] = 0.2
    assert m.market_terms().poaching_intensity == 0.2


@pytest.mark.parametrize("anchors_per_sector, expected", [(2, 0.8 * 2), (4, 0.8 * 4), (50, 0.8 * 4)])
def test_initial_anchor_ties_per_programme_are_capped(anchors_per_sector, expected):
    """A programme starts tied to each sector anchor with p = 0.8, but to at most 3.2 anchors on average.

    400 programmes (200 schools x 2 sectors): the mean number of anchor partners per programme has a
    standard error of at most sqrt(50 x 0.064 x 0.936) / 20 = 0.09; tolerance 0.35 (about 4 s.e.).
    Without the cap, a city with 50 anchors a sector would give each programme 40.
    """
    from sim import network as net

    rng = np.random.default_rng(5)
    n_s, n_k, a = 200, 2, anchors_per_sector
    shares = np.full((n_s, n_k), 0.5)
    is_anchor = np.r_[np.ones(2 * a, bool), np.zeros(20, bool)]
    sector = np.r_[np.zeros(a), np.ones(a), np.zeros(10), np.ones(10)].astype(np.int64)
    ties = net.initial_ties(rng, shares, is_anchor, sector)
    per_programme = is_anchor[ties.firm].sum() / (n_s * n_k)
    assert abs(per_programme - expected) < 0.35
    assert (~is_anchor[ties.firm]).sum() == 2 * n_s * n_k  # two SMEs per programme, as before
