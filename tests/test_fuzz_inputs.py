"""Fuzzing of scenario and sweep files: hostile input ends in a clear error or a correct load.

More than a thousand hostile files are generated deterministically (a fixed
numpy seed) by mutating the preset scenarios (``scenarios/*.toml``), the
example sweep files (``experiments/examples/*.toml``) and a few sweep files
written here: truncation, byte flips, invalid UTF-8, GBK and UTF-16 text, NUL
bytes, wrong types, misspelt and unknown keys, deleted keys, NaN and
infinities, negative and 1e300 values, huge populations, huge lists and
strings, deep nesting, empty and whitespace files, directories instead of
files, and ``base`` cycles and odd targets.

Every case goes through the Python entry points in-process
(:meth:`sim.scenario.Scenario.load`, :func:`experiments.sweepfile.load_sweep`)
and must either load or raise :class:`sim.errors.InputError` whose message is
one paragraph (no blank line, no traceback, at most ``MAX_MESSAGE`` characters),
names the file, and names the key when the mutation involved one. A sample
of about thirty cases also goes through the real command line (``consim run``
and ``consim sweep``): exit status 2, no traceback, and an existing output
directory left exactly as it was.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
import os
import subprocess
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w
from processes import consim_command

from experiments.sweepfile import load_sweep
from sim.errors import InputError
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
FUZZ_SEED = 20261129
#: Longest acceptable error message (one readable paragraph).
MAX_MESSAGE = 1500
#: Mutated files per seed file, by kind.
PER_SCENARIO_SEED = 90
PER_SWEEP_SEED = 70

# ---------------------------------------------------------------- seed files
INLINE_SWEEPS = {
    "grid": """name = "grid"
base = "baseline"
seed = 11
replications = 2
years = 2
keep = ["firm_participation_rate", "retention_rate"]
time_limit = 60
retries = 1
chunk_size = 2

[set]
"labour_market.wage_compression" = 0.1

[vary]
"policy.subsidy.cost_share" = [0.0, 0.5]
"policy.governance.legal_status" = ["council", "registered_entity"]
""",
    "lhs": """base = "subsidy"
seed = 5
replications = 1
years = 1
keep = "none"

[design]
method = "lhs"
samples = 4
[design.ranges]
"policy.platform.placement_matching" = [0.0, 1.0]
"policy.credential.mode" = ["none", "portable"]
""",
    "sobol": """base = "baseline"
seed = 3
description = "sobol over two levers"
[population]
smes = 40
anchor_firms = 2
[design]
method = "sobol"
samples = 4
second_order = false
[design.ranges]
"policy.subsidy.cost_share" = [0.0, 1.0]
"firms.decision_sensitivity" = [3.0, 30.0]
[slurm]
shards = 2
time = "00:10:00"
setup = ["module load python/3.12"]
""",
    "morris": """base = "subsidy_withdrawn"
seed = 99
replications = 1
years = 9
[vary]
"policy.credential.mode" = ["none", "employer_ladder"]
[design]
method = "morris"
samples = 2
num_levels = 4
[design.ranges]
"labour_market.wage_compression" = [0.0, 0.6]
""",
}


def _seed_files() -> dict[str, tuple[str, bytes]]:
    """name -> (kind, bytes) of every seed file."""
    out: dict[str, tuple[str, bytes]] = {}
    for p in sorted((ROOT / "scenarios").glob("*.toml")):
        out[f"scenario-{p.stem}"] = ("scenario", p.read_bytes())
    for p in sorted((ROOT / "experiments" / "examples").glob("*.toml")):
        out[f"sweep-{p.stem}"] = ("sweep", p.read_bytes())
    for name, text in INLINE_SWEEPS.items():
        out[f"sweep-{name}"] = ("sweep", text.encode("utf-8"))
    return out


# ---------------------------------------------------------------- cases
@dataclass(frozen=True)
class Case:
    """One hostile input: files to write, the one to load, and the key involved (if any)."""

    id: str
    kind: str                          # "scenario" or "sweep"
    files: tuple[tuple[str, bytes | None], ...]   # name -> content; None makes a directory
    entry: str = "case.toml"
    key: str | None = None             # a key the error message must name
    mutation: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


WRONG_TYPES: list[Any] = [
    "text", "", " ", 1, -1, 0, 1.5, True, False, [], [1, 2], ["a", "b"], {"a": 1}, {},
    dt.date(2020, 1, 1), dt.time(12, 30), dt.datetime(2020, 1, 1, 8, 0),
    "__import__('os').system('touch PWNED')", "{{7*7}}", "${HOME}", "0x10", "1e3", "NaN",
]
EXTREMES: list[Any] = [
    math.nan, math.inf, -math.inf, -1, -1.0, -1e300, 1e300, 1e-300, -0.0, 0, 0.0, 2**63 - 1, -(2**63),
    10**6, 10**9, 10**18, 5e-324, 1.0000000000000002, 0.9999999999999999, 12345678901234567890,
]
HUGE_POPULATION = {"population.smes": 10_000_000, "population.anchor_firms": 1_000_000,
                   "population.schools.secondary": 100_000, "population.cohort_size.higher": 1_000_000}


def _leaves(node: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every non-table value (descending into arrays of tables)."""
    out: list[tuple] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, dict) and v:
                out.extend(_leaves(v, path + (k,)))
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                out.append(path + (k,))
                for i, x in enumerate(v):
                    out.extend(_leaves(x, path + (k, i)))
            else:
                out.append(path + (k,))
    return out


def _tables(node: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, dict):
                out.extend(_tables(v, path + (k,)))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for p in path:
        doc = doc[p]
    return doc


def _key_of(path: tuple) -> str:
    """The dotted key a path names (indices and the ``set`` of a schedule entry dropped)."""
    return ".".join(str(p) for p in path if not isinstance(p, int))


def _leaf_name(path: tuple) -> str:
    return str([p for p in path if not isinstance(p, int)][-1])


def _misspell(name: str, rng: np.random.Generator) -> str:
    parts = name.split(".")
    word = parts[-1]
    how = int(rng.integers(6))
    if how == 0 and len(word) > 2:
        i = int(rng.integers(len(word) - 1))
        word = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    elif how == 1 and len(word) > 1:
        i = int(rng.integers(len(word)))
        word = word[:i] + word[i + 1:]
    elif how == 2:
        i = int(rng.integers(len(word)))
        word = word[:i] + word[i] + word[i:]
    elif how == 3:
        word = word.upper()
    elif how == 4:
        word = word + "s"
    else:
        word = word.replace("_", "-") if "_" in word else word + "_x"
    parts[-1] = word
    return ".".join(parts)


#: Huge literals are written as placeholders and spliced into the dumped text
#: (tomli_w escapes strings character by character: far too slow for megabytes).
HUGE_LITERALS = {
    "@@huge-list-1000@@": ("[" + ", ".join(map(str, range(1000))) + "]").encode(),
    "@@huge-list-100000@@": ("[" + ", ".join(map(str, range(100_000))) + "]").encode(),
    "@@huge-string-10000@@": b'"' + b"x" * 10_000 + b'"',
    "@@huge-string-2000000@@": b'"' + b"x" * 2_000_000 + b'"',
}


def _dump(doc: dict) -> bytes:
    data = tomli_w.dumps(doc).encode("utf-8")
    for marker, literal in HUGE_LITERALS.items():
        data = data.replace(f'"{marker}"'.encode(), literal)
    return data


def _structural(doc: dict, rng: np.random.Generator, kind: str) -> tuple[bytes, str, str | None]:
    """One structural mutation of a parsed file: (bytes, mutation name, key involved)."""
    doc = copy.deepcopy(doc)
    leaves = _leaves(doc)
    op = str(rng.choice(["wrong_type", "extreme", "misspell", "unknown", "delete", "table_for_value",
                         "value_for_table", "huge_list", "empty_list", "huge_string", "huge_population",
                         "schedule", "meta", "duplicate_list"]))
    path = leaves[int(rng.integers(len(leaves)))]
    parent, last = _get(doc, path[:-1]), path[-1]
    key: str | None = _key_of(path)
    if op == "wrong_type":
        parent[last] = WRONG_TYPES[int(rng.integers(len(WRONG_TYPES)))]
    elif op == "extreme":
        parent[last] = EXTREMES[int(rng.integers(len(EXTREMES)))]
    elif op == "misspell":
        if isinstance(last, int):
            return _structural(doc, rng, kind)
        new = _misspell(str(last), rng)
        parent[new] = parent.pop(last)
        key = _leaf_name(path[:-1] + (new,))
    elif op == "unknown":
        tables = _tables(doc)
        where = tables[int(rng.integers(len(tables)))]
        name = str(rng.choice(["colour", "poplation", "subsidy", "seeds", "replication", "__class__", "base2",
                               "policy.subsidy.costshare", "population.firms", "键"]))
        _get(doc, where)[name] = 1
        key = name.rsplit(".", 1)[-1]
    elif op == "delete":
        del parent[last]
    elif op == "table_for_value":
        parent[last] = {"value": parent[last] if not isinstance(parent[last], dict) else 1}
    elif op == "value_for_table":
        tables = [t for t in _tables(doc) if t]
        if not tables:
            return _structural(doc, rng, kind)
        where = tables[int(rng.integers(len(tables)))]
        _get(doc, where[:-1])[where[-1]] = int(rng.integers(-5, 5))
        key = _key_of(where)
    elif op == "huge_list":
        parent[last] = f"@@huge-list-{int(rng.choice([1000, 100_000]))}@@"
    elif op == "empty_list":
        parent[last] = []
    elif op == "huge_string":
        parent[last] = f"@@huge-string-{int(rng.choice([10_000, 2_000_000]))}@@"
    elif op == "huge_population":
        k = str(rng.choice(list(HUGE_POPULATION)))
        target = doc.setdefault("set", {}) if kind == "sweep" else doc
        target[k] = HUGE_POPULATION[k]
        key = k
    elif op == "schedule":
        bad = [{"year": 0, "set": {"policy.subsidy.cost_share": 0.0}},
               {"year": "8", "set": {"policy.subsidy.cost_share": 0.0}},
               {"year": 2.5, "set": {}},
               {"year": 3, "set": {"population.smes": 10}},
               {"year": 3, "set": {"policy.subsidy.cost_shar": 0.1}},
               {"year": 3, "set": 0.5},
               {"year": 3},
               {"year": 3, "set": {"policy.subsidy.cost_share": 2.0}, "when": "now"},
               {"year": -(2**63), "set": {"policy.schedule": []}}]
        entry = bad[int(rng.integers(len(bad)))]
        target = doc.setdefault("set", {}) if kind == "sweep" else doc
        target.setdefault("policy", {})
        if not isinstance(target["policy"], dict):
            target["policy"] = {}
        target["policy"]["schedule"] = [entry]
        key = "policy.schedule"
    elif op == "meta":
        if kind == "sweep":
            doc["description"] = WRONG_TYPES[int(rng.integers(len(WRONG_TYPES)))]
            key = "description"
        else:
            meta = doc.setdefault("meta", {})
            choice = int(rng.integers(4))
            if choice == 0:
                meta["title"] = 5
                key = "title"
            elif choice == 1:
                meta["subtitle"] = "x"
                key = "subtitle"
            elif choice == 2:
                meta["title"] = "<script>alert(1)</script>{{7*7}}\u202e\x1b[2J"
                key = "title"
            else:
                doc["meta"] = ["not", "a", "table"]
                key = "meta"
    elif op == "duplicate_list":
        v = parent[last]
        parent[last] = (v + v) if isinstance(v, list) and v else [v, v]
    try:
        return _dump(doc), op, key
    except (TypeError, ValueError):  # tomli_w cannot write it: fall back to another mutation
        return _structural(doc, rng, kind)


def _bytewise(raw: bytes, rng: np.random.Generator) -> tuple[bytes, str, str | None]:
    """One byte-level mutation: (bytes, mutation name, None)."""
    op = str(rng.choice(["truncate", "flip", "invalid_utf8", "nul", "gbk", "utf16", "bom", "crlf", "cr",
                         "duplicate_line", "drop_line", "deep_array", "deep_table", "inline_garbage",
                         "huge_comment", "repeat"]))
    n = len(raw)
    if op == "truncate":
        return raw[: int(rng.integers(0, max(1, n)))], op, None
    if op == "flip":
        b = bytearray(raw)
        for _ in range(int(rng.integers(1, 9))):
            i = int(rng.integers(n))
            b[i] ^= 1 << int(rng.integers(8))
        return bytes(b), op, None
    if op == "invalid_utf8":
        seq = [b"\xff", b"\xfe\xff", b"\x80", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82"]
        i = int(rng.integers(n + 1))
        return raw[:i] + seq[int(rng.integers(len(seq)))] + raw[i:], op, None
    if op == "nul":
        i = int(rng.integers(n + 1))
        return raw[:i] + b"\x00" + raw[i:], op, None
    if op == "gbk":
        return raw.decode("utf-8").encode("gbk", errors="replace"), op, None
    if op == "utf16":
        return raw.decode("utf-8").encode("utf-16"), op, None
    if op == "bom":
        return b"\xef\xbb\xbf" + raw, op, None
    if op == "crlf":
        return raw.replace(b"\n", b"\r\n"), op, None
    if op == "cr":
        return raw.replace(b"\n", b"\r"), op, None
    lines = raw.split(b"\n")
    i = int(rng.integers(len(lines)))
    if op == "duplicate_line":
        return b"\n".join(lines[: i + 1] + [lines[i]] + lines[i + 1:]), op, None
    if op == "drop_line":
        return b"\n".join(lines[:i] + lines[i + 1:]), op, None
    if op == "deep_array":
        d = int(rng.choice([50, 1000, 100_000]))
        return raw + b"\nyears = " + b"[" * d + b"1" + b"]" * d + b"\n", op, None
    if op == "deep_table":
        d = int(rng.choice([50, 1000, 100_000]))
        return raw + b"\nzz = " + b"{a = " * d + b"1" + b"}" * d + b"\n", op, None
    if op == "inline_garbage":
        junk = [b"!!python/object:os.system ['ls']", b"{{7*7}}", b"<% exec %>", b"= = =", b"[[[", b"\"unterminated",
                b"key = 1 2", b"0 = \xe4\xb8\xad"]
        return b"\n".join(lines[:i] + [junk[int(rng.integers(len(junk)))]] + lines[i:]), op, None
    if op == "huge_comment":
        return raw + b"\n# " + b"x" * 5_000_000 + b"\n", op, None
    return raw * int(rng.choice([2, 50])), op, None  # repeat: duplicate keys and tables


def _special_cases() -> list[Case]:
    """Hand-written hostile cases: empty files, directories, base targets, code-looking text."""
    s, w = "scenario", "sweep"
    cases = [
        Case("empty-scenario", s, (("case.toml", b""),)),
        Case("empty-sweep", w, (("case.toml", b""),), key="base"),
        Case("blank-scenario", s, (("case.toml", b" \n\t\n"),)),
        Case("blank-sweep", w, (("case.toml", b"\n\n# only a comment\n"),), key="base"),
        Case("dir-scenario", s, (("case.toml", None),)),
        Case("dir-sweep", w, (("case.toml", None),)),
        Case("missing-scenario", s, (), entry="nothing-here.toml"),
        Case("missing-sweep", w, (), entry="nothing-here.toml"),
        Case("base-self", s, (("case.toml", b'base = "case.toml"\n'),), key="base"),
        Case("base-cycle", s, (("case.toml", b'base = "b.toml"\n'), ("b.toml", b'base = "case.toml"\n')), key="base"),
        Case("base-cycle-3", s, (("case.toml", b'base = "b.toml"\n'), ("b.toml", b'base = "c.toml"\n'),
                                 ("c.toml", b'base = "b.toml"\n')), key="base"),
        Case("base-dir", s, (("case.toml", b'base = "sub/"\n'), ("sub", None)), key="base"),
        Case("base-missing", s, (("case.toml", b'base = "nowhere.toml"\n'),), key="base"),
        Case("base-preset-typo", s, (("case.toml", b'base = "baselin"\n'),), key="base"),
        Case("base-int", s, (("case.toml", b"base = 3\n"),), key="base"),
        Case("base-list", s, (("case.toml", b'base = ["baseline"]\n'),), key="base"),
        Case("base-table", s, (("case.toml", b"[base]\nx = 1\n"),), key="base"),
        Case("base-empty", s, (("case.toml", b'base = ""\n'),), key="base"),
        Case("base-nul", s, (("case.toml", b'base = "a\\u0000b.toml"\n'),), key="base"),
        Case("base-dev-null", s, (("case.toml", b'base = "/dev/null"\n'),)),
        Case("base-dev-zero", s, (("case.toml", b'base = "/dev/zero"\n'),), key="base"),
        Case("base-bad-file", s, (("case.toml", b'base = "b.toml"\n'), ("b.toml", b"years = \xff\n")), key="base"),
        Case("base-deep-chain", s, tuple([("case.toml", b'base = "c1.toml"\n')]
                                         + [(f"c{i}.toml", f'base = "c{i + 1}.toml"\n'.encode()) for i in range(1, 400)]
                                         + [("c400.toml", b"years = 2\n")])),
        Case("code-python", s, (("case.toml", b"years = __import__('os').system('touch PWNED')\n"),)),
        Case("code-yaml-tag", s, (("case.toml", b"years: !!python/object/apply:os.system ['touch PWNED']\n"),)),
        Case("code-template", s, (("case.toml", b'[meta]\ntitle = "{{7*7}} ${7*7} #{7*7}"\n'),)),
        Case("sweep-base-cycle", w, (("case.toml", b'base = "b.toml"\nseed = 1\n'), ("b.toml", b'base = "b.toml"\n')),
             key="base"),
        Case("sweep-base-dir", w, (("case.toml", b'base = "sub/"\nseed = 1\n'), ("sub", None)), key="base"),
        Case("sweep-run-function-int", w, (("case.toml", b'base = "baseline"\nseed = 1\nrun_function = 5\n'),),
             key="run_function"),
        Case("sweep-seed-huge", w, (("case.toml", b'base = "baseline"\nseed = 18446744073709551616\n'),)),
        Case("sweep-seed-float", w, (("case.toml", b'base = "baseline"\nseed = 1.0\n'),), key="seed"),
        Case("sweep-vary-table", w, (("case.toml", b'base = "baseline"\nseed = 1\n[vary.policy.subsidy]\ncost_share = 0.5\n'),),
             key="cost_share"),
        Case("sweep-design-no-ranges", w, (("case.toml", b'base = "baseline"\nseed = 1\n[design]\nmethod = "lhs"\nsamples = 4\n'),),
             key="ranges"),
        Case("sweep-design-reversed", w, (("case.toml", b'base = "baseline"\nseed = 1\n[design]\nmethod = "lhs"\nsamples = 4\n'
                                                          b'[design.ranges]\n"policy.subsidy.cost_share" = [1.0, 0.0]\n'),),
             key="cost_share"),
        Case("sweep-design-sobol-3", w, (("case.toml", b'base = "baseline"\nseed = 1\n[design]\nmethod = "sobol"\nsamples = 3\n'
                                                         b'[design.ranges]\n"policy.subsidy.cost_share" = [0.0, 1.0]\n'),),
             key="samples"),
        Case("sweep-keep-unknown", w, (("case.toml", b'base = "baseline"\nseed = 1\nkeep = ["firm_participaton_rate"]\n'),),
             key="keep"),
        Case("sweep-name-slash", w, (("case.toml", b'base = "baseline"\nseed = 1\nname = "../../etc"\n'),), key="name"),
    ]
    return cases


def generate_cases() -> list[Case]:
    """Every fuzz case, deterministically (same list on every machine)."""
    rng = np.random.default_rng(FUZZ_SEED)
    cases: list[Case] = []
    for name, (kind, raw) in _seed_files().items():
        doc = tomllib.loads(raw.decode("utf-8"))
        n = PER_SCENARIO_SEED if kind == "scenario" else PER_SWEEP_SEED
        for i in range(n):
            if rng.random() < 0.6:
                data, op, key = _structural(doc, rng, kind)
            else:
                data, op, key = _bytewise(raw, rng)
            cases.append(Case(f"{name}-{i:03d}-{op}", kind, (("case.toml", data),), key=key, mutation=op))
    return cases + _special_cases()


CASES = generate_cases()


# ---------------------------------------------------------------- the oracle
def write_case(case: Case, folder: Path) -> Path:
    """Write the case's files under ``folder``; return the path to load."""
    for name, data in case.files:
        p = folder / name
        if data is None:
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.write_bytes(data)
    return folder / case.entry


def load_case(case: Case, path: Path) -> Any:
    """Load through the Python entry point of the case's kind."""
    return Scenario.load(path) if case.kind == "scenario" else load_sweep(path)


def key_named(message: str, key: str) -> bool:
    """Whether ``message`` names ``key``: the dotted key, its last part, or one of its prefixes."""
    parts = key.split(".")
    if key in message or parts[-1] in message:
        return True
    return any(f"'{'.'.join(parts[:i])}" in message for i in range(1, len(parts)))


#: Messages about the whole file (size, encoding, syntax): no key is involved.
FILE_LEVEL = ("not valid TOML", "not UTF-8", "bytes; allowed", "is a directory", "not a regular file",
              "no such", "cannot read")


def problems_with(case: Case, path: Path, exc: BaseException | None) -> list[str]:
    """What is wrong with how the loader handled ``case`` (empty when all is well)."""
    if exc is None:
        return []
    if not isinstance(exc, InputError):
        return [f"raised {type(exc).__name__} (not InputError): {str(exc)[:300]}"]
    msg = str(exc)
    out = []
    if "\n\n" in msg or "Traceback" in msg:
        out.append("message is not one paragraph")
    if len(msg) > MAX_MESSAGE:
        out.append(f"message is {len(msg)} characters long (allowed {MAX_MESSAGE}): {msg[:200]}...")
    if path.name not in msg:
        out.append(f"message does not name the file {path.name}: {msg[:300]}")
    if case.key and not key_named(msg, case.key) and not any(m in msg for m in FILE_LEVEL):
        out.append(f"message does not name the key {case.key!r}: {msg[:300]}")
    return out


def outcome(case: Case, folder: Path) -> tuple[str, list[str]]:
    """Run ``case`` in-process: ('ok' | 'error' | 'crash', problems)."""
    path = write_case(case, folder)
    try:
        load_case(case, path)
    except BaseException as exc:  # noqa: BLE001 - the oracle judges every exception
        if isinstance(exc, KeyboardInterrupt):
            raise
        return ("error" if isinstance(exc, InputError) else "crash"), problems_with(case, path, exc)
    return "ok", []


# ---------------------------------------------------------------- fixed sweep-loader issues
# Problems of the sweep-file loader (experiments/sweepfile.py) this fuzzer found
# (37 cases: RecursionError from deep nesting, messages quoting whole values) and
# two reproducers of its own (time_limit nan/inf); all fixed. The reproducers stay
# as regression tests, and every fuzz case must now pass outright.


def test_sweep_file_nested_too_deeply_is_an_input_error(tmp_path):
    """Regression: load_sweep let RecursionError from tomllib escape (deeply nested arrays or tables)."""
    path = tmp_path / "deep.toml"
    path.write_text('base = "baseline"\nseed = 1\nx = ' + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="deep.toml") as err:
        load_sweep(path)
    assert len(str(err.value)) <= MAX_MESSAGE


def test_sweep_message_quotes_a_huge_value_short(tmp_path):
    """Regression: experiments/sweepfile.py quoted whole values ({value!r}), so a huge value made a message of
    megabytes."""
    path = tmp_path / "huge.toml"
    path.write_text('base = "baseline"\nseed = "' + "x" * 100_000 + '"\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_sweep(path)
    assert "seed" in str(err.value) and "huge.toml" in str(err.value) and len(str(err.value)) <= MAX_MESSAGE


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "1e300"])
def test_sweep_time_limit_must_be_finite_and_positive(tmp_path, value):
    """Regression: time_limit = nan made every run fail at once with RunTimeout; inf made the timer thread print a
    traceback."""
    path = tmp_path / "limit.toml"
    path.write_text(f'base = "baseline"\nseed = 1\ntime_limit = {value}\n', encoding="utf-8")
    with pytest.raises(InputError, match="time_limit"):
        load_sweep(path)


def test_there_are_at_least_a_thousand_cases():
    assert len(CASES) >= 1000
    assert len({c.id for c in CASES}) == len(CASES)
    kinds = {c.kind for c in CASES}
    assert kinds == {"scenario", "sweep"}


def test_generation_is_deterministic():
    again = generate_cases()
    assert [c.id for c in again] == [c.id for c in CASES]
    assert all(a.files == b.files for a, b in zip(again, CASES, strict=True))


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_file_loads_or_fails_clearly(case, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a PWNED file would appear here
    kind, problems = outcome(case, tmp_path)
    assert not problems, f"{case.id} ({case.mutation}): " + "; ".join(problems)
    assert not (tmp_path / "PWNED").exists()


# ---------------------------------------------------------------- the command line
def _tree_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir")
            for p in sorted(folder.rglob("*"))}


#: Cases sent through the real command line: every k-th failing case of each kind.
CLI_SAMPLE = 30


def _cli_sample(tmp_root: Path) -> list[Case]:
    """About CLI_SAMPLE cases that fail in-process, spread over the list (every 11th case probed)."""
    half = CLI_SAMPLE // 2
    sample: dict[str, list[Case]] = {"scenario": [], "sweep": []}
    for offset in range(11):
        for i in range(offset, len(CASES), 11):
            case = CASES[i]
            if len(sample[case.kind]) >= half:
                continue
            if case.id.startswith("missing-") or case.mutation in ("huge_comment", "repeat", "huge_string", "huge_list"):
                continue
            probe = tmp_root / f"probe{i}"
            probe.mkdir()
            kind, _ = outcome(case, probe)
            if kind == "error":
                sample[case.kind].append(case)
        if all(len(v) >= half for v in sample.values()):
            break
    return sample["scenario"] + sample["sweep"]


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """A finished sweep directory (stand-in runs) that a hostile --resume must leave alone."""
    from experiments.runner import run_sweep
    from experiments.sweepfile import parse_sweep
    from experiments.testing import synthetic_run

    out = tmp_path_factory.mktemp("done") / "sweep"
    spec = parse_sweep(tomllib.loads(INLINE_SWEEPS["grid"]), where="grid.toml")
    run_sweep(spec, out, executor="inprocess", progress=False, run_callable=synthetic_run)
    return out


def test_command_line_refuses_hostile_files_and_keeps_outputs(tmp_path_factory, finished_sweep):
    root = tmp_path_factory.mktemp("cli")
    sample = _cli_sample(root)
    assert len(sample) >= CLI_SAMPLE - 2
    before_sweep = _tree_digest(finished_sweep)

    def one(i_case: tuple[int, Case]) -> list[str]:
        i, case = i_case
        folder = root / f"c{i}"
        folder.mkdir()
        path = write_case(case, folder)
        if case.kind == "scenario":
            out = folder / "out"
            out.mkdir()
            for name in ("summary.json", "timeseries.parquet", "scenario.toml"):
                (out / name).write_bytes(f"earlier result {name}".encode())
            argv = ["run", str(path), "--out", str(out), "--years", "1"]
        elif i % 2:
            out = folder / "new-out"
            argv = ["sweep", str(path), "--out", str(out), "--executor", "inprocess", "--no-progress"]
        else:
            out = finished_sweep
            argv = ["sweep", str(path), "--out", str(out), "--resume", "--executor", "inprocess", "--no-progress"]
        before = _tree_digest(out) if out.exists() else None
        env = dict(os.environ, CONSIM_DEBUG="")
        env.pop("CONSIM_DEBUG")
        p = subprocess.run([*consim_command(), *argv], cwd=folder, env=env, capture_output=True, text=True, timeout=120)
        errs = []
        if p.returncode != 2:
            errs.append(f"exit {p.returncode}, wanted 2")
        if "Traceback" in p.stderr or "Traceback" in p.stdout:
            errs.append("a traceback was printed")
        paragraph = p.stderr.strip()
        if not paragraph or "\n\n" in paragraph or path.name not in paragraph:
            errs.append(f"stderr is not one paragraph naming {path.name}: {paragraph[:300]!r}")
        after = _tree_digest(out) if out.exists() else None
        if after != before:
            errs.append(f"{out} changed: {before} -> {after}")
        return [f"{case.id}: {e}" for e in errs]

    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = [e for errs in pool.map(one, enumerate(sample)) for e in errs]
    assert not failures, "\n".join(failures)
    assert _tree_digest(finished_sweep) == before_sweep


# ---------------------------------------------------------------- command-line arguments
BAD_ARGUMENTS = [
    (["run", "baseline", "--seed", "-1"], "seed"),
    (["run", "baseline", "--years", "0"], "years"),
    (["run", "baseline", "--years", "100000"], "years"),
    (["run", "baseline", "--set", "years"], "years"),
    (["run", "baseline", "--set", "="], "--set"),
    (["run", "baseline", "--set", "years=1e300"], "years"),
    (["run", "baseline", "--set", "population.smes=-5"], "population.smes"),
    (["run", "baseline", "--set", "policy.subsidy.cost_share=nan"], "cost_share"),
    (["run", "baseline", "--set", "policy.sectors=[1,2]"], "policy.sectors"),
    (["run", "baseline", "--set", "population.sectors=[]"], "population.sectors"),
    (["run", "baseline", "--set", "x" * 100_000 + "=1"], "unknown key"),
    (["run", "baseline", "--years", "1", "--out", "/etc/passwd/inside-a-file"], "--out"),
    (["run", "baselin"], "baselin"),
    (["run", "a" * 10_000], "a" * 20),
    (["run", "/dev/zero"], "/dev/zero"),
    (["run", "/"], "/"),
    (["explain", "policy.subsidy.costshare"], "costshare"),
]


@pytest.mark.parametrize(("argv", "named"), BAD_ARGUMENTS, ids=[str(i) for i in range(len(BAD_ARGUMENTS))])
def test_bad_command_line_arguments_exit_2_with_one_paragraph(argv, named, capsys, tmp_path, monkeypatch):
    from sim.cli import main

    monkeypatch.chdir(tmp_path)
    rc = main(argv)
    err = capsys.readouterr().err.strip()
    assert rc == 2, err
    assert named in err and "Traceback" not in err and "\n" not in err
    assert len(err) <= MAX_MESSAGE
    assert not any(tmp_path.iterdir()), "nothing written"


# ---------------------------------------------------------------- hostile but valid files run correctly
def _loaded_scenarios(root: Path) -> list[tuple[str, Scenario]]:
    """Every scenario case that loads, shortened: at most 2 years, populations at most a quarter of their explore top."""
    from test_property_invariants import known_core_bug

    from sim.parameters import PARAMETERS

    out = []
    for i, case in enumerate(CASES):
        if case.kind != "scenario":
            continue
        folder = root / f"ok{i}"
        folder.mkdir()
        try:
            sc = Scenario.load(write_case(case, folder))
        except InputError:
            continue
        caps: dict[str, Any] = {"years": min(sc.get("years"), 2), "warmup_years": 1}
        for p in PARAMETERS:
            if p.kind == "int" and p.key.startswith("population."):
                caps[p.key] = min(sc.get(p.key), math.ceil(p.explore_range()[1] * 0.25))
        sc = sc.with_overrides(caps, source=case.id)
        if known_core_bug(sc) is None:
            out.append((case.id, sc))
    return out


def _run_loaded(sample: list[tuple[str, Scenario]]) -> list[str]:
    from test_property_invariants import check_run

    failures = []
    for seed, (case_id, sc) in enumerate(sample):
        try:
            check_run(sc, seed=seed, same_seed_again=False)
        except Exception as e:  # noqa: BLE001 - every failure is reported with its case
            failures.append(f"{case_id}: {type(e).__name__}: {str(e)[:200]}")
    return failures


def test_hostile_but_valid_scenarios_run_and_keep_the_invariants(tmp_path):
    """A sample of the mutated files that load: they run, month by month, without breaking an invariant."""
    loaded = _loaded_scenarios(tmp_path)
    assert len(loaded) >= 50
    sample = loaded[:: max(1, len(loaded) // 30)][:30]
    failures = _run_loaded(sample)
    assert not failures, "\n".join(failures)


@pytest.mark.slow
def test_every_hostile_but_valid_scenario_runs_and_keeps_the_invariants(tmp_path):
    failures = _run_loaded(_loaded_scenarios(tmp_path))
    assert not failures, "\n".join(failures)


def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="pipe.toml: not a regular file"):
        Scenario.load(fifo)
    child = tmp_path / "child.toml"
    child.write_text('base = "pipe.toml"\n', encoding="utf-8")
    with pytest.raises(InputError, match="child.toml: key 'base'"):
        Scenario.load(child)
