"""Every preset in scenarios/ (discovered, not listed): described, runs, keeps invariants, does its job.

A preset named in ``EXPECT`` must show its specific effect against the
baseline (mean over ``SEEDS``, paired by seed). A new preset not yet named
there must at least change some indicator relative to the baseline; add its
expectation here.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from sim import Scenario
from sim.invariants import violations
from sim.scenario import META_KEYS, presets_dir

#: Every preset carries a title and description in both languages (``lang`` is optional).
REQUIRED_META = tuple(k for k in META_KEYS if k != "lang")

PRESETS = sorted(presets_dir().glob("*.toml"))
SEEDS = (1, 2, 3)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _mean(results, name):
    return float(np.mean([r.summary[name] for r in results]))


def _year_mean(results, name, year):
    return float(np.mean([r.timeseries.loc[r.timeseries["year"] == year, name].mean() for r in results]))


EXPECT = {
    "baseline": lambda p, b: _mean(p, "engagement_gap") > 0.4 and _mean(p, "sme_participation_rate") < 0.5,
    "subsidy": lambda p, b: (_mean(p, "sme_participation_rate") > _mean(b, "sme_participation_rate") + 0.1
                             and _mean(p, "subsidy_spent") > _mean(b, "subsidy_spent")),
    "subsidy_withdrawn": lambda p, b: (_year_mean(p, "sme_participation_rate", 8)
                                       < _year_mean(p, "sme_participation_rate", 7) - 0.1),
    "tax_credit": lambda p, b: _mean(p, "subsidy_spent") > _mean(b, "subsidy_spent"),
    "credential_ladder": lambda p, b: _mean(p, "retention_rate") > _mean(b, "retention_rate") + 0.03,
    "portable_credential": lambda p, b: _mean(p, "poaching_rate") > _mean(b, "poaching_rate") + 0.01,
    "registered_entity": lambda p, b: (_mean(p, "firm_participation_rate") > _mean(b, "firm_participation_rate") + 0.05
                                       and _mean(p, "deep_engagement_share") > _mean(b, "deep_engagement_share")),
    # the calibrated and comparison presets: the study's pattern, and the dual systems' engaged firms
    "china_calibrated": lambda p, b: (_mean(p, "engagement_gap") > 0.4 and _mean(p, "sme_participation_rate") < 0.5
                                      and _mean(p, "hosts_losing_money_share") > 0.4),
    "germany_like": lambda p, b: (_mean(p, "firm_participation_rate") > _mean(b, "firm_participation_rate") + 0.2
                                  and _mean(p, "retention_rate") > _mean(b, "retention_rate")
                                  and _mean(p, "engagement_gap") < _mean(b, "engagement_gap")),
    "switzerland_like": lambda p, b: (_mean(p, "firm_participation_rate") > _mean(b, "firm_participation_rate") + 0.2
                                      and _mean(p, "hosts_losing_money_share") < _mean(b, "hosts_losing_money_share")),
    "matching_platform": lambda p, b: (_mean(p, "active_partnerships") > _mean(b, "active_partnerships") + 20
                                       and _mean(p, "firm_participation_rate") > _mean(b, "firm_participation_rate")),
}


def test_presets_found():
    assert len(PRESETS) >= 8
    assert "baseline" in {p.stem for p in PRESETS}


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_is_described(path):
    sc = Scenario.load(path)
    assert sc == Scenario.load(path.stem)
    for key in REQUIRED_META:
        assert sc.meta.get(key, "").strip(), f"{path.name}: meta.{key} missing"
    assert sc.meta.get("lang", "en") in ("en", "zh"), f"{path.name}: meta.lang must be en or zh"
    assert CJK.search(sc.meta["title_zh"]) and CJK.search(sc.meta["description_zh"])
    if path.stem != "baseline":
        assert sc != Scenario.load("baseline"), f"{path.name} is identical to the baseline"


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_preset_runs_and_does_its_job(path, run_cached):
    sc = Scenario.load(path)
    schedule_years = [e["year"] for e in sc.get("policy.schedule")]
    years = min(sc.get("years"), max([4] + [y + 1 for y in schedule_years]))
    preset = sc.with_overrides({"years": years})
    baseline = Scenario.load("baseline").with_overrides({"years": years})
    p = [run_cached(preset, s, keep_model=True) for s in SEEDS]
    b = [run_cached(baseline, s) for s in SEEDS]
    for r in p:
        assert violations(r.model) == []
        assert len(r.timeseries) == years * 12
    check = EXPECT.get(path.stem)
    if check is None:
        assert any(p[0].summary[k] != b[0].summary[k] for k in p[0].summary), f"{path.name} changes nothing"
    else:
        summary = {k: round(_mean(p, k), 4) for k in p[0].summary}
        base_summary = {k: round(_mean(b, k), 4) for k in b[0].summary}
        assert check(p, b), f"{path.stem}: preset {summary}\nbaseline {base_summary}"
