"""A classroom run: the model with the students' settings, and its reference twin.

Design note
-----------
:class:`ClassroomRun` owns one :class:`sim.model.ConsortiumModel` built from
the current settings and, in compare mode, a second one built from a
reference scenario (the preset as loaded, or the baseline preset) with the
*same seed*. Both step together, month by month, so the difference between
their charts is the effect of the settings, not of chance. Nothing here
imports Solara: the app, the tests and the classroom exercises share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.parameters import BY_KEY
from sim.scenario import Scenario, preset_names

STEPS_PER_YEAR = 12


def months_done(model: Any) -> int:
    """Recorded months of ``model`` (its spin-up years, if any, do not count)."""
    return int(getattr(model, "recorded_steps", model.steps))


def model_class() -> type:
    """The model class (imported late so the dashboard module loads fast)."""
    from sim.model import ConsortiumModel

    return ConsortiumModel


def load_preset(name: str | None) -> Scenario:
    """A preset by name; ``None`` or an unknown name gives the model defaults."""
    if name and name in preset_names():
        return Scenario.load(name)
    return Scenario()


def default_preset() -> str | None:
    """The preset the dashboard opens with: ``baseline`` if present, else the first."""
    names = preset_names()
    if "baseline" in names:
        return "baseline"
    return names[0] if names else None


def changed_keys(base: Scenario, values: dict[str, Any]) -> list[str]:
    """Keys of ``values`` that differ from ``base`` (the settings a student moved)."""
    out = []
    for k, v in values.items():
        b = base.get(k)
        if isinstance(b, float) or isinstance(v, float):
            if abs(float(b) - float(v)) > 1e-12 * max(1.0, abs(float(b))):
                out.append(k)
        elif b != v:
            out.append(k)
    return out


def scenario_with(base: Scenario, values: dict[str, Any]) -> Scenario:
    """``base`` with the moved settings in ``values`` applied (validated)."""
    moved = {k: values[k] for k in changed_keys(base, values)}
    # Sliders give floats; int parameters need ints.
    for k, v in list(moved.items()):
        if BY_KEY[k].kind == "int":
            moved[k] = int(round(v))
    return base.with_overrides(moved, source="dashboard") if moved else base


@dataclass
class ClassroomRun:
    """The students' model and, optionally, the reference model, stepped together."""

    scenario: Scenario
    seed: int = 1
    reference: Scenario | None = None
    model: Any = field(init=False, repr=False)
    ref_model: Any = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        cls = model_class()
        self.model = cls(self.scenario, seed=self.seed)
        self.ref_model = cls(self.reference, seed=self.seed) if self.reference is not None else None

    @property
    def total_steps(self) -> int:
        """Months in the scenario (``years`` x 12)."""
        return int(self.scenario.get("years")) * STEPS_PER_YEAR

    @property
    def steps(self) -> int:
        """Months simulated so far (recorded months: year 1, September is month 1)."""
        return months_done(self.model)

    @property
    def finished(self) -> bool:
        """Whether the scenario's years are all simulated (or the model stopped)."""
        return self.steps >= self.total_steps or not getattr(self.model, "running", True)

    def step(self, months: int = 1) -> int:
        """Advance both models by up to ``months``; returns the months actually done."""
        done = 0
        for _ in range(months):
            if self.finished:
                break
            self.model.step()
            ref = self.ref_model
            if ref is not None and months_done(ref) < self.ref_model_total_steps and getattr(ref, "running", True):
                ref.step()
            done += 1
        return done

    @property
    def ref_model_total_steps(self) -> int:
        """Months in the reference scenario."""
        assert self.reference is not None
        return int(self.reference.get("years")) * STEPS_PER_YEAR

    def timeseries(self) -> pd.DataFrame:
        """The students' run, one row per month so far."""
        return _frame(self.model)

    def ref_timeseries(self) -> pd.DataFrame | None:
        """The reference run, one row per month so far (None without a reference)."""
        return _frame(self.ref_model) if self.ref_model is not None else None


def _frame(model: Any) -> pd.DataFrame:
    if months_done(model) == 0:
        return pd.DataFrame()
    return model.timeseries()
