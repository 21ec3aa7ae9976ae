"""Property-based tests: invariants hold on every month of generated scenarios.

Scenarios are generated from the one declaration, :data:`sim.parameters.PARAMETERS`
(kind, low/high, explore range, choices), never from a second list: every
numeric key is drawn from its explore range, its whole declared range, or
exactly its bounds; every choice and bool from its allowed values; sector
lists and policy schedules from the declared schedulable keys. Two rules keep
runs short enough for CI, and both are derived from the declarations, not
listed by hand: population counts (``population.*`` integer keys) are drawn
from [declared low, ``POPULATION_SCALE`` x the explore high], and the run
length keys are capped (``RUN_LENGTH``).

After the warm-up and after every recorded month the model is checked with
:func:`sim.invariants.violations` (students, graduates, money, slots, caps,
indicator ranges, NaN) plus the subsidy budget of the current year (approvals
within the year never exceed the year's budget). At the end the time series
and summary must be complete and finite, and a second run with the same seed
must give identical results.

Profiles: ``ci`` (300 derandomized examples; every third also run twice with its seed)
and the long run
(``pytest -m slow``, 3,000), see ``tests/reliability_profiles.py``; figures in
``docs/reliability.md``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, event, example, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from reliability_profiles import profile

from sim.indicators import INDICATORS, NAMES
from sim.invariants import violations
from sim.model import ConsortiumModel
from sim.parameters import BY_KEY, PARAMETERS, SCHEDULABLE, Param
from sim.run import run, summarise
from sim.scenario import Scenario

#: Population counts are drawn up to this share of their explore range's top.
POPULATION_SCALE = 0.25
#: Run-length keys, capped so that a few hundred examples run in about a minute.
RUN_LENGTH = {"years": (1, 3), "warmup_years": (1, 2)}
#: Sector names are drawn from these characters (letters, digits, CJK, space, _).
SECTOR_ALPHABET = st.characters(categories=("Ll", "Lu", "Nd", "Lo"), max_codepoint=0x9FFF) | st.sampled_from(" _-")
TOL = 1e-6


# ---------------------------------------------------------------- strategies
def _bounds(p: Param) -> tuple[float, float]:
    """The range a generated value of ``p`` may take (declared, scaled for population counts)."""
    if p.key in RUN_LENGTH:
        return RUN_LENGTH[p.key]
    assert p.low is not None and p.high is not None, f"{p.key}: numeric parameter without a declared range"
    lo, hi = float(p.low), float(p.high)
    if p.kind == "int" and p.key.startswith("population."):
        top = (p.explore_range() or (lo, hi))[1]
        hi = max(lo, math.ceil(top * POPULATION_SCALE))
    return lo, hi


def value_strategy(p: Param) -> st.SearchStrategy:
    """Values of parameter ``p`` across its declared range (schedules excluded)."""
    if p.kind == "choice":
        return st.sampled_from(p.choices)
    if p.kind == "bool":
        return st.booleans()
    if p.kind == "str_list":
        name = st.text(SECTOR_ALPHABET, min_size=1, max_size=16).filter(lambda s: s.strip() != "")
        return st.lists(name, min_size=1, max_size=7, unique=True)
    assert p.numeric, p.kind
    lo, hi = _bounds(p)
    elo, ehi = p.explore_range() or (lo, hi)
    elo, ehi = max(lo, elo), min(hi, ehi)
    if elo > ehi:
        elo, ehi = lo, hi
    if p.kind == "int":
        lo_i, hi_i, elo_i, ehi_i = int(lo), int(hi), int(math.ceil(elo)), int(ehi)
        return st.one_of(st.integers(elo_i, max(elo_i, ehi_i)), st.integers(lo_i, hi_i), st.sampled_from([lo_i, hi_i]))
    floats = dict(allow_nan=False, allow_infinity=False)
    return st.one_of(st.floats(elo, ehi, **floats), st.floats(lo, hi, **floats), st.sampled_from([lo, hi]))


def _with_default(p: Param) -> st.SearchStrategy:
    """The declared default (what Hypothesis shrinks to) or a generated value."""
    if p.key in RUN_LENGTH or (p.kind == "int" and p.key.startswith("population.")):
        return value_strategy(p)  # the defaults are baseline-sized: too slow for hundreds of runs
    return st.one_of(st.just(p.default), value_strategy(p))


@st.composite
def schedules(draw: st.DrawFn, years: int) -> list[dict]:
    """A ``policy.schedule``: up to three changes of schedulable keys, some after the run's end."""
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        keys = draw(st.lists(st.sampled_from(SCHEDULABLE), min_size=1, max_size=3, unique=True))
        change = {k: draw(value_strategy(BY_KEY[k])) for k in keys}
        entries.append({"year": draw(st.integers(1, years + 1)), "set": change})
    return entries


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A valid scenario: every declared key drawn from its declaration."""
    values = {p.key: draw(_with_default(p)) for p in PARAMETERS if p.kind != "schedule"}
    values["policy.schedule"] = draw(schedules(values["years"]))
    return Scenario().with_overrides(values, source="<generated>")


seeds = st.integers(0, 2**32 - 1)


# ---------------------------------------------------------------- the checks
def _assert_ok(model: ConsortiumModel, when: str) -> None:
    broken = violations(model)
    assert not broken, f"{when}: {broken}"


def check_run(sc: Scenario, seed: int, *, same_seed_again: bool = True) -> None:
    """Step ``sc`` month by month checking every invariant; then check the outputs and determinism."""
    model = ConsortiumModel(sc, seed=seed)
    _assert_ok(model, "after the warm-up")
    gov = model.government
    approved_at_year_start, months = gov.ledger.approved, 0
    while model.running:
        model.step()
        months += 1
        when = f"year {model.year}, month {model.month}"
        _assert_ok(model, when)
        if model.month == 0:  # September: a new budget year opened in this step
            approved_at_year_start = gov.ledger.approved - getattr(gov, "_approved_year", 0.0)
        approved_this_year = gov.ledger.approved - approved_at_year_start
        assert approved_this_year <= gov.subsidy_budget_year * (1 + 1e-9) + TOL, (
            f"{when}: approved {approved_this_year:.2f} > the year's budget {gov.subsidy_budget_year:.2f}")
        assert (gov.paid_by_firm >= -TOL).all(), f"{when}: a firm received negative money"
    years = sc.get("years")
    assert months == years * 12
    ts = model.timeseries()
    assert len(ts) == months and list(ts["step"]) == list(range(1, months + 1))
    assert sorted(set(ts["year"])) == list(range(1, years + 1))
    values = ts[list(NAMES)].to_numpy(dtype=float)
    assert np.isfinite(values).all(), "a NaN or infinite indicator in the time series"
    for ind in INDICATORS:
        col = ts[ind.name]
        if ind.low is not None:
            assert col.min() >= ind.low - TOL, ind.name
        if ind.high is not None:
            assert col.max() <= ind.high + TOL, ind.name
    summary = summarise(ts, years)
    assert set(summary) == set(NAMES) and all(math.isfinite(v) for v in summary.values())
    if same_seed_again:
        again = run(sc, seed=seed, keep_model=False)
        pd.testing.assert_frame_equal(again.timeseries.reset_index(drop=True), ts.reset_index(drop=True))
        assert again.summary == summary


# ---------------------------------------------------------------- explicit examples
def _small(**overrides: object) -> Scenario:
    base = {"years": 2, "warmup_years": 1, "population.smes": 30, "population.anchor_firms": 2,
            "population.schools.secondary": 2, "population.schools.higher": 1, "population.schools.undergraduate": 1}
    base.update({k.replace("__", "."): v for k, v in overrides.items()})
    return Scenario().with_overrides(base, source="<example>")


#: Edge cases pinned as explicit examples (run in every profile, before the generated ones).
PINNED = [
    _small(),
    # nobody at all: no firms, no schools
    _small(**{"population.smes": 0, "population.anchor_firms": 0, "population.schools.secondary": 0,
              "population.schools.higher": 0, "population.schools.undergraduate": 0}),
    # firms but no schools, schools but no firms
    _small(**{"population.schools.secondary": 0, "population.schools.higher": 0, "population.schools.undergraduate": 0}),
    _small(**{"population.smes": 0, "population.anchor_firms": 0}),
    # students but no students per school; one sector; zero budget with full subsidy
    _small(**{"population.cohort_size.secondary": 0, "population.cohort_size.higher": 0,
              "population.cohort_size.undergraduate": 0}),
    _small(**{"population.sectors": ["only"], "policy.subsidy.cost_share": 1.0, "policy.subsidy.annual_budget": 0.0}),
    # extreme behaviour parameters at their declared bounds
    _small(**{"firms.decision_sensitivity": 1000.0, "firms.decision_noise": 0.01, "firms.peer_weight": 20.0,
              "firms.switching_cost": 20.0, "firms.initial_engagement_share": 1.0}),
    _small(**{"firms.decision_rule": "imitation", "firms.imitation_scope": "population",
              "firms.initial_engagement_share": 0.5, "labour_market.competitors_per_sector": 1000.0}),
    # subsidy withdrawn mid-run and a change scheduled after the end
    _small(**{"policy.subsidy.cost_share": 1.0, "policy.schedule": [
        {"year": 2, "set": {"policy.subsidy.cost_share": 0.0}}, {"year": 3, "set": {"policy.subsidy.target": "sme"}}]}),
]


@pytest.mark.parametrize("index", range(len(PINNED)))
def test_pinned_edge_cases(index):
    check_run(PINNED[index], seed=index + 1)


# ---------------------------------------------------------------- known bugs
def known_core_bug(sc: Scenario) -> str | None:
    """A model-core bug the generated scenario would hit, already reported; None when clear.

    Each entry has a strict xfail reproducer below; remove the entry when its
    reproducer starts passing (the strict xfail then fails the suite).
    """
    return None  # none known (the tiny-competitor-count crash is fixed; its reproducer below is a regression test)


def test_tiny_positive_competitor_count_builds():
    sc = _small(**{"labour_market.competitors_per_sector": 1e-17})
    check_run(sc, seed=0, same_seed_again=False)


# ---------------------------------------------------------------- generated scenarios
def _round_trips(sc: Scenario, folder) -> None:
    """A generated scenario written as TOML loads back equal (what sweeps and ``--out`` rely on)."""
    path = folder / "scenario.toml"
    path.write_text(sc.to_toml(), encoding="utf-8")
    assert Scenario.load(path) == sc


def _coverage_events(sc: Scenario) -> None:
    """Label edge features, so ``--hypothesis-show-statistics`` shows how often they were generated."""
    firms = sc.get("population.smes") + sc.get("population.anchor_firms")
    schools = sum(sc.get(f"population.schools.{t}") for t in ("secondary", "higher", "undergraduate"))
    event("no firms" if firms == 0 else "firms")
    event("no schools" if schools == 0 else "schools")
    event(f"policy schedule entries: {len(sc.get('policy.schedule'))}")
    event(f"decision rule: {sc.get('firms.decision_rule')}")
    event(f"years: {sc.get('years')}")


@hsettings(parent=profile("ci"))
@given(sc=scenarios(), seed=seeds)
def test_generated_scenarios_keep_every_invariant(sc, seed, tmp_path_factory):
    """Invariants every month; TOML round trip; every third example also run twice with its seed."""
    assume(known_core_bug(sc) is None)
    _round_trips(sc, tmp_path_factory.mktemp("rt"))
    again = seed % 3 == 0
    event("same seed run twice" if again else "run once")
    _coverage_events(sc)
    check_run(sc, seed, same_seed_again=again)


@pytest.mark.slow
@hsettings(parent=profile("long"))
@given(sc=scenarios(), seed=seeds)
@example(sc=PINNED[1], seed=0)
def test_generated_scenarios_long_run(sc, seed, tmp_path_factory):
    """The documented long run: thousands of scenarios, each also run twice with its seed."""
    assume(known_core_bug(sc) is None)
    _coverage_events(sc)
    _round_trips(sc, tmp_path_factory.mktemp("rt"))
    check_run(sc, seed, same_seed_again=True)


def test_documented_example_counts_match_the_profiles():
    """docs/reliability.md states the CI and long-run example counts these profiles use."""
    import os
    from pathlib import Path

    if os.environ.get("CONSIM_PROPERTY_EXAMPLES") or os.environ.get("CONSIM_PROPERTY_LONG_EXAMPLES"):
        pytest.skip("example counts overridden in the environment")
    text = (Path(__file__).resolve().parent.parent / "docs" / "reliability.md").read_text(encoding="utf-8")
    assert f"| CI (`ci` profile) | {profile('ci').max_examples:,} generated + {len(PINNED)} pinned" in text
    assert f"| long run (`-m slow`) | {profile('long').max_examples:,} generated" in text
