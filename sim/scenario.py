"""Scenarios: validated parameter sets loaded from TOML.

Design note
-----------
A scenario file is data: TOML is parsed with :mod:`tomllib`, and nothing in it
is ever evaluated as code. Keys may be written as nested tables
(``[policy.subsidy] cost_share = 0.5``) or as quoted dotted keys
(``"policy.subsidy.cost_share" = 0.5``); both flatten to the dotted keys that
:mod:`sim.parameters` declares. A file may start from another with
``base = "baseline"`` (a preset name or a path relative to the file), and may
carry a ``[meta]`` table with ``title``, ``title_zh``, ``description`` and
``description_zh``.

Every problem raises :class:`ScenarioError`, whose message names the file, the
key, the value and what is allowed; the command line prints it and exits 2.
"""

from __future__ import annotations

import difflib
import math
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.parameters import BY_KEY, PARAMETERS, SCHEDULABLE, Param, defaults

META_KEYS = ("title", "title_zh", "description", "description_zh")
#: Largest number of firms + schools a scenario may ask for (memory guard; a
#: 100x city is about 31,000).
MAX_AGENTS = 2_000_000
#: Largest number of final-year students per year a scenario may ask for.
MAX_STUDENTS_PER_YEAR = 50_000_000


class ScenarioError(InputError):
    """A scenario file or override is invalid; the message says where and why."""


def presets_dir() -> Path:
    """Folder holding the preset scenario files (``$CONSIM_SCENARIOS`` overrides)."""
    env = os.environ.get("CONSIM_SCENARIOS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "scenarios"


def preset_names() -> list[str]:
    """Names of the bundled presets, sorted."""
    d = presets_dir()
    return sorted(p.stem for p in d.glob("*.toml")) if d.is_dir() else []


def _did_you_mean(key: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(key, list(options), n=3, cutoff=0.6)
    if not close:
        tail = key.rsplit(".", 1)[-1]
        close = [k for k in options if k.rsplit(".", 1)[-1] == tail][:3]
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _flatten(table: Mapping[str, Any], where: str, prefix: str = "") -> dict[str, Any]:
    """Flatten nested tables into dotted keys, stopping at declared parameters."""
    out: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = f"{prefix}{raw_key}"
        if key in BY_KEY:
            out[key] = value
        elif isinstance(value, dict) and any(k.startswith(key + ".") for k in BY_KEY):
            out.update(_flatten(value, where, key + "."))
        elif "." in raw_key and prefix == "" and isinstance(value, dict):
            out.update(_flatten(value, where, key + "."))
        else:
            raise ScenarioError(
                f"{where}: unknown key '{key}'.{_did_you_mean(key, BY_KEY)} "
                f"`consim explain` lists the keys."
            )
    return out


def coerce(param: Param, value: Any, where: str) -> Any:
    """Check ``value`` against ``param`` and return it in canonical form."""
    bad = f"{where}: key '{param.key}': value {value!r} is not allowed; allowed: {param.allowed()}."
    kind = param.kind
    if kind in ("int", "float", "share"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(bad)
        if isinstance(value, float) and not math.isfinite(value):
            raise ScenarioError(bad)
        if kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ScenarioError(bad)
                value = int(value)
        else:
            value = float(value)
        if (param.low is not None and value < param.low) or (param.high is not None and value > param.high):
            raise ScenarioError(bad.replace("is not allowed", "is out of range"))
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise ScenarioError(bad)
        return value
    if kind == "choice":
        if not isinstance(value, str) or value not in param.choices:
            raise ScenarioError(bad)
        return value
    if kind == "str_list":
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            raise ScenarioError(bad.replace("allowed: a list", "allowed: a non-empty list") + " (non-empty names)")
        if len(set(value)) != len(value):
            raise ScenarioError(f"{where}: key '{param.key}': sector names repeat in {value!r}; allowed: distinct names.")
        if len(value) > 1000:
            raise ScenarioError(f"{where}: key '{param.key}': {len(value)} sectors; allowed: at most 1000.")
        return list(value)
    if kind == "schedule":
        return _coerce_schedule(value, where)
    raise AssertionError(kind)  # pragma: no cover


def _coerce_schedule(value: Any, where: str) -> list[dict[str, Any]]:
    key = "policy.schedule"
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: key '{key}': expected a list of tables {{year = Y, set = {{KEY = VALUE}}}}, got {value!r}.")
    out = []
    for i, entry in enumerate(value):
        here = f"{where}: key '{key}[{i}]'"
        if not isinstance(entry, dict) or set(entry) - {"year", "set"} or "year" not in entry or "set" not in entry:
            raise ScenarioError(f"{here}: each entry needs exactly 'year' (integer >= 1) and 'set' (a table of KEY = VALUE); got {entry!r}.")
        year = entry["year"]
        if isinstance(year, bool) or not isinstance(year, int) or year < 1:
            raise ScenarioError(f"{here}.year': value {year!r} is not allowed; allowed: an integer >= 1.")
        changes = entry["set"]
        if not isinstance(changes, dict):
            raise ScenarioError(f"{here}.set': expected a table of KEY = VALUE, got {changes!r}.")
        flat = _flatten(changes, f"{where} (policy.schedule[{i}].set)")
        clean = {}
        for k, v in flat.items():
            if k not in SCHEDULABLE:
                raise ScenarioError(
                    f"{where}: key 'policy.schedule[{i}].set.{k}': cannot change during a run; "
                    "allowed: keys that are not fixed at build time (not population, network or initial-condition keys)."
                )
            clean[k] = coerce(BY_KEY[k], v, f"{where} (policy.schedule[{i}])")
        out.append({"year": year, "set": clean})
    return sorted(out, key=lambda e: e["year"])


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file. Presets: {', '.join(preset_names()) or 'none'}.") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, not a scenario file.") from None
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e.strerror}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{path}: not UTF-8 text (byte {e.start}); scenario files must be UTF-8 TOML.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ScenarioError(f"{path}: not valid TOML: {e}.") from None


def _resolve_source(source: str | os.PathLike[str], relative_to: Path | None = None) -> Path:
    s = str(source)
    p = Path(s)
    if s.endswith(".toml") or os.sep in s or "/" in s:
        if not p.is_absolute() and relative_to is not None and not p.exists():
            cand = relative_to / p
            if cand.exists():
                return cand
        return p
    preset = presets_dir() / f"{s}.toml"
    if preset.exists():
        return preset
    if p.exists():
        return p
    raise ScenarioError(
        f"{s}: no such preset or file.{_did_you_mean(s, preset_names())} Presets: {', '.join(preset_names()) or 'none'}."
    )


class Scenario:
    """A complete, validated set of parameter values.

    Build one with :meth:`load` (file or preset name), :meth:`from_dict` or
    ``Scenario()`` (all defaults); derive variants with :meth:`with_overrides`.
    Scenarios are immutable values.
    """

    __slots__ = ("_values", "source", "meta")

    def __init__(self, values: Mapping[str, Any] | None = None, *, source: str = "<defaults>",
                 meta: Mapping[str, str] | None = None) -> None:
        merged = defaults()
        for k, v in (values or {}).items():
            if k not in BY_KEY:
                raise ScenarioError(f"{source}: unknown key '{k}'.{_did_you_mean(k, BY_KEY)}")
            merged[k] = coerce(BY_KEY[k], v, source)
        self._values = merged
        self.source = source
        self.meta = dict(meta or {})
        self._check_consistency()

    # ------------------------------------------------------------ construction
    @classmethod
    def load(cls, source: str | os.PathLike[str]) -> Scenario:
        """Load a scenario from a ``.toml`` path or a preset name (``"baseline"``)."""
        return cls._load(_resolve_source(source), seen=())

    @classmethod
    def _load(cls, path: Path, seen: tuple[Path, ...]) -> Scenario:
        real = path.resolve()
        if real in seen:
            raise ScenarioError(f"{path}: key 'base': scenarios inherit in a circle ({' -> '.join(map(str, seen + (real,)))}).")
        data = _read_toml(path)
        where = str(path)
        values: dict[str, Any] = {}
        meta: dict[str, str] = {}
        if "base" in data:
            base_ref = data.pop("base")
            if not isinstance(base_ref, str):
                raise ScenarioError(f"{where}: key 'base': value {base_ref!r} is not allowed; allowed: a preset name or a path to a .toml file.")
            try:
                base = cls._load(_resolve_source(base_ref, relative_to=path.parent), seen + (real,))
            except ScenarioError as e:
                raise ScenarioError(f"{where}: key 'base' = {base_ref!r}: {e}") from None
            values.update(base.to_flat())
        if "meta" in data:
            m = data.pop("meta")
            if not isinstance(m, dict):
                raise ScenarioError(f"{where}: key 'meta': expected a table with {', '.join(META_KEYS)}.")
            for k, v in m.items():
                if k not in META_KEYS:
                    raise ScenarioError(f"{where}: unknown key 'meta.{k}'.{_did_you_mean(k, META_KEYS)} Allowed: {', '.join(META_KEYS)}.")
                if not isinstance(v, str):
                    raise ScenarioError(f"{where}: key 'meta.{k}': value {v!r} is not allowed; allowed: a string.")
                meta[k] = v
        flat = _flatten(data, where)
        for k, v in flat.items():
            values[k] = coerce(BY_KEY[k], v, where)
        return cls(values, source=where, meta=meta)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>") -> Scenario:
        """Build from nested or dotted mappings, as in a TOML file."""
        data = dict(data)
        meta = data.pop("meta", {}) or {}
        data.pop("base", None)
        return cls(_flatten(data, source), source=source, meta=meta)

    def with_overrides(self, overrides: Mapping[str, Any], source: str = "overrides") -> Scenario:
        """A new scenario with the dotted-key ``overrides`` applied and validated."""
        values = dict(self._values)
        for k, v in overrides.items():
            if k not in BY_KEY:
                raise ScenarioError(f"{source}: unknown key '{k}'.{_did_you_mean(k, BY_KEY)} `consim explain` lists the keys.")
            values[k] = coerce(BY_KEY[k], v, source)
        return Scenario(values, source=self.source, meta=self.meta)

    # ------------------------------------------------------------ access
    def get(self, key: str) -> Any:
        """One value by dotted key."""
        try:
            v = self._values[key]
        except KeyError:
            raise ScenarioError(f"unknown key '{key}'.{_did_you_mean(key, BY_KEY)}") from None
        return list(v) if isinstance(v, list) else v

    def __getitem__(self, key: str) -> Any:
        return self.get(key)

    def to_flat(self) -> dict[str, Any]:
        """Every key to its value, dotted."""
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self._values.items()}

    def to_dict(self) -> dict[str, Any]:
        """The whole resolved scenario as nested dicts."""
        out: dict[str, Any] = {}
        for k, v in self._values.items():
            node = out
            parts = k.split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = v
        return out

    def to_toml(self) -> str:
        """The resolved scenario as TOML text (loads back to an equal scenario)."""
        import tomli_w

        doc: dict[str, Any] = {}
        if self.meta:
            doc["meta"] = dict(self.meta)
        doc.update(self.to_dict())
        return tomli_w.dumps(doc)

    @staticmethod
    def keys() -> list[Param]:
        """Every declared parameter (key, type, unit, default, range, meaning)."""
        return list(PARAMETERS)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Scenario) and self._values == other._values

    def __hash__(self) -> int:
        return hash(repr(sorted((k, repr(v)) for k, v in self._values.items())))

    def __repr__(self) -> str:
        return f"Scenario(source={self.source!r}, title={self.meta.get('title', '')!r})"

    # ------------------------------------------------------------ checks
    def _check_consistency(self) -> None:
        v = self._values
        n_agents = (v["population.schools.secondary"] + v["population.schools.higher"]
                    + v["population.schools.undergraduate"] + v["population.anchor_firms"] + v["population.smes"])
        if n_agents > MAX_AGENTS:
            raise ScenarioError(
                f"{self.source}: key 'population': {n_agents:,} schools and firms; allowed: at most {MAX_AGENTS:,} in one model."
            )
        students = sum(v[f"population.schools.{t}"] * v[f"population.cohort_size.{t}"]
                       for t in ("secondary", "higher", "undergraduate"))
        if students > MAX_STUDENTS_PER_YEAR:
            raise ScenarioError(
                f"{self.source}: key 'population.cohort_size': {students:,} final-year students a year; "
                f"allowed: at most {MAX_STUDENTS_PER_YEAR:,}."
            )
        # Schedule entries after the last simulated year are allowed and never apply
        # (so `--years` can shorten a scheduled scenario).


def parse_override(text: str, where: str = "--set") -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from the command line; VALUE is a TOML literal or a bare word."""
    if "=" not in text:
        raise ScenarioError(f"{where}: {text!r} is not KEY=VALUE (for example policy.subsidy.cost_share=0.5).")
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if key not in BY_KEY:
        raise ScenarioError(f"{where}: unknown key '{key}'.{_did_you_mean(key, BY_KEY)} `consim explain` lists the keys.")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, coerce(BY_KEY[key], value, where)
