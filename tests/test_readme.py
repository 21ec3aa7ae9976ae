"""The README's examples run: its Python block, and every ``consim`` line of its shell blocks."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_EXE = Path(sys.executable).parent / "consim"
CONSIM = [str(_EXE)] if _EXE.exists() else [sys.executable, "-m", "sim.cli"]


def blocks(lang: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.DOTALL)


def consim_lines() -> list[str]:
    out = []
    for block in blocks("bash"):
        for line in block.splitlines():
            cmd = line.split("#", 1)[0].strip()
            if cmd.startswith("consim "):
                out.append(cmd)
    return out


def test_readme_has_examples():
    assert blocks("python"), "the README has no Python example"
    assert consim_lines(), "the README has no consim example"


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_python_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = blocks("python")[index]
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code, f"README.md python block {index}", "exec"), namespace)  # noqa: S102 - our own docs
    if "res" in namespace:  # the example's result is a real run
        res = namespace["res"]
        assert 0.0 <= res.summary["sme_participation_rate"] <= 1.0
        assert len(res.timeseries) == res.scenario.get("years") * 12


#: README commands whose full-size runs are exercised elsewhere at test size.
TESTED_ELSEWHERE = {
    "sweep": "tests/test_experiments_docs.py runs docs/sweeps.md's examples",
    "status": "tests/test_experiments_sweep.py",
    "report": "tests/test_analysis_tutorial.py runs sweep -> report end to end",
    "validate": "tests/test_validation.py runs the fast subset",
}


@pytest.mark.parametrize("cmd", consim_lines())
def test_consim_example_runs(cmd, tmp_path):
    args = shlex.split(cmd)[1:]
    if args and args[0] in TESTED_ELSEWHERE:
        assert subprocess.run([*CONSIM, args[0], "--help"], capture_output=True, timeout=60).returncode == 0
        return  # the full-size command is exercised by TESTED_ELSEWHERE[args[0]]
    if args and args[0] == "run" and "--years" not in args:
        args += ["--years", "2"]  # the same command, shorter
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    proc = subprocess.run([*CONSIM, *args], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert proc.returncode == 0, f"{cmd}: exit {proc.returncode}\n{proc.stderr}"
    assert proc.stdout.strip()
    if "--out" in args:
        out = tmp_path / args[args.index("--out") + 1]
        assert (out / "summary.json").exists() and (out / "timeseries.parquet").exists() and (out / "scenario.toml").exists()
