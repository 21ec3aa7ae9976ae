"""The analysis tutorial (docs/tutorial_analysis.py) runs from a sweep file to both reports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_tutorial_runs_end_to_end(tmp_path):
    proc = subprocess.run([sys.executable, str(ROOT / "docs" / "tutorial_analysis.py"), str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "sample large enough?" in proc.stdout
    html = (tmp_path / "results" / "report.en.html").read_text(encoding="utf-8")
    assert "Headline" in html and html.count("data:image/png;base64,") >= 5
    assert (tmp_path / "results" / "report.zh.html").exists()
