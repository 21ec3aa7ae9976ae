"""What a sweep varied: policy levers, uncertain parameters and the reference point.

Design note
-----------
A sweep's varied keys split in two. *Levers* are the ``policy.*`` keys of the
``[vary]`` grid (their group in :mod:`sim.parameters` is ``policy``): the
choices a government makes. *Uncertainties* are every other varied key (the
sampled ``[design]`` ranges and non-policy grid keys): things nobody chooses.
Because the grid is crossed with the design and replication ``r`` uses the
same seed at every point (common random numbers), every policy run has a
*paired* reference run: same uncertain values, same replication, same seed,
levers at the reference values.

The reference (baseline) setting of the levers is, unless given: the base
scenario's value of each lever when the grid contains it (``base.toml`` in
the result directory), else the grid's first value. A key whose every value
is a list or table (sector lists, schedules) is compared through its JSON text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.parameters import BY_KEY


@dataclass(frozen=True)
class SweepDesign:
    """The roles of a sweep's varied keys and the reference lever setting."""

    levers: list[str]
    uncertainties: list[str]
    reference: dict[str, Any]
    #: Keys sampled by a ``[design]`` (subset of ``uncertainties`` or levers).
    sampled: list[str] = field(default_factory=list)
    method: str | None = None
    #: How the reference was chosen ("base scenario", "first grid value", "given").
    reference_source: str = ""
    #: Firms in the city (anchor + SME) in the base scenario, for counting participants.
    base_firms: float | None = None
    base_values: dict[str, Any] = field(default_factory=dict)

    @property
    def varied(self) -> list[str]:
        """Every varied key (levers first)."""
        return self.levers + self.uncertainties


def hashable(value: Any) -> Any:
    """A value usable as a grouping key (lists and tables become JSON text)."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True)
    return value


def _base_values(results: Any) -> dict[str, Any]:
    path = results.dir / "base.toml"
    try:
        from sim.scenario import Scenario

        return Scenario.load(path).to_flat()
    except Exception:  # noqa: BLE001 - a missing or unreadable base only loses defaults
        return {}


def sweep_design(results: Any, levers: list[str] | None = None,
                 reference: dict[str, Any] | None = None) -> SweepDesign:
    """Classify the varied keys of ``results`` (an :class:`experiments.SweepResults`)."""
    sweep = results.sweep
    grid = list((sweep.get("vary") or {}).keys())
    design = sweep.get("design") or {}
    sampled = list((design.get("ranges") or {}).keys())
    varied = list(results.varied_keys)
    if levers is None:
        levers = [k for k in grid if k in BY_KEY and BY_KEY[k].group == "policy"]
    else:
        unknown = [k for k in levers if k not in varied]
        if unknown:
            raise ValueError(f"levers: {unknown[0]!r} is not a varied key; varied keys: {', '.join(varied)}")
    uncertainties = [k for k in varied if k not in levers]
    base = _base_values(results)
    pts = results.points
    ref: dict[str, Any] = {}
    source = "given" if reference else ""
    reference = dict(reference or {})
    for k in levers:
        values = [hashable(v) for v in pts[k]]
        if k in reference:
            if hashable(reference[k]) not in values:
                raise ValueError(f"reference: {k} = {reference[k]!r} is not a value of the sweep; values: "
                                 f"{sorted(set(map(str, values)))}")
            ref[k] = reference[k]
        elif k in base and hashable(base[k]) in values:
            ref[k] = base[k]
            source = source or "base scenario"
        else:
            ref[k] = (sweep.get("vary") or {}).get(k, list(pts[k]))[0]
            source = source or "first grid value"
    firms = None
    if "population.smes" in base and "population.anchor_firms" in base:
        firms = float(base["population.smes"]) + float(base["population.anchor_firms"])
    return SweepDesign(levers=levers, uncertainties=uncertainties, reference=ref, sampled=sampled,
                       method=design.get("method"), reference_source=source, base_firms=firms, base_values=base)


def firms_in(frame: pd.DataFrame, design: SweepDesign) -> pd.Series:
    """Number of firms (anchor + SME) behind each row: varied population keys, else the base's."""
    base = design.base_values
    smes = frame["population.smes"] if "population.smes" in frame else base.get("population.smes", float("nan"))
    anchors = (frame["population.anchor_firms"] if "population.anchor_firms" in frame
               else base.get("population.anchor_firms", float("nan")))
    out = pd.Series(smes, index=frame.index, dtype=float) + pd.Series(anchors, index=frame.index, dtype=float)
    return out


def describe_levers(values: dict[str, Any], short: bool = False) -> str:
    """``key = value, ...`` text for a lever setting (``short``: the key's last part only)."""
    from analysis.labels import fmt_key_value

    def name(k: str) -> str:
        return k.rsplit(".", 1)[-1] if short else k

    return ", ".join(f"{name(k)} = {fmt_key_value(k, v)}" for k, v in values.items()) or "–"
