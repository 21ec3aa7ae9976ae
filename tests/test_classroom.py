"""The classroom exercises' answers hold in the model.

Each ``docs/classroom/exerciseN.toml`` holds the settings students use and the
claims the exercise's answer makes; the ``.md`` next to it states each claim in
words (its ``says`` text, verbatim). This test runs every run of an exercise for
every seed listed and checks every claim with its stated tolerance (the claim
forms are described at the top of ``exercise1.toml``): on the mean over seeds,
and seed by seed in at least ``min_share_of_seeds`` of them, so no single lucky
seed can carry a claim.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

import pytest

from sim import Scenario, run
from sim.indicators import NAMES

DOCS = Path(__file__).resolve().parent.parent / "docs" / "classroom"
EXERCISES = sorted(DOCS.glob("exercise*.toml"))
CLAIM_FORMS = ("by_at_least", "ratio_at_most", "within")


def load(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))


def scenario_of(spec: dict) -> Scenario:
    sc = Scenario.load(spec.get("preset", "baseline"))
    return sc.with_overrides(spec["set"], source="exercise") if spec.get("set") else sc


@cache
def yearly(path: str, run_name: str, seed: int) -> dict[int, dict[str, float]]:
    """Indicator means by simulated year of one run of one exercise."""
    spec = load(Path(path))["runs"][run_name]
    ts = run(scenario_of(spec), seed=seed, keep_model=False).timeseries
    means = ts.groupby("year")[list(NAMES)].mean()
    return {int(y): row.to_dict() for y, row in means.iterrows()}


def value(path: Path, q: dict, seed: int) -> float:
    if "value" in q:
        return float(q["value"])
    by_year = yearly(str(path), q["run"], seed)
    year = int(q.get("year", max(by_year)))
    return float(by_year[year][q["indicator"]])


def check(path: Path, claim: dict, seeds: list[int], min_share: float) -> tuple[bool, str]:
    """Whether ``claim`` holds; and a one-line account of the numbers."""
    if "within" in claim:
        a = [value(path, claim["a"], s) for s in seeds]
        b = [value(path, claim["b"], s) for s in seeds]
        diffs = [x - y for x, y in zip(a, b, strict=True)]
        mean = sum(diffs) / len(diffs)
        w = float(claim["within"])
        share = sum(abs(d) <= 2 * w for d in diffs) / len(diffs)
        return abs(mean) <= w and share >= min_share, f"mean a-b = {mean:+.4f} (|.| <= {w}), seeds within 2w: {share:.0%}"
    hi = [value(path, claim["higher"], s) for s in seeds]
    lo = [value(path, claim["lower"], s) for s in seeds]
    share = sum(h > low for h, low in zip(hi, lo, strict=True)) / len(seeds)
    if "by_at_least" in claim:
        m = float(claim["by_at_least"])
        mean = sum(h - low for h, low in zip(hi, lo, strict=True)) / len(seeds)
        if m < 0:  # "no higher than, within |m|": the per-seed test allows the same slack
            share = sum(h - low >= 2 * m for h, low in zip(hi, lo, strict=True)) / len(seeds)
        return mean >= m and share >= min_share, f"mean higher-lower = {mean:+.4f} (>= {m}), seeds in order: {share:.0%}"
    r = float(claim["ratio_at_most"])
    ratio = (sum(lo) / len(lo)) / (sum(hi) / len(hi))
    return ratio <= r and share >= min_share, f"lower/higher = {ratio:.3f} (<= {r}), seeds in order: {share:.0%}"


def test_there_are_three_exercises_each_with_its_page():
    assert len(EXERCISES) >= 3
    for path in EXERCISES:
        assert path.with_suffix(".md").exists(), path


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_exercise_file_is_well_formed(path):
    doc = load(path)
    assert doc["title"] and doc["title_zh"]
    assert len(doc["seeds"]) >= 5, "claims are checked over several seeds"
    assert 0.5 <= doc["min_share_of_seeds"] <= 1
    md = path.with_suffix(".md").read_text(encoding="utf-8")
    for name, spec in doc["runs"].items():
        scenario_of(spec)  # valid settings
        assert spec.get("preset", "baseline") in md, f"{path.stem}.md does not tell students to use preset {spec.get('preset')!r} ({name})"
        for key in spec.get("set", {}):
            assert key in md, f"{path.stem}.md does not show the setting {key}"
    for claim in doc["claims"]:
        forms = [f for f in CLAIM_FORMS if f in claim]
        assert len(forms) == 1, claim["id"]
        assert claim["says"] in md, f"{path.stem}.md does not state claim {claim['id']!r} as tested"
        quantities = [claim[k] for k in ("higher", "lower", "a", "b") if k in claim]
        for q in quantities:
            assert "value" in q or (q["run"] in doc["runs"] and q["indicator"] in NAMES), q


def _claims():
    for path in EXERCISES:
        for claim in load(path)["claims"]:
            yield pytest.param(path, claim, id=f"{path.stem}-{claim['id']}")


@pytest.mark.parametrize(("path", "claim"), list(_claims()))
def test_exercise_claim_holds(path, claim):
    doc = load(path)
    ok, account = check(path, claim, list(doc["seeds"]), float(doc["min_share_of_seeds"]))
    assert ok, f"{path.name}: claim {claim['id']!r} fails: {claim['says']} -- {account}"
