"""The Python examples in docs/sweeps.md run, and the example sweep file is valid."""

from __future__ import annotations

import re
from pathlib import Path

from experiments.designs import design_points
from experiments.sweepfile import load_sweep

ROOT = Path(__file__).resolve().parent.parent


def test_python_blocks_in_sweeps_doc_run(tmp_path, monkeypatch):
    text = (ROOT / "docs" / "sweeps.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks, "docs/sweeps.md has Python examples"
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/sweeps.md", "exec"), namespace)  # noqa: S102 - our own docs


def test_example_levers_sweep_is_the_200_run_sweep():
    spec = load_sweep(ROOT / "experiments" / "examples" / "levers.toml")
    assert spec.base_ref == "baseline"
    assert set(spec.vary) == {"policy.subsidy.cost_share", "policy.platform.placement_matching"}
    assert len(design_points(spec)) * spec.replications == 200
