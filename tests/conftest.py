"""Shared fixtures: a small fast scenario and a cache of runs.

Kept small and generic on purpose. ``run_cached(scenario, seed)`` memoises
:func:`sim.run` for the whole session, so the lever, preset and invariant tests
that compare against the same baseline runs pay for them once. Cached results
are shared: tests must not mutate ``result.model``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sim import Scenario, run

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
if str(TESTS) not in sys.path:  # lets test modules `import agent_base` however pytest imports them
    sys.path.insert(0, str(TESTS))

#: Overrides that make a scenario small and fast while keeping every agent type.
SMALL = {
    "years": 3,
    "population.smes": 60,
    "population.anchor_firms": 3,
    "population.schools.secondary": 3,
    "population.schools.higher": 2,
    "population.schools.undergraduate": 1,
}

_RUNS: dict[tuple, object] = {}


def cached_run(scenario: Scenario, seed: int, keep_model: bool = False):
    """``sim.run(scenario, seed)``, memoised for the session (do not mutate the result).

    The finished model is kept only when ``keep_model`` is true (it is the bulk of
    a result's memory); asking for it later re-runs once.
    """
    key = (repr(sorted((k, repr(v)) for k, v in scenario.to_flat().items())), seed)
    res = _RUNS.get(key)
    if res is None or (keep_model and res.model is None):
        res = _RUNS[key] = run(scenario, seed=seed, keep_model=keep_model)
    return res


@pytest.fixture(scope="session")
def small_scenario() -> Scenario:
    """The baseline with a small population and three years (a run takes well under a second)."""
    return Scenario.load("baseline").with_overrides(SMALL)


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    """The baseline preset as shipped."""
    return Scenario.load("baseline")


@pytest.fixture(scope="session")
def run_cached():
    """The session's memoised ``run(scenario, seed)``."""
    return cached_run


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root folder."""
    return ROOT
