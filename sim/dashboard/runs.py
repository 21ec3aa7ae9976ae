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
from functools import lru_cache
from typing import Any

import pandas as pd

from sim.parameters import BY_KEY, SCHEDULABLE
from sim.scenario import Scenario, preset_names, presets_dir

STEPS_PER_YEAR = 12


def months_done(model: Any) -> int:
    """Recorded months of ``model`` (its spin-up years, if any, do not count)."""
    return int(getattr(model, "recorded_steps", model.steps))


def model_class() -> type:
    """The model class (imported late so the dashboard module loads fast)."""
    from sim.model import ConsortiumModel

    return ConsortiumModel


def load_preset(name: str | None) -> Scenario:
    """A preset by name; ``None`` or an unknown name gives the model defaults.

    Presets are read once per file version (the page asks for them at every redraw).
    """
    if name and name in preset_names():
        path = presets_dir() / f"{name}.toml"
        return _load_preset_cached(name, str(path), path.stat().st_mtime_ns)
    return Scenario()


@lru_cache(maxsize=64)
def _load_preset_cached(name: str, path: str, mtime_ns: int) -> Scenario:
    return Scenario.load(name)


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


def with_change_from_year(scenario: Scenario, changes: dict[str, Any], year: int) -> Scenario:
    """``scenario`` with ``changes`` added to its ``policy.schedule`` from the start of ``year``."""
    schedule = [{"year": e["year"], "set": dict(e["set"])} for e in scenario.get("policy.schedule")]
    for entry in schedule:
        if entry["year"] == year:
            entry["set"].update(changes)
            break
    else:
        schedule.append({"year": year, "set": dict(changes)})
    return scenario.with_overrides({"policy.schedule": schedule}, source="dashboard")


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

    @property
    def next_year(self) -> int:
        """The first simulated year a change made now can apply to (it applies each September)."""
        return int(self.model.year) + 1 if self.steps else 1

    def can_change_from_next_year(self, keys: list[str]) -> bool:
        """Whether ``keys`` may change during this run from :attr:`next_year` on."""
        return bool(keys) and self.steps > 0 and all(k in SCHEDULABLE for k in keys) \
            and self.next_year <= int(self.scenario.get("years"))

    def with_change_from_next_year(self, changes: dict[str, Any]) -> ClassroomRun:
        """A copy of the run with ``changes`` scheduled from next year, replayed to the current month.

        The model is deterministic and a scheduled change acts only from the start
        of its year, so the replayed months are the months already shown.
        """
        scenario = with_change_from_year(self.scenario, changes, self.next_year)
        new = ClassroomRun(scenario, seed=self.seed, reference=self.reference)
        new.step(self.steps)
        return new

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
