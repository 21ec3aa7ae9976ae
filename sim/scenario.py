"""Scenarios: validated parameter sets loaded from TOML.

Design note
-----------
A scenario file is data: TOML is parsed with :mod:`tomllib`, and nothing in it
is ever evaluated as code. Keys may be written as nested tables
(``[policy.subsidy] cost_share = 0.5``) or as quoted dotted keys
(``"policy.subsidy.cost_share" = 0.5``); both flatten to the dotted keys that
:mod:`sim.parameters` declares. A file may start from another with
``base = "baseline"`` (a preset name or a path relative to the file), and may
carry a ``[meta]`` table with ``title``, ``title_zh``, ``description``,
``description_zh`` and ``lang`` (``"zh"`` asks the dashboard for Chinese).

Every problem raises :class:`ScenarioError`, whose message names the file, the
key, the value and what is allowed; the command line prints it and exits 2.
"""

from __future__ import annotations

import difflib
import math
import os
import reprlib
import stat
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.parameters import BY_KEY, PARAMETERS, SCHEDULABLE, Param, defaults

META_KEYS = ("title", "title_zh", "description", "description_zh", "lang")
#: Largest number of firms + schools a scenario may ask for (memory guard; a
#: 100x city is about 31,000).
MAX_AGENTS = 2_000_000
#: Largest number of final-year students per year a scenario may ask for.
MAX_STUDENTS_PER_YEAR = 50_000_000
#: Largest scenario file read (presets are a few kilobytes; guards against a
#: huge or endless file such as ``base = "/dev/zero"``).
MAX_FILE_BYTES = 1_048_576
#: Longest chain of ``base`` files.
MAX_BASE_DEPTH = 10
#: Longest file name or preset name accepted in ``base`` or on the command line.
MAX_NAME_CHARS = 4096

_SHORT = reprlib.Repr(maxstring=80, maxother=80, maxlist=6, maxtuple=6, maxdict=4, maxlevel=2)


def show(value: Any) -> str:
    """A short ``repr`` of a value for error messages (long strings and lists elided)."""
    return _SHORT.repr(value)


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
                f"{where}: unknown key '{show(key)[1:-1]}'.{_did_you_mean(key, BY_KEY)} "
                f"`consim explain` lists the keys."
            )
    return out


def coerce(param: Param, value: Any, where: str) -> Any:
    """Check ``value`` against ``param`` and return it in canonical form."""
    bad = f"{where}: key '{param.key}': value {show(value)} is not allowed; allowed: {param.allowed()}."
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
            raise ScenarioError(f"{where}: key '{param.key}': sector names repeat in {show(value)}; allowed: distinct names.")
        if len(value) > 1000:
            raise ScenarioError(f"{where}: key '{param.key}': {len(value)} sectors; allowed: at most 1000.")
        return list(value)
    if kind == "schedule":
        return _coerce_schedule(value, where)
    raise AssertionError(kind)  # pragma: no cover


def _coerce_schedule(value: Any, where: str) -> list[dict[str, Any]]:
    key = "policy.schedule"
    if not isinstance(value, list):
        raise ScenarioError(f"{where}: key '{key}': expected a list of tables {{year = Y, set = {{KEY = VALUE}}}}, got {show(value)}.")
    out = []
    for i, entry in enumerate(value):
        here = f"{where}: key '{key}[{i}]'"
        if not isinstance(entry, dict) or set(entry) - {"year", "set"} or "year" not in entry or "set" not in entry:
            raise ScenarioError(f"{here}: each entry needs exactly 'year' (integer >= 1) and 'set' (a table of KEY = VALUE); got {show(entry)}.")
        year = entry["year"]
        if isinstance(year, bool) or not isinstance(year, int) or year < 1:
            raise ScenarioError(f"{here}.year': value {show(year)} is not allowed; allowed: an integer >= 1.")
        changes = entry["set"]
        if not isinstance(changes, dict):
            raise ScenarioError(f"{here}.set': expected a table of KEY = VALUE, got {show(changes)}.")
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


def read_toml_file(path: Path, what: str = "scenario file", max_bytes: int = MAX_FILE_BYTES) -> tuple[dict[str, Any], str]:
    """Read a UTF-8 TOML file defensively; return (table, text) or raise :class:`InputError`.

    Refuses anything but a regular file (directories, devices such as
    ``/dev/zero``, pipes), files over ``max_bytes``, text that is not UTF-8,
    invalid TOML and TOML nested too deeply to parse. The message names the
    file. The sweep-file loader can use it too (``what="sweep file"``).
    """
    name = show(str(path)) if len(str(path)) > MAX_NAME_CHARS else str(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        hint = f" Presets: {', '.join(preset_names()) or 'none'}." if what == "scenario file" else ""
        raise InputError(f"{name}: no such {what}.{hint}") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory, not a {what}.") from None
    except (OSError, ValueError) as e:
        reason = getattr(e, "strerror", None) or str(e)
        raise InputError(f"{name}: cannot read: {reason}.") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{name}: is a directory, not a {what}.")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{name}: not a regular file (a device, pipe or socket); allowed: a {what} (.toml).")
        if info.st_size > max_bytes:
            raise InputError(f"{name}: {info.st_size:,} bytes; allowed: a {what} of at most {max_bytes:,} bytes.")
        with os.fdopen(fd, "rb", closefd=False) as f:
            raw = f.read(max_bytes + 1)
    except OSError as e:
        raise InputError(f"{name}: cannot read: {e.strerror}.") from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise InputError(f"{name}: more than {max_bytes:,} bytes; allowed: a {what} of at most {max_bytes:,} bytes.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{name}: not UTF-8 text (byte {e.start}); a {what} must be UTF-8 TOML.") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as e:
        raise InputError(f"{name}: not valid TOML: {e}.") from None
    except RecursionError:
        raise InputError(f"{name}: not valid TOML here: arrays or tables nested too deeply to read.") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return read_toml_file(path)[0]
    except ScenarioError:
        raise
    except InputError as e:
        raise ScenarioError(str(e)) from None


def _exists(p: Path) -> bool:
    try:
        return p.exists()
    except (OSError, ValueError):
        return False


def _resolve_source(source: str | os.PathLike[str], relative_to: Path | None = None) -> Path:
    s = str(source)
    if not s.strip() or "\x00" in s or len(s) > MAX_NAME_CHARS:
        raise ScenarioError(
            f"{show(s)}: not a usable preset name or file name; allowed: a preset name "
            f"({', '.join(preset_names()) or 'none'}) or a path to a .toml file."
        )
    p = Path(s)
    if s.endswith(".toml") or os.sep in s or "/" in s:
        if not p.is_absolute() and relative_to is not None and not _exists(p):
            cand = relative_to / p
            if _exists(cand):
                return cand
        return p
    preset = presets_dir() / f"{s}.toml"
    if _exists(preset):
        return preset
    if _exists(p):
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
                raise ScenarioError(f"{source}: unknown key '{show(k)[1:-1]}'.{_did_you_mean(k, BY_KEY)}")
            merged[k] = coerce(BY_KEY[k], v, source)
        self._values = merged
        self.source = source
        self.meta = dict(meta or {})
        _check_consistency(merged, source)

    # ------------------------------------------------------------ construction
    @classmethod
    def load(cls, source: str | os.PathLike[str]) -> Scenario:
        """Load a scenario from a ``.toml`` path or a preset name (``"baseline"``)."""
        return cls._load(_resolve_source(source), seen=())

    @classmethod
    def _load(cls, path: Path, seen: tuple[Path, ...]) -> Scenario:
        try:
            real = path.resolve()
        except (OSError, RuntimeError, ValueError):
            real = path.absolute()
        if real in seen:
            raise ScenarioError(f"{path}: key 'base': scenarios inherit in a circle ({' -> '.join(map(str, seen + (real,)))}).")
        if len(seen) >= MAX_BASE_DEPTH:
            raise ScenarioError(f"{path}: key 'base': more than {MAX_BASE_DEPTH} scenario files inherit from each other; "
                                f"allowed: a chain of at most {MAX_BASE_DEPTH}.")
        data = _read_toml(path)
        where = str(path)
        values: dict[str, Any] = {}
        meta: dict[str, str] = {}
        if "base" in data:
            base_ref = data.pop("base")
            if not isinstance(base_ref, str):
                raise ScenarioError(f"{where}: key 'base': value {show(base_ref)} is not allowed; allowed: a preset name or a path to a .toml file.")
            try:
                base = cls._load(_resolve_source(base_ref, relative_to=path.parent), seen + (real,))
            except ScenarioError as e:
                raise ScenarioError(f"{where}: key 'base' = {show(base_ref)}: {e}") from None
            values.update(base.to_flat())
        if "meta" in data:
            m = data.pop("meta")
            if not isinstance(m, dict):
                raise ScenarioError(f"{where}: key 'meta': expected a table with {', '.join(META_KEYS)}.")
            for k, v in m.items():
                if k not in META_KEYS:
                    raise ScenarioError(f"{where}: unknown key 'meta.{show(k)[1:-1]}'.{_did_you_mean(k, META_KEYS)} Allowed: {', '.join(META_KEYS)}.")
                if not isinstance(v, str):
                    raise ScenarioError(f"{where}: key 'meta.{k}': value {show(v)} is not allowed; allowed: a string.")
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
                raise ScenarioError(f"{source}: unknown key '{show(k)[1:-1]}'.{_did_you_mean(k, BY_KEY)} `consim explain` lists the keys.")
            values[k] = coerce(BY_KEY[k], v, source)
        _check_consistency(values, source)
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

def _check_consistency(v: Mapping[str, Any], where: str) -> None:
    """Checks across keys (population size); the message names ``where`` (file or override source)."""
    n_agents = (v["population.schools.secondary"] + v["population.schools.higher"]
                + v["population.schools.undergraduate"] + v["population.anchor_firms"] + v["population.smes"])
    if n_agents > MAX_AGENTS:
        raise ScenarioError(
            f"{where}: key 'population': {n_agents:,} schools and firms; allowed: at most {MAX_AGENTS:,} in one model."
        )
    students = sum(v[f"population.schools.{t}"] * v[f"population.cohort_size.{t}"]
                   for t in ("secondary", "higher", "undergraduate"))
    if students > MAX_STUDENTS_PER_YEAR:
        raise ScenarioError(
            f"{where}: key 'population.cohort_size': {students:,} final-year students a year; "
            f"allowed: at most {MAX_STUDENTS_PER_YEAR:,}."
        )
    # Schedule entries after the last simulated year are allowed and never apply
    # (so `--years` can shorten a scheduled scenario).


def parse_override(text: str, where: str = "--set") -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` from the command line; VALUE is a TOML literal or a bare word."""
    if "=" not in text:
        raise ScenarioError(f"{where}: {show(text)} is not KEY=VALUE (for example policy.subsidy.cost_share=0.5).")
    key, raw = text.split("=", 1)
    key, raw = key.strip(), raw.strip()
    if key not in BY_KEY:
        raise ScenarioError(f"{where}: unknown key '{show(key)[1:-1]}'.{_did_you_mean(key, BY_KEY)} `consim explain` lists the keys.")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key, coerce(BY_KEY[key], value, where)
