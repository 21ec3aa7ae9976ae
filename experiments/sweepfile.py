"""Sweep files: what to run, read from TOML and validated.

Design note
-----------
A sweep file is data (TOML, never evaluated). It names a base scenario, fixed
overrides (top-level scenario keys such as ``years`` and the ``[set]`` table),
what to vary (a ``[vary]`` grid, a sampled ``[design]`` over ranges, or both,
crossed), the replications, the master seed, the indicators kept per step, a
per-run time limit and the retries of a failed run. Every scenario key and
value is checked by :mod:`sim.scenario` (``Scenario.with_overrides``) against
the one declaration in :mod:`sim.parameters`; this module never lists
parameters itself.

Every problem raises :class:`sim.errors.InputError` whose message names the
file, the key and what is allowed (values quoted short with
:func:`sim.scenario.show`, so a message stays one short paragraph);
``consim`` prints it and exits 2. The file is read by
:func:`sim.scenario.read_toml_file` (regular files only, at most 1 MiB,
UTF-8, nesting bounded).

Guards: ``run_function`` must lie in the packages ``sim`` or ``experiments``
unless the file sets ``allow_external_run_function = true`` (a sweep file
from elsewhere must not import and call arbitrary installed code); a sweep
plans at most :data:`MAX_RUNS` runs (checked before anything is sampled);
``time_limit`` is finite, positive and at most 30 days.

Format (all keys but ``base`` and ``seed`` optional)::

    name = "levers"                 # default: the file's stem
    description = "..."
    base = "baseline"               # preset name or scenario file (relative to this file)
    replications = 5                # >= 1, default 1
    seed = 12345                    # master seed, integer >= 0
    years = 10                      # any scenario key may be set at top level
    keep = ["firm_participation_rate"]  # indicators kept per step; default: all
    time_limit = 120                # seconds per run; default: none
    retries = 1                     # extra attempts of a failed run; default 1
    chunk_size = 10                 # runs per task; default: automatic
    run_function = "sim.run:run"    # "module:function" under sim. or experiments.
    allow_external_run_function = false  # true: run_function may name any importable module
    network_snapshots = true        # DIR/networks/<run_id>.json for replication 0 of each point

    [set]                           # fixed overrides for every run
    "labour_market.wage_compression" = 0.1

    [vary]                          # a grid: every combination
    "policy.subsidy.cost_share" = [0.0, 0.5]

    [design]                        # a sampled design, crossed with [vary]
    method = "lhs"                  # lhs | sobol | morris | factorial
    samples = 64                    # lhs: points; sobol: N (a power of 2); morris: trajectories
    levels = 3                      # factorial: levels per numeric range (default 2)
    num_levels = 4                  # morris grid levels (default 4)
    second_order = false            # sobol: Saltelli second-order terms (default false)
    [design.ranges]
    "policy.platform.placement_matching" = [0.0, 1.0]   # numeric: [low, high]
    "policy.credential.mode" = ["none", "portable"]      # choice/bool: the values

    [slurm]                         # defaults for --write-sbatch
    shards = 16
    cpus_per_task = 4
    time = "02:00:00"
    mem = "8G"
    partition = "compute"
    account = "myproject"
    setup = ["module load python/3.12"]
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import InputError
from sim.indicators import NAMES as INDICATOR_NAMES
from sim.parameters import BY_KEY
from sim.scenario import Scenario, read_toml_file, show

METHODS = ("lhs", "sobol", "morris", "factorial")
SWEEP_KEYS = ("name", "description", "base", "replications", "seed", "keep", "time_limit",
              "retries", "chunk_size", "run_function", "allow_external_run_function", "network_snapshots", "set",
              "vary", "design", "slurm")
DESIGN_KEYS = ("method", "samples", "ranges", "levels", "num_levels", "second_order")
SLURM_KEYS = ("shards", "cpus_per_task", "time", "mem", "partition", "account", "setup", "extra")
DEFAULT_RUN_FUNCTION = "sim.run:run"
#: Packages whose callables a sweep file may name as ``run_function`` without
#: ``allow_external_run_function = true`` (see the security note in docs/sweeps.md).
TRUSTED_RUN_PACKAGES = ("sim", "experiments")
#: Largest number of runs (design points x replications) a sweep may plan; the
#: plan is held in memory, so a typo such as ``samples = 1000000000000`` must
#: fail at once instead of exhausting memory.
MAX_RUNS = 10_000_000
#: Longest per-run time limit accepted (seconds; 30 days).
MAX_TIME_LIMIT = 2_592_000


@dataclass(frozen=True)
class DesignSpec:
    """A sampled design: method, sample size and ranges of the sampled keys."""

    method: str
    samples: int
    #: key -> (low, high) for numeric keys, or the list of values for choice/bool keys.
    ranges: dict[str, Any]
    levels: int = 2
    num_levels: int = 4
    second_order: bool = False


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep: everything needed to plan and run it."""

    path: str
    name: str
    description: str
    base_ref: str
    #: Base scenario with the top-level overrides and ``[set]`` applied.
    base: Scenario
    replications: int
    seed: int
    keep: tuple[str, ...]
    set: dict[str, Any]
    vary: dict[str, list[Any]]
    design: DesignSpec | None = None
    time_limit: float | None = None
    retries: int = 1
    chunk_size: int | None = None
    run_function: str = DEFAULT_RUN_FUNCTION
    slurm: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    #: The sweep file opted in to a ``run_function`` outside ``sim`` and ``experiments``.
    allow_external_run_function: bool = False
    #: Workers write a network snapshot for replication 0 of each design point.
    network_snapshots: bool = True

    @property
    def varied_keys(self) -> list[str]:
        """Keys that differ between design points: the grid's, then the design's."""
        return list(self.vary) + (list(self.design.ranges) if self.design else [])

    @property
    def digest(self) -> str:
        """Hash of the sweep file's text (recorded in the provenance)."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def resolve_run_function(ref: str) -> Callable[..., Any]:
    """Import ``"module:function"`` (the run function of a sweep)."""
    module, _, attr = ref.partition(":")
    fn = getattr(importlib.import_module(module), attr)
    if not callable(fn):
        raise TypeError(f"{ref} is not callable")
    return fn


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _flatten_scenario_table(table: Mapping[str, Any], where: str, prefix: str = "") -> dict[str, Any]:
    """Nested or dotted tables -> dotted scenario keys (validation is sim.scenario's)."""
    out: dict[str, Any] = {}
    for raw, value in table.items():
        key = f"{prefix}{raw}"
        if key not in BY_KEY and isinstance(value, dict):
            out.update(_flatten_scenario_table(value, where, key + "."))
        else:
            out[key] = value
    return out


def _check_scenario(base: Scenario, overrides: Mapping[str, Any], where: str) -> Scenario:
    """Validate overrides through :meth:`Scenario.with_overrides` (the one parameter list)."""
    return base.with_overrides(overrides, source=where)


def load_sweep(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; raises :class:`InputError` on any problem."""
    path = Path(path)
    data, text = read_toml_file(path, "sweep file")
    return parse_sweep(data, where=str(path), text=text, relative_to=path.parent)


def parse_sweep(data: Mapping[str, Any], where: str = "<sweep>", text: str = "",
                relative_to: Path | None = None) -> SweepSpec:
    """Validate a parsed sweep table (as from TOML) into a :class:`SweepSpec`."""
    data = dict(data)
    allowed_top = ", ".join(SWEEP_KEYS)

    # -- split sweep keys from top-level scenario overrides
    top_overrides: dict[str, Any] = {}
    for key in list(data):
        if key in SWEEP_KEYS:
            continue
        value = data.pop(key)
        flat = _flatten_scenario_table({key: value}, where)
        bad = [k for k in flat if k not in BY_KEY]
        if bad:
            close = (difflib.get_close_matches(bad[0], list(SWEEP_KEYS) + list(BY_KEY), n=2, cutoff=0.7)
                     if len(bad[0]) <= 200 else [])
            hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            name = bad[0] if len(bad[0]) <= 200 else show(bad[0])
            raise InputError(
                f"{where}: unknown key '{name}'.{hint} Allowed: the sweep keys ({allowed_top}) "
                "or a scenario key (`consim explain` lists them)."
            )
        top_overrides.update(flat)

    def bad(key: str, value: Any, allowed: str) -> InputError:
        return InputError(f"{where}: key '{key}': value {show(value)} is not allowed; allowed: {allowed}.")

    # -- simple keys
    if "base" not in data:
        raise InputError(f"{where}: key 'base' is missing; allowed: a preset name (e.g. \"baseline\") or a path to a scenario file.")
    base_ref = data["base"]
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise bad("base", base_ref, "a preset name or a path to a scenario file")
    if "seed" not in data:
        raise InputError(f"{where}: key 'seed' is missing; allowed: the master seed, an integer >= 0.")
    seed = data["seed"]
    if not _is_int(seed) or seed < 0:
        raise bad("seed", seed, "an integer >= 0")
    replications = data.get("replications", 1)
    if not _is_int(replications) or not 1 <= replications <= 1_000_000:
        raise bad("replications", replications, "an integer from 1 to 1000000")
    name = data.get("name", Path(where).stem if where != "<sweep>" else "sweep")
    if not isinstance(name, str) or not name.strip() or "/" in name:
        raise bad("name", name, "a non-empty string without '/'")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise bad("description", description, "a string")
    keep_raw = data.get("keep", "all")
    if keep_raw == "all":
        keep = tuple(INDICATOR_NAMES)
    elif keep_raw == "none":
        keep = ()
    elif isinstance(keep_raw, list) and all(isinstance(k, str) for k in keep_raw):
        unknown = [k for k in keep_raw if k not in INDICATOR_NAMES]
        if unknown:
            raise InputError(
                f"{where}: key 'keep': unknown indicator '{unknown[0]}'; allowed: \"all\", \"none\" "
                f"or a list of indicator names: {', '.join(INDICATOR_NAMES)}."
            )
        keep = tuple(dict.fromkeys(keep_raw))
    else:
        raise bad("keep", keep_raw, "\"all\", \"none\" or a list of indicator names")
    time_limit = data.get("time_limit")
    if time_limit is not None and (not _is_number(time_limit) or not math.isfinite(time_limit)
                                   or not 0 < time_limit <= MAX_TIME_LIMIT):
        raise bad("time_limit", time_limit, f"a finite number of seconds > 0 and at most {MAX_TIME_LIMIT:,} (30 days)")
    retries = data.get("retries", 1)
    if not _is_int(retries) or not 0 <= retries <= 100:
        raise bad("retries", retries, "an integer from 0 to 100")
    chunk_size = data.get("chunk_size")
    if chunk_size is not None and (not _is_int(chunk_size) or chunk_size < 1):
        raise bad("chunk_size", chunk_size, "an integer >= 1")
    run_function = data.get("run_function", DEFAULT_RUN_FUNCTION)
    if not isinstance(run_function, str) or ":" not in run_function:
        raise bad("run_function", run_function, "\"module:function\" (default \"sim.run:run\")")
    allow_external = data.get("allow_external_run_function", False)
    if not isinstance(allow_external, bool):
        raise bad("allow_external_run_function", allow_external, "true or false (default false)")
    network_snapshots = data.get("network_snapshots", True)
    if not isinstance(network_snapshots, bool):
        raise bad("network_snapshots", network_snapshots, "true or false (default true)")
    if not allow_external and not is_trusted_run_function(run_function):
        raise InputError(
            f"{where}: key 'run_function': value {show(run_function)} is not allowed; allowed: a function in "
            f"the packages {' or '.join(TRUSTED_RUN_PACKAGES)} (default \"sim.run:run\"), or any importable "
            "\"module:function\" when the sweep file also sets allow_external_run_function = true "
            "(see the security note in docs/sweeps.md)."
        )

    # -- base scenario and fixed overrides, validated by sim.scenario
    ref = base_ref
    if (ref.endswith(".toml") or "/" in ref) and relative_to is not None and not Path(ref).is_absolute():
        if (relative_to / ref).exists():  # a scenario file next to the sweep file
            ref = str(relative_to / ref)
    try:
        base = Scenario.load(ref)
    except InputError as e:
        raise InputError(f"{where}: key 'base' = {show(base_ref)}: {e}") from None
    set_raw = data.get("set", {})
    if not isinstance(set_raw, dict):
        raise bad("set", set_raw, "a table of scenario KEY = VALUE")
    set_flat = dict(top_overrides)
    set_flat.update(_flatten_scenario_table(set_raw, where))
    base = _check_scenario(base, set_flat, f"{where} [set]")
    set_clean = {k: base.get(k) for k in set_flat}

    # -- the grid
    vary_raw = data.get("vary", {})
    if not isinstance(vary_raw, dict):
        raise bad("vary", vary_raw, "a table of scenario KEY = [VALUE, ...]")
    vary: dict[str, list[Any]] = {}
    for key, values in _flatten_scenario_table(vary_raw, where).items():
        if key not in BY_KEY:
            _check_scenario(base, {key: None}, f"{where} [vary]")  # raises: unknown key
        if not isinstance(values, list) or not values:
            raise InputError(f"{where} [vary]: key '{key}': value {show(values)} is not allowed; "
                             f"allowed: a non-empty list of values, each {BY_KEY[key].allowed()}.")
        clean = [_check_scenario(base, {key: v}, f"{where} [vary]").get(key) for v in values]
        if len({repr(v) for v in clean}) != len(clean):
            raise InputError(f"{where} [vary]: key '{key}': values {show(values)} repeat; allowed: distinct values.")
        vary[key] = clean

    # -- the sampled design
    design = None
    if "design" in data:
        design = _parse_design(data["design"], base, where)
        both = set(vary) & set(design.ranges)
        if both:
            raise InputError(f"{where}: key '{sorted(both)[0]}' is both in [vary] and [design.ranges]; allowed: one of them.")
    clash = (set(vary) | set(design.ranges if design else {})) & set(set_flat)
    if clash:
        raise InputError(f"{where}: key '{sorted(clash)[0]}' is both fixed ([set] or top level) and varied; allowed: one of them.")

    _check_size(vary, design, replications, where)
    slurm = _parse_slurm(data.get("slurm", {}), where)
    return SweepSpec(path=where, name=name.strip(), description=description, base_ref=base_ref, base=base,
                     replications=replications, seed=seed, keep=keep, set=set_clean, vary=vary, design=design,
                     time_limit=float(time_limit) if time_limit is not None else None, retries=retries,
                     chunk_size=chunk_size, run_function=run_function, slurm=slurm, text=text,
                     allow_external_run_function=allow_external, network_snapshots=network_snapshots)


def planned_points(vary: Mapping[str, list[Any]], design: DesignSpec | None) -> int:
    """Number of design points the sweep will plan (an upper bound for ``factorial``), without sampling."""
    grid = math.prod(len(v) for v in vary.values())
    if design is None:
        return grid
    d = sum(isinstance(r, tuple) for r in design.ranges.values())
    if design.method == "lhs":
        sampled = design.samples
    elif design.method == "sobol":
        sampled = design.samples * ((2 * d + 2) if design.second_order else (d + 2))
    elif design.method == "morris":
        sampled = design.samples * (d + 1)
    else:  # factorial: levels per numeric range (fewer when integer levels coincide), every listed value
        sampled = math.prod(design.levels if isinstance(r, tuple) else len(r) for r in design.ranges.values())
    return grid * sampled


def _check_size(vary: Mapping[str, list[Any]], design: DesignSpec | None, replications: int, where: str) -> None:
    """Refuse a sweep of more than :data:`MAX_RUNS` runs before anything is sampled or allocated."""
    runs = planned_points(vary, design) * replications
    if runs <= MAX_RUNS:
        return
    grid = math.prod(len(v) for v in vary.values())
    sampled = planned_points({}, design) if design else 1
    if design is not None and sampled >= max(grid, replications):
        key = "design.levels" if design.method == "factorial" else "design.samples"
    elif grid >= replications:
        key = "vary"
    else:
        key = "replications"
    raise InputError(
        f"{where}: key '{key}': the sweep would plan {runs:,} runs ({grid:,} grid point(s) x {sampled:,} sampled "
        f"point(s) x {replications:,} replication(s)); allowed: at most {MAX_RUNS:,} runs in one sweep "
        "(split it into several sweeps)."
    )


def is_trusted_run_function(ref: str) -> bool:
    """Whether ``"module:function"`` lies in :data:`TRUSTED_RUN_PACKAGES` (no opt-in needed)."""
    module = ref.partition(":")[0].strip()
    return any(module == pkg or module.startswith(pkg + ".") for pkg in TRUSTED_RUN_PACKAGES)


def _parse_design(raw: Any, base: Scenario, where: str) -> DesignSpec:
    here = f"{where} [design]"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: key 'design': expected a table with {', '.join(DESIGN_KEYS)}.")
    for k in raw:
        if k not in DESIGN_KEYS:
            raise InputError(f"{here}: unknown key 'design.{k}'; allowed: {', '.join(DESIGN_KEYS)}.")
    method = raw.get("method")
    if method not in METHODS:
        raise InputError(f"{here}: key 'design.method': value {show(method)} is not allowed; allowed: one of {', '.join(METHODS)}.")
    samples = raw.get("samples", 0 if method == "factorial" else None)
    if not _is_int(samples) or (method != "factorial" and samples < 1) or samples < 0:
        raise InputError(f"{here}: key 'design.samples': value {show(samples)} is not allowed; allowed: an integer >= 1.")
    if method == "sobol" and samples & (samples - 1):
        raise InputError(f"{here}: key 'design.samples': value {show(samples)} is not allowed; "
                         "allowed for sobol: a power of 2 (Saltelli's N; the design has N*(D+2) points).")
    levels = raw.get("levels", 2)
    if not _is_int(levels) or levels < 2:
        raise InputError(f"{here}: key 'design.levels': value {show(levels)} is not allowed; allowed: an integer >= 2.")
    num_levels = raw.get("num_levels", 4)
    if not _is_int(num_levels) or num_levels < 2 or num_levels % 2:
        raise InputError(f"{here}: key 'design.num_levels': value {show(num_levels)} is not allowed; allowed: an even integer >= 2.")
    second_order = raw.get("second_order", False)
    if not isinstance(second_order, bool):
        raise InputError(f"{here}: key 'design.second_order': value {show(second_order)} is not allowed; allowed: true or false.")
    ranges_raw = raw.get("ranges")
    if not isinstance(ranges_raw, dict) or not ranges_raw:
        raise InputError(f"{here}: key 'design.ranges' is missing or empty; allowed: a table of KEY = [low, high].")
    ranges: dict[str, Any] = {}
    for key, rng in _flatten_scenario_table(ranges_raw, where).items():
        rhere = f"{where} [design.ranges]"
        if key not in BY_KEY:
            _check_scenario(base, {key: None}, rhere)  # raises: unknown key, with suggestions
        param = BY_KEY[key]
        if param.numeric:
            if (not isinstance(rng, list) or len(rng) != 2 or not all(_is_number(x) for x in rng)
                    or not rng[0] < rng[1]):
                raise InputError(f"{rhere}: key '{key}': value {show(rng)} is not allowed; allowed: [low, high] "
                                 f"with low < high, each {param.allowed()}.")
            lo = _check_scenario(base, {key: rng[0]}, rhere).get(key)
            hi = _check_scenario(base, {key: rng[1]}, rhere).get(key)
            ranges[key] = (lo, hi)
        elif param.kind in ("choice", "bool"):
            if not isinstance(rng, list) or len(rng) < 2:
                raise InputError(f"{rhere}: key '{key}': value {show(rng)} is not allowed; allowed: a list of at least "
                                 f"two values, each {param.allowed()}.")
            ranges[key] = [_check_scenario(base, {key: v}, rhere).get(key) for v in rng]
        else:
            raise InputError(f"{rhere}: key '{key}' ({param.kind}) cannot be sampled; allowed: numeric, choice "
                             "or bool keys (put list-valued keys in [vary]).")
    if method in ("sobol", "morris") and any(not isinstance(v, tuple) for v in ranges.values()):
        raise InputError(f"{here}: method {show(method)} samples numeric ranges only; allowed: [low, high] ranges "
                         "(put choice keys in [vary] or use lhs/factorial).")
    return DesignSpec(method=method, samples=samples, ranges=ranges, levels=levels, num_levels=num_levels,
                      second_order=second_order)


def _parse_slurm(raw: Any, where: str) -> dict[str, Any]:
    here = f"{where} [slurm]"
    if not isinstance(raw, dict):
        raise InputError(f"{where}: key 'slurm': expected a table with {', '.join(SLURM_KEYS)}.")
    out: dict[str, Any] = {}
    for k, v in raw.items():
        if k not in SLURM_KEYS:
            raise InputError(f"{here}: unknown key 'slurm.{k}'; allowed: {', '.join(SLURM_KEYS)}.")
        if k in ("shards", "cpus_per_task"):
            if not _is_int(v) or v < 1:
                raise InputError(f"{here}: key 'slurm.{k}': value {show(v)} is not allowed; allowed: an integer >= 1.")
        elif k in ("setup", "extra"):
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise InputError(f"{here}: key 'slurm.{k}': value {show(v)} is not allowed; allowed: a list of strings.")
        elif not isinstance(v, str) or not v.strip() or "\n" in v:
            raise InputError(f"{here}: key 'slurm.{k}': value {show(v)} is not allowed; allowed: a one-line string.")
        out[k] = v
    return out
