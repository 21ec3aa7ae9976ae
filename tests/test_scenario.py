"""Scenario loading, inheritance, overrides, round trips and every kind of bad input."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from sim import PARAMETERS, InputError, Scenario, ScenarioError
from sim.parameters import BY_KEY, KINDS, SCHEDULABLE, STRUCTURAL, defaults
from sim.scenario import parse_override, preset_names, presets_dir


def write(tmp_path: Path, text: str | bytes, name: str = "s.toml") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def raises_naming(fn, *needles: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as exc:
        fn()
    msg = str(exc.value)
    for n in needles:
        assert n in msg, f"{n!r} not in message: {msg}"
    assert isinstance(exc.value, InputError)
    return exc.value


# ---------------------------------------------------------------- loading
def test_load_by_name_and_by_path_agree():
    by_name = Scenario.load("baseline")
    by_path = Scenario.load(presets_dir() / "baseline.toml")
    by_str = Scenario.load(str(presets_dir() / "baseline.toml"))
    assert by_name == by_path == by_str
    assert by_name.meta["title"] and by_name.get("population.smes") == 300


def test_presets_discovered():
    names = preset_names()
    assert "baseline" in names
    assert names == sorted(p.stem for p in presets_dir().glob("*.toml"))


def test_empty_file_is_all_defaults_and_equals_the_baseline(tmp_path):
    sc = Scenario.load(write(tmp_path, ""))
    assert sc.to_flat() == defaults()
    # the baseline preset lists only declared defaults (its header says so)
    assert sc == Scenario.load("baseline")
    assert sc == Scenario()


def test_nested_and_dotted_keys_are_equal(tmp_path):
    nested = write(tmp_path, "[policy.subsidy]\ncost_share = 0.4\ntarget = 'sme'\n[population.schools]\nhigher = 3\n", "a.toml")
    dotted = write(tmp_path, '"policy.subsidy.cost_share" = 0.4\n"policy.subsidy.target" = "sme"\n'
                             '"population.schools.higher" = 3\n', "b.toml")
    mixed = write(tmp_path, '[policy]\n"subsidy.cost_share" = 0.4\nsubsidy.target = "sme"\n'
                            '[population]\nschools = { higher = 3 }\n', "c.toml")
    a, b, c = (Scenario.load(p) for p in (nested, dotted, mixed))
    assert a == b == c
    assert a.get("policy.subsidy.cost_share") == 0.4 and a.get("population.schools.higher") == 3


def test_base_inheritance_and_override(tmp_path):
    p = write(tmp_path, 'base = "subsidy"\n[policy.subsidy]\ncost_share = 0.25\n')
    sc = Scenario.load(p)
    sub = Scenario.load("subsidy")
    assert sc.get("policy.subsidy.cost_share") == 0.25
    assert sc.get("policy.subsidy.target") == sub.get("policy.subsidy.target") == "sme"
    assert sc.get("policy.subsidy.annual_budget") == 10_000_000.0
    assert sc == sub.with_overrides({"policy.subsidy.cost_share": 0.25})


def test_base_relative_path_and_chain(tmp_path):
    write(tmp_path, 'base = "baseline"\n"population.smes" = 50\n', "parent.toml")
    child = write(tmp_path, 'base = "parent.toml"\n"population.anchor_firms" = 2\n', "child.toml")
    sc = Scenario.load(child)
    assert (sc.get("population.smes"), sc.get("population.anchor_firms")) == (50, 2)


def test_base_cycle_is_an_error(tmp_path):
    write(tmp_path, 'base = "b.toml"\n', "a.toml")
    write(tmp_path, 'base = "a.toml"\n', "b.toml")
    raises_naming(lambda: Scenario.load(tmp_path / "a.toml"), "a.toml", "base", "circle")


def test_bad_base_names_the_file_and_key(tmp_path):
    p = write(tmp_path, 'base = "no_such_preset"\n')
    raises_naming(lambda: Scenario.load(p), str(p), "base", "no_such_preset")
    q = write(tmp_path, "base = 3\n", "q.toml")
    raises_naming(lambda: Scenario.load(q), str(q), "base", "allowed")


def test_with_overrides_validates_and_leaves_original():
    sc = Scenario.load("baseline")
    sc2 = sc.with_overrides({"policy.subsidy.cost_share": 0.5, "years": 4})
    assert sc.get("policy.subsidy.cost_share") == 0.0 and sc.get("years") == 10
    assert sc2.get("policy.subsidy.cost_share") == 0.5 and sc2.get("years") == 4
    assert sc2 != sc and sc2.meta == sc.meta
    raises_naming(lambda: sc.with_overrides({"policy.subsidy.cost_shar": 0.5}), "policy.subsidy.cost_shar",
                  "Did you mean", "policy.subsidy.cost_share")
    raises_naming(lambda: sc.with_overrides({"years": 0}), "years", "out of range", "1 to 200")


def test_get_returns_copies_and_unknown_key_errors():
    sc = Scenario.load("baseline")
    sectors = sc.get("population.sectors")
    sectors.append("x")
    assert "x" not in sc.get("population.sectors")
    assert sc["years"] == sc.get("years")
    raises_naming(lambda: sc.get("nope"), "nope")


def test_to_dict_is_nested():
    d = Scenario.load("subsidy").to_dict()
    assert d["policy"]["subsidy"]["cost_share"] == 0.5
    assert d["population"]["schools"]["secondary"] == 12


@pytest.mark.parametrize("name", preset_names())
def test_to_toml_round_trips(tmp_path, name):
    sc = Scenario.load(name)
    text = sc.to_toml()
    p = write(tmp_path, text)
    back = Scenario.load(p)
    assert back == sc
    assert back.to_flat() == sc.to_flat()
    assert back.meta == sc.meta
    assert Scenario.from_dict(tomllib.loads(text)) == sc


def test_integers_accepted_for_float_and_share_keys(tmp_path):
    p = write(tmp_path, "[policy.subsidy]\ncost_share = 1\nannual_budget = 2000000\n")
    sc = Scenario.load(p)
    assert sc.get("policy.subsidy.cost_share") == 1.0 and isinstance(sc.get("policy.subsidy.cost_share"), float)
    assert isinstance(sc.get("policy.subsidy.annual_budget"), float)
    # a whole float is accepted for an int key; a fractional one is not
    assert Scenario().with_overrides({"years": 4.0}).get("years") == 4
    raises_naming(lambda: Scenario().with_overrides({"years": 4.5}), "years", "4.5", "integer")


# ---------------------------------------------------------------- declarations
def test_keys_cover_every_parameter_with_unit_and_meaning():
    keys = Scenario.keys()
    assert [p.key for p in keys] == [p.key for p in PARAMETERS]
    assert len({p.key for p in keys}) == len(keys)
    for p in keys:
        assert p.kind in KINDS
        assert p.meaning.strip(), p.key
        if p.numeric:
            assert p.unit.strip(), f"{p.key} has no unit"
            assert p.low is None or p.high is None or p.low <= p.high
            assert (p.low is None or p.default >= p.low) and (p.high is None or p.default <= p.high), p.key
        if p.kind == "choice":
            assert p.default in p.choices
        assert p.allowed()
    # every parameter's default is valid through the loader
    Scenario(defaults())


def test_contract_keys_are_declared():
    contract = [
        "years", "population.schools.secondary", "population.schools.higher", "population.schools.undergraduate",
        "population.anchor_firms", "population.smes", "population.sectors", "labour_market.competitors_per_sector",
        "labour_market.wage_compression", "firms.productive_task_share", "firms.trainee_pay_floor",
        "firms.mentor_days_per_week", "policy.subsidy.cost_share", "policy.subsidy.target",
        "policy.subsidy.annual_budget", "policy.funding.approval_ratio", "policy.tax_credit.investment_offset",
        "policy.credential.mode", "policy.credential.portability", "policy.governance.legal_status",
        "policy.governance.firm_voice", "policy.governance.ip_contracts", "policy.platform.placement_matching",
        "policy.platform.graduate_transparency", "policy.schedule",
    ]
    assert [k for k in contract if k not in BY_KEY] == []
    assert BY_KEY["policy.subsidy.target"].choices == ("all", "sme", "anchor")
    assert BY_KEY["policy.credential.mode"].choices == ("none", "portable", "employer_ladder")
    assert BY_KEY["policy.governance.legal_status"].choices == ("council", "registered_entity")


def test_schedulable_excludes_structural_and_population_keys():
    assert not set(SCHEDULABLE) & set(STRUCTURAL)
    assert not [k for k in SCHEDULABLE if k.startswith("population.")]
    assert "policy.subsidy.cost_share" in SCHEDULABLE


# ---------------------------------------------------------------- bad input
def test_unknown_key_did_you_mean(tmp_path):
    p = write(tmp_path, "[policy.subsidy]\ncost_shar = 0.5\n")
    raises_naming(lambda: Scenario.load(p), str(p), "policy.subsidy.cost_shar", "Did you mean",
                  "'policy.subsidy.cost_share'")
    q = write(tmp_path, "[polcy]\nx = 1\n", "q.toml")
    raises_naming(lambda: Scenario.load(q), str(q), "unknown key")


@pytest.mark.parametrize(("text", "key", "needle"), [
    ('[population]\nsmes = "many"\n', "population.smes", "integer"),
    ("[population]\nsmes = true\n", "population.smes", "integer"),
    ("[population]\nsmes = -1\n", "population.smes", "out of range"),
    ("[policy.subsidy]\ncost_share = 1.5\n", "policy.subsidy.cost_share", "out of range"),
    ("[policy.subsidy]\ncost_share = nan\n", "policy.subsidy.cost_share", "share"),
    ("[policy.subsidy]\ncost_share = inf\n", "policy.subsidy.cost_share", "share"),
    ('[policy.subsidy]\ntarget = "smes"\n', "policy.subsidy.target", "one of 'all', 'sme', 'anchor'"),
    ('[policy.credential]\nmode = "Portable"\n', "policy.credential.mode", "one of"),
    ("[policy.governance]\nip_contracts = 1\n", "policy.governance.ip_contracts", "true or false"),
    ("[population]\nsectors = []\n", "population.sectors", "non-empty"),
    ('[population]\nsectors = ["a", "a"]\n', "population.sectors", "distinct"),
    ("[population]\nsectors = \"a\"\n", "population.sectors", "list"),
    ("years = 0\n", "years", "out of range"),
    ("years = 2.5\n", "years", "integer"),
    ("[meta]\ntitle = 3\n", "meta.title", "string"),
    ("[meta]\ntitel = 'x'\n", "meta.titel", "Did you mean"),
])
def test_bad_values_name_file_key_and_allowed(tmp_path, text, key, needle):
    p = write(tmp_path, text)
    raises_naming(lambda: Scenario.load(p), str(p), key, needle)


def test_not_utf8(tmp_path):
    p = write(tmp_path, b"[meta]\ntitle = '" + "基准".encode("gbk") + b"'\n")
    raises_naming(lambda: Scenario.load(p), str(p), "UTF-8")


def test_invalid_toml(tmp_path):
    p = write(tmp_path, "[policy.subsidy\ncost_share = 0.5\n")
    raises_naming(lambda: Scenario.load(p), str(p), "not valid TOML")


def test_missing_file_and_directory(tmp_path):
    raises_naming(lambda: Scenario.load(tmp_path / "nope.toml"), "nope.toml", "no such scenario file", "baseline")
    raises_naming(lambda: Scenario.load("baselin"), "baselin", "Did you mean", "'baseline'")
    d = tmp_path / "dir.toml"
    d.mkdir()
    raises_naming(lambda: Scenario.load(d), "dir.toml", "directory")


def test_population_guard(tmp_path):
    p = write(tmp_path, "[population]\nsmes = 3000000\n")
    raises_naming(lambda: Scenario.load(p), str(p), "population", "at most")


# ---------------------------------------------------------------- schedule
def test_schedule_valid_is_sorted_and_coerced(tmp_path):
    p = write(tmp_path, '[[policy.schedule]]\nyear = 5\nset = { "policy.subsidy.cost_share" = 1 }\n'
                        "[[policy.schedule]]\nyear = 2\nset = { policy = { platform = { placement_matching = 0.5 } } }\n")
    sched = Scenario.load(p).get("policy.schedule")
    assert [e["year"] for e in sched] == [2, 5]
    assert sched[0]["set"] == {"policy.platform.placement_matching": 0.5}
    assert sched[1]["set"] == {"policy.subsidy.cost_share": 1.0}


@pytest.mark.parametrize(("entry", "needles"), [
    ('year = 3\nset = { "policy.subsidy.cost_shar" = 0.1 }', ("policy.subsidy.cost_shar", "Did you mean")),
    ('year = 3\nset = { "population.smes" = 10 }', ("policy.schedule[0].set.population.smes", "cannot change")),
    ('year = 3\nset = { "labour_market.competitors_per_sector" = 2 }', ("competitors_per_sector", "cannot change")),
    ('year = 3\nset = { "years" = 2 }', ("years", "cannot change")),
    ('year = 3\nset = { "policy.subsidy.cost_share" = 7 }', ("policy.subsidy.cost_share", "out of range")),
    ('year = 0\nset = { "policy.subsidy.cost_share" = 0.1 }', ("policy.schedule[0]", "integer >= 1")),
    ('set = { "policy.subsidy.cost_share" = 0.1 }', ("policy.schedule[0]", "'year'")),
    ('year = 3\nwhen = 2\nset = { "policy.subsidy.cost_share" = 0.1 }', ("policy.schedule[0]",)),
    ("year = 3\nset = 5", ("policy.schedule[0]", "set")),
])
def test_schedule_errors(tmp_path, entry, needles):
    p = write(tmp_path, f"[[policy.schedule]]\n{entry}\n")
    raises_naming(lambda: Scenario.load(p), str(p), *needles)


def test_schedule_not_a_list(tmp_path):
    p = write(tmp_path, '[policy]\nschedule = "year 8"\n')
    raises_naming(lambda: Scenario.load(p), str(p), "policy.schedule", "list")


# ---------------------------------------------------------------- --set parsing
def test_parse_override():
    assert parse_override("policy.subsidy.cost_share=0.5") == ("policy.subsidy.cost_share", 0.5)
    assert parse_override("policy.subsidy.target=sme") == ("policy.subsidy.target", "sme")
    assert parse_override("policy.governance.ip_contracts=true") == ("policy.governance.ip_contracts", True)
    assert parse_override('population.sectors=["a","b"]') == ("population.sectors", ["a", "b"])
    assert parse_override("years = 3") == ("years", 3)
    raises_naming(lambda: parse_override("years"), "--set", "KEY=VALUE")
    raises_naming(lambda: parse_override("yeers=3"), "--set", "yeers", "Did you mean")
    raises_naming(lambda: parse_override("policy.subsidy.target=everyone"), "--set", "policy.subsidy.target", "one of")
