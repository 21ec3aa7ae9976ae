"""The test base class every agent type's tests inherit (the Axelrod pattern).

A subclass of :class:`AgentTypeTests` declares one agent type:

* ``agent_class``: the Mesa agent class;
* ``expected_count(scenario)``: how many agents of the type a scenario builds;
* ``attributes``: public attributes whose values define the agent's state, compared
  between runs;
* ``stochastic``: whether different seeds should give different attribute values;
* ``check_traits(model, agents)``: the type's declared traits (called on a baseline
  model after a few years), each an assertion about behaviour.

The inherited tests check that the agents exist with the declared count, that
the same seed gives the same attribute values after ``STEPS`` months (and a
different seed different ones), that a model pickles and unpickles with
identical state and continues identically, that the declared traits hold, and
that the class docstring opens with a decision-rule paragraph citing a source.
"""

from __future__ import annotations

import inspect
import pickle
import re

import numpy as np
import pytest

from sim import Scenario
from sim.model import ConsortiumModel

#: Months stepped after the warm-up before comparing states.
STEPS = 14

#: A citation: "Author 1998", "Author & Other 2000", "Author et al. 2007", or the field study.
CITATION = re.compile(r"[A-Z][A-Za-z\-]+(?: (?:&|and) [A-Z][A-Za-z\-]+| et al\.)?,? (?:19|20)\d{2}|the study")
#: A docstring that hands its decision rule to another class: "Its decision rule is :class:`Firm`'s".
DELEGATES = re.compile(r"decision rule is :class:`~?([\w.]+)`")


def model_for(scenario: Scenario, seed: int, steps: int = STEPS) -> ConsortiumModel:
    """A model built from ``scenario`` (warm-up included) and stepped ``steps`` months."""
    m = ConsortiumModel(scenario, seed=seed)
    for _ in range(steps):
        m.step()
    return m


def decision_rule_paragraph(cls: type) -> str:
    """The class docstring's opening: its summary line and first paragraph, whitespace-normalised."""
    doc = inspect.cleandoc(cls.__doc__ or "")
    paragraphs = [p for p in re.split(r"\n\s*\n", doc) if p.strip()]
    return " ".join(" ".join(paragraphs[:2]).split())


class AgentTypeTests:
    """Inherited checks for one agent type. Subclasses set the class attributes below."""

    agent_class: type
    attributes: tuple[str, ...] = ()
    stochastic: bool = True
    #: Scenario the generic tests build (the baseline, a few years).
    scenario_name: str = "baseline"

    @staticmethod
    def expected_count(scenario: Scenario) -> int:  # pragma: no cover - always overridden
        raise NotImplementedError

    def check_traits(self, model: ConsortiumModel, agents: list) -> None:  # pragma: no cover
        raise NotImplementedError

    # ------------------------------------------------------------ helpers
    @pytest.fixture(scope="class")
    @classmethod
    def scenario(cls) -> Scenario:
        return Scenario.load(cls.scenario_name).with_overrides({"years": 3})

    @pytest.fixture(scope="class")
    @classmethod
    def model(cls, scenario) -> ConsortiumModel:
        return model_for(scenario, seed=11)

    def agents_of(self, model: ConsortiumModel) -> list:
        """Agents of exactly this type, by unique_id."""
        return sorted(model.agents_by_type.get(self.agent_class, []), key=lambda a: a.unique_id)

    def state(self, model: ConsortiumModel) -> dict[str, list]:
        """Every declared attribute of every agent of the type."""
        agents = self.agents_of(model)
        return {name: [_plain(getattr(a, name)) for a in agents] for name in self.attributes}

    # ------------------------------------------------------------ inherited tests
    def test_declared_attributes_are_readable_values(self, model):
        assert self.attributes, "declare the attributes that make up the agent's state"
        agents = self.agents_of(model)
        assert agents
        for name in self.attributes:
            values = [getattr(a, name) for a in agents]
            assert not any(callable(v) for v in values), f"{name} is a method, not a value"

    def test_count_matches_scenario(self, model, scenario):
        agents = self.agents_of(model)
        assert len(agents) == self.expected_count(scenario)
        assert all(type(a) is self.agent_class for a in agents)
        assert all(a.model is model for a in agents)

    def test_count_follows_population_keys(self, small_scenario):
        m = ConsortiumModel(small_scenario, seed=2)
        assert len(self.agents_of(m)) == self.expected_count(small_scenario)

    def test_same_seed_same_state(self, scenario, model):
        again = model_for(scenario, seed=11)
        assert self.state(again) == self.state(model)

    def test_different_seed_different_state(self, scenario, model):
        other = model_for(scenario, seed=12)
        if self.stochastic:
            assert self.state(other) != self.state(model)
        else:
            assert self.state(other) == self.state(model)

    def test_pickle_round_trip(self, scenario):
        m = model_for(scenario, seed=5, steps=5)
        clone = pickle.loads(pickle.dumps(m))
        assert self.state(clone) == self.state(m)
        assert clone.current_indicators() == m.current_indicators()
        # the generator's state travels too: both continue identically
        for _ in range(13):
            m.step()
            clone.step()
        assert self.state(clone) == self.state(m)
        assert clone.current_indicators() == m.current_indicators()
        assert len(self.agents_of(clone)) == len(self.agents_of(m))

    def test_declared_traits(self, model):
        self.check_traits(model, self.agents_of(model))

    def test_docstring_states_decision_rule_with_reference(self):
        text = decision_rule_paragraph(self.agent_class)
        delegate = DELEGATES.search(text)
        if delegate:  # "Its decision rule is :class:`Firm`'s": the rule lives in a base class
            name = delegate.group(1).rsplit(".", 1)[-1]
            bases = {c.__name__: c for c in self.agent_class.__mro__}
            assert name in bases, f"{self.agent_class.__name__} delegates its rule to {name}, not a base class"
            text = decision_rule_paragraph(bases[name])
        assert re.search(r"\brule\b", text, re.IGNORECASE), f"no decision rule in: {text[:200]}"
        assert CITATION.search(text), f"{self.agent_class.__name__}: the decision rule cites no source: {text[:300]}"


def _plain(v):
    """Comparable plain value (numpy scalars and arrays to Python)."""
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v
