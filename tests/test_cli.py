"""The ``consim`` command line, run as a user runs it (a subprocess of the installed entry point)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import PARAMETERS, Scenario, run
from sim.indicators import NAMES
from sim.scenario import preset_names

ROOT = Path(__file__).resolve().parent.parent
_EXE = Path(sys.executable).parent / "consim"
CONSIM = [str(_EXE)] if _EXE.exists() else [sys.executable, "-m", "sim.cli"]


def consim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("CONSIM_DEBUG", None)
    return subprocess.run([*CONSIM, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def consim_in_process(capsys, *args: str) -> subprocess.CompletedProcess:
    """``consim ARGS`` through :func:`sim.cli.main` in this process (same handlers, no start-up cost)."""
    from sim.cli import main

    capsys.readouterr()
    try:
        rc = main(list(args))
    except SystemExit as e:  # argparse usage errors
        rc = e.code
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["consim", *args], rc, out, err)


def assert_input_error(proc: subprocess.CompletedProcess, *needles: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stderr.startswith("consim: error:") or "\nconsim: error:" in proc.stderr, proc.stderr
    for n in needles:
        assert n in proc.stderr, f"{n!r} not in {proc.stderr!r}"


@pytest.fixture(scope="module")
def baseline_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run1"
    proc = consim("run", "baseline", "--seed", "1", "--years", "2", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_run_writes_summary_timeseries_and_scenario(baseline_out):
    out, proc = baseline_out
    assert {p.name for p in out.iterdir()} >= {"summary.json", "timeseries.parquet", "scenario.toml"}
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["seed"] == 1
    assert set(NAMES) <= set(summary) and set(NAMES) <= set(summary["indicators"])
    ts = pd.read_parquet(out / "timeseries.parquet")
    assert list(ts.columns[:2]) == ["step", "year"] and set(NAMES) <= set(ts.columns)
    assert len(ts) == 24 and ts["step"].tolist() == list(range(1, 25))
    assert ts.groupby("year").size().tolist() == [12, 12]
    resolved = Scenario.load(out / "scenario.toml")
    assert resolved == Scenario.load("baseline").with_overrides({"years": 2})
    assert resolved.meta == Scenario.load("baseline").meta
    # the table printed is the summary written, and the same as the Python API's
    api = run(resolved, seed=1, keep_model=False).summary
    assert {k: summary[k] for k in NAMES} == api
    for name in NAMES:
        assert name in proc.stdout


def test_second_run_same_seed_identical_summary(baseline_out, tmp_path):
    out, _ = baseline_out
    proc = consim("run", str(out / "scenario.toml"), "--seed", "1", "--out", str(tmp_path / "again"))
    assert proc.returncode == 0, proc.stderr
    first = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    second = json.loads((tmp_path / "again" / "summary.json").read_text(encoding="utf-8"))
    assert {k: first[k] for k in NAMES} == {k: second[k] for k in NAMES}
    pd.testing.assert_frame_equal(pd.read_parquet(out / "timeseries.parquet"),
                                  pd.read_parquet(tmp_path / "again" / "timeseries.parquet"), check_exact=True)


def test_refuses_to_overwrite_and_leaves_files_untouched(baseline_out, tmp_path):
    out = tmp_path / "kept"
    shutil.copytree(baseline_out[0], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    proc = consim("run", "baseline", "--seed", "2", "--years", "1", "--out", str(out))
    assert_input_error(proc, str(out), "refusing to overwrite")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_set_and_lang(tmp_path):
    proc = consim("run", "baseline", "--years", "1", "--set", "policy.subsidy.cost_share=0.5",
                  "--set", "policy.subsidy.target=sme", "--out", str(tmp_path / "o"), "--lang", "zh")
    assert proc.returncode == 0, proc.stderr
    sc = Scenario.load(tmp_path / "o" / "scenario.toml")
    assert sc.get("policy.subsidy.cost_share") == 0.5 and sc.get("policy.subsidy.target") == "sme"
    assert "中小企业参与比例" in proc.stdout


BAD_FILES = {
    "unknown_key": ("[policy.subsidy]\ncost_shar = 0.5\n", ("policy.subsidy.cost_shar", "Did you mean")),
    "wrong_type": ('[population]\nsmes = "many"\n', ("population.smes", "allowed")),
    "out_of_range": ("[policy.subsidy]\ncost_share = 1.5\n", ("policy.subsidy.cost_share", "out of range")),
    "bad_choice": ('[policy.credential]\nmode = "national"\n', ("policy.credential.mode", "'portable'")),
    "malformed_toml": ("[policy.subsidy\ncost_share = 0.5\n", ("not valid TOML",)),
    "bad_schedule": ('[[policy.schedule]]\nyear = 2\nset = { "population.smes" = 5 }\n', ("population.smes", "cannot change")),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_file_exit_2_no_traceback(tmp_path, case, capsys):
    text, needles = BAD_FILES[case]
    p = tmp_path / f"{case}.toml"
    p.write_text(text, encoding="utf-8")
    assert_input_error(consim_in_process(capsys, "run", str(p), "--years", "1"), str(p), *needles)


def test_bad_scenario_file_in_a_real_process(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('years = 2\n[population]\nsmes = "x"\n', encoding="utf-8")
    proc = consim("run", str(p))
    assert_input_error(proc, str(p), "population.smes", "allowed")
    assert proc.stdout == ""


def test_non_utf8_and_missing_files(tmp_path, capsys):
    p = tmp_path / "gbk.toml"
    p.write_bytes("[meta]\ntitle = '基准'\n".encode("gbk"))
    assert_input_error(consim("run", str(p)), str(p), "UTF-8")
    assert_input_error(consim_in_process(capsys, "run", str(tmp_path / "missing.toml")), "missing.toml",
                       "no such scenario file")
    assert_input_error(consim_in_process(capsys, "run", "baselin"), "baselin", "Did you mean", "'baseline'")


def test_empty_file_runs_with_defaults(tmp_path):
    p = tmp_path / "empty.toml"
    p.write_text("", encoding="utf-8")
    proc = consim("run", str(p), "--years", "1", "--out", str(tmp_path / "o"))
    assert proc.returncode == 0, proc.stderr
    assert Scenario.load(tmp_path / "o" / "scenario.toml") == Scenario().with_overrides({"years": 1})


@pytest.mark.parametrize(("args", "needles"), [
    (("--set", "policy.subsidy.cost_share"), ("--set", "KEY=VALUE")),
    (("--set", "policy.subsidy.cost_shar=0.5"), ("--set", "policy.subsidy.cost_shar", "Did you mean")),
    (("--set", "policy.subsidy.cost_share=2"), ("--set", "policy.subsidy.cost_share", "out of range")),
    (("--set", "years=abc"), ("--set", "years", "integer")),
    (("--years", "0"), ("years", "out of range")),
    (("--seed", "-3"), ("seed",)),
    (("--seed", "x"), ("--seed",)),
])
def test_bad_command_line_exit_2(args, needles, capsys):
    assert_input_error(consim_in_process(capsys, "run", "baseline", *args), *needles)


def test_no_subcommand_is_a_usage_error(capsys):
    proc = consim_in_process(capsys)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "usage" in proc.stderr


def test_explain_one_key_a_prefix_all_and_json(capsys):
    one = consim("explain", "policy.subsidy.cost_share")
    assert one.returncode == 0, one.stderr
    for needle in ("policy.subsidy.cost_share", "meaning", "unit", "default : 0.0", "allowed", "0 to 1"):
        assert needle in one.stdout
    prefix = consim_in_process(capsys, "explain", "policy.subsidy")
    assert prefix.returncode == 0
    assert {"policy.subsidy.cost_share", "policy.subsidy.target", "policy.subsidy.annual_budget"} <= set(
        line for line in prefix.stdout.splitlines() if not line.startswith(" "))
    everything = consim_in_process(capsys, "explain")
    assert everything.returncode == 0
    listed = {line.split()[0] for line in everything.stdout.splitlines() if line.strip()}
    assert listed == {p.key for p in PARAMETERS}
    js = json.loads(consim_in_process(capsys, "explain", "policy.credential.mode", "--json").stdout)
    assert js[0]["choices"] == ["none", "portable", "employer_ladder"] and js[0]["default"] == "none"
    assert_input_error(consim_in_process(capsys, "explain", "policy.subsidy.cost_shar"), "policy.subsidy.cost_shar",
                       "Did you mean")


def test_scenarios_lists_every_preset_with_its_title(capsys):
    proc = consim("scenarios")
    assert proc.returncode == 0, proc.stderr
    for name in preset_names():
        sc = Scenario.load(name)
        assert any(line.startswith(name) and sc.meta["title"] in line for line in proc.stdout.splitlines()), name
    zh = consim_in_process(capsys, "scenarios", "--lang", "zh")
    assert Scenario.load("baseline").meta["title_zh"] in zh.stdout


def test_force_overwrites_and_a_file_is_not_a_directory(baseline_out, tmp_path, capsys):
    out = tmp_path / "forced"
    shutil.copytree(baseline_out[0], out)
    before = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    proc = consim_in_process(capsys, "run", "baseline", "--seed", "2", "--years", "2", "--out", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    after = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert after["seed"] == 2 and before["seed"] == 1
    assert {k: after[k] for k in NAMES} != {k: before[k] for k in NAMES}
    f = tmp_path / "a_file"
    f.write_text("keep me", encoding="utf-8")
    assert_input_error(consim_in_process(capsys, "run", "baseline", "--years", "1", "--out", str(f)), str(f),
                       "not a directory")
    assert f.read_text(encoding="utf-8") == "keep me"
