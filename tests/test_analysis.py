"""Analysis of stored sweep results: tables, paired effects, costs, sensitivity, PRIM, report.

Fixture stores are built once per session: a tiny real sweep of the model (a lever grid
crossed with a Latin hypercube over two uncertain parameters), a tiny real lever grid,
a partial sweep (one shard of two), and toy sweeps with known answers (stand-in run
functions, run in-process) for the sensitivity and scenario-discovery checks.
"""

from __future__ import annotations

import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import experiments
from analysis.costs import cost_effectiveness
from analysis.design import sweep_design
from analysis.discovery import discover
from analysis.fonts import find_cjk_font, use_font_for
from analysis.headline import headline_numbers, headline_table, to_markdown
from analysis.report import build_report
from analysis.sensitivity import DUMMY, pawn_median, sensitivity
from analysis.stats import effects, paired_runs, point_table, t_interval
from experiments.testing import STEPS_PER_YEAR, SyntheticResult
from sim.indicators import NAMES
from sim.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"years": 3, "population.smes": 60, "population.anchor_firms": 4}


def _sweep(doc: dict, out: Path, run_function=None, shard=None) -> experiments.SweepResults:
    sw = experiments.Sweep(doc)
    sw.run(out, executor="inprocess", progress=False, run_function=run_function, shard=shard)
    return experiments.load(out)


# ---------------------------------------------------------------- toy run functions (known answers)
def _toy_result(scenario: Scenario, seed: int, values: dict[str, float]) -> SyntheticResult:
    years = int(scenario.get("years"))
    steps = years * STEPS_PER_YEAR
    rng = np.random.default_rng([seed, int(1e6 * scenario.get("firms.peer_weight")) % 2**31,
                                 int(1e6 * scenario.get("policy.platform.placement_matching")) % 2**31])
    data = {"step": np.arange(1, steps + 1), "year": np.repeat(np.arange(1, years + 1), STEPS_PER_YEAR)}
    summary = {}
    for name in NAMES:
        base = values.get(name, 0.3)
        noise = 0.01 * rng.standard_normal()
        data[name] = np.full(steps, base + noise)
        summary[name] = float(base + noise)
    return SyntheticResult(summary, pd.DataFrame(data))


def additive_run(scenario: Scenario, seed: int) -> SyntheticResult:
    """y = 0.3 cost_share + 0.2 placement_matching + small noise; peer_weight is inert."""
    y = 0.2 + 0.3 * scenario.get("policy.subsidy.cost_share") + 0.2 * scenario.get("policy.platform.placement_matching")
    return _toy_result(scenario, seed, {"sme_participation_rate": y, "firm_participation_rate": y})


def failing_lever_run(scenario: Scenario, seed: int) -> SyntheticResult:
    """The subsidy raises SME participation by 0.3 x cost_share, but only with fewer than 10 competitors."""
    works = scenario.get("labour_market.competitors_per_sector") < 10
    y = 0.3 + (0.3 * scenario.get("policy.subsidy.cost_share") if works else 0.0)
    return _toy_result(scenario, seed, {"sme_participation_rate": y, "firm_participation_rate": y,
                                        "subsidy_spent": 1e6 * scenario.get("policy.subsidy.cost_share")})


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def stores(tmp_path_factory):
    base = tmp_path_factory.mktemp("analysis")
    out = {}
    out["design"] = _sweep({
        "name": "design", "base": "baseline", "replications": 2, "seed": 5, **SMALL,
        "network_snapshots": False,  # these reports test the store without snapshots (skipped with a note)
        "keep": ["firm_participation_rate", "sme_participation_rate", "subsidy_spent"],
        "set": {"policy.subsidy.target": "sme"},
        "vary": {"policy.subsidy.cost_share": [0.0, 0.5]},
        "design": {"method": "lhs", "samples": 12, "ranges": {
            "labour_market.competitors_per_sector": [0.0, 20.0], "firms.shallow_fixed_cost": [0.0, 40000.0]}},
    }, base / "design")
    grid_doc = {
        "name": "grid", "base": "baseline", "replications": 2, "seed": 9, **SMALL,
        "network_snapshots": False,  # test_report_draws_network_snapshot_when_present adds its own
        "description": "Grid <script>alert('x')</script> & co",
        "keep": ["sme_participation_rate", "firm_participation_rate"],
        "vary": {"policy.subsidy.cost_share": [0.0, 0.5], "policy.platform.placement_matching": [0.0, 1.0]},
    }
    out["grid"] = _sweep(grid_doc, base / "grid")
    out["partial"] = _sweep(grid_doc, base / "partial", shard=(0, 2))
    three_levers = {"policy.subsidy.cost_share": [0.0, 1.0], "policy.platform.placement_matching": [0.0, 1.0],
                    "firms.peer_weight": [0.0, 3.0]}

    def design_doc(name: str, method: str, samples: int, replications: int, seed: int) -> dict:
        """A one-year sweep over the three levers with a sampled design, nothing kept per step."""
        return {"name": name, "base": "baseline", "replications": replications, "seed": seed, "years": 1,
                "keep": "none", "design": {"method": method, "samples": samples, "ranges": three_levers}}

    for name, method, samples, replications, seed in (("sobol", "sobol", 64, 2, 3), ("morris", "morris", 20, 2, 3),
                                                      ("lhs", "lhs", 400, 1, 4), ("lhs_small", "lhs", 12, 2, 4)):
        out[name] = _sweep(design_doc(name, method, samples, replications, seed), base / name,
                           run_function=additive_run)
    out["prim"] = _sweep({
        "name": "prim", "base": "baseline", "replications": 2, "seed": 8, "years": 1, "keep": "none",
        "vary": {"policy.subsidy.cost_share": [0.0, 0.5]},
        "design": {"method": "lhs", "samples": 60, "ranges": {
            "labour_market.competitors_per_sector": [0.0, 20.0], "firms.peer_weight": [0.0, 3.0]}},
    }, base / "prim", run_function=failing_lever_run)
    return out


# ---------------------------------------------------------------- indicators across replications
def test_t_interval_matches_textbook():
    v = np.array([1.0, 2.0, 4.0])
    mean, sd, lo, hi, n = t_interval(v)
    assert (mean, n) == (pytest.approx(7 / 3), 3)
    half = 4.302652729911275 * np.std(v, ddof=1) / np.sqrt(3)  # t_{0.975, 2}
    assert lo == pytest.approx(mean - half) and hi == pytest.approx(mean + half)
    assert np.isnan(t_interval(np.array([1.0]))[2])


def test_point_table_combines_replications(stores):
    res = stores["grid"]
    tab = point_table(res.summary, res.varied_keys, ["sme_participation_rate"])
    assert len(tab) == 4 and (tab["n"] == 2).all()
    runs = res.summary[res.summary["point_id"] == 3]["sme_participation_rate"]
    row = tab[tab["point_id"] == 3].iloc[0]
    assert row["mean"] == pytest.approx(runs.mean()) and row["sd"] == pytest.approx(runs.std(ddof=1))
    assert row["ci_low"] <= row["mean"] <= row["ci_high"]


def test_design_roles_and_reference(stores):
    d = sweep_design(stores["design"])
    assert d.levers == ["policy.subsidy.cost_share"]
    assert d.uncertainties == ["labour_market.competitors_per_sector", "firms.shallow_fixed_cost"]
    assert d.reference == {"policy.subsidy.cost_share": 0.0} and d.reference_source == "base scenario"
    assert d.base_firms == 64
    with pytest.raises(ValueError, match="not a value"):
        sweep_design(stores["design"], reference={"policy.subsidy.cost_share": 0.3})


def test_paired_runs_share_seed_and_uncertain_values(stores):
    res = stores["design"]
    d = sweep_design(res)
    pairs = paired_runs(res.summary, d, ["sme_participation_rate"])
    assert len(pairs) == 12 * 2  # every uncertain point x replication has its reference run
    assert (pairs["seed"] == pairs["ref_seed"]).all()
    summ = res.summary.set_index("run_id")
    for r in pairs.head(5).itertuples():
        ref = summ.loc[r.ref_run_id]
        assert summ.loc[r.run_id, "sme_participation_rate"] - ref["sme_participation_rate"] == pytest.approx(
            r.diff_sme_participation_rate)
        assert summ.loc[r.run_id, "firms.shallow_fixed_cost"] == ref["firms.shallow_fixed_cost"]
    eff = effects(pairs, d, ["sme_participation_rate"])
    assert len(eff) == 1
    e = eff.iloc[0]
    assert e["diff"] == pytest.approx(pairs["diff_sme_participation_rate"].mean())
    assert e["pairs"] == 24 and e["ci_low"] < e["diff"] < e["ci_high"]


def test_cost_effectiveness_arithmetic(stores):
    res = stores["prim"]
    d = sweep_design(res)
    pairs = paired_runs(res.summary, d)
    ce = cost_effectiveness(pairs, d).iloc[0]
    firms = d.base_firms
    dm = (pairs["pol_subsidy_spent"] - pairs["ref_subsidy_spent"]).mean()
    df = ((pairs["pol_firm_participation_rate"] - pairs["ref_firm_participation_rate"]) * firms).mean()
    assert ce["extra_money"] == pytest.approx(dm)
    assert ce["yuan_per_extra_firm"] == pytest.approx(dm / df)
    assert ce["extra_firms_per_million"] == pytest.approx(df / (dm / 1e6))
    assert ce["yuan_per_extra_firm_low"] <= ce["yuan_per_extra_firm"] <= ce["yuan_per_extra_firm_high"]
    share = (pairs["ref_firm_participation_rate"] / pairs["pol_firm_participation_rate"]).clip(upper=1).mean()
    assert ce["deadweight_share"] == pytest.approx(share)
    assert 0 < ce["deadweight"] < ce["policy_money"]


def test_headline_table_has_reference_and_policy_rows(stores):
    res = stores["grid"]
    d = sweep_design(res)
    numbers = headline_numbers(res.summary, d)
    tab = headline_table(numbers, d)
    assert len(tab) == 4 and tab.iloc[0, 0].startswith("Reference point")
    assert "pp" in tab.iloc[1]["SME participation rate"]
    zh = headline_table(numbers, d, "zh")
    assert "中小企业参与比例" in zh.columns
    assert to_markdown(tab).count("\n") == 5


# ---------------------------------------------------------------- sensitivity (known answers)
def test_sobol_recovers_analytic_indices_and_dummy_is_at_floor(stores):
    res = sensitivity(stores["sobol"], "sme_participation_rate", "sobol")
    tab = res.table.set_index("parameter")
    # y = 0.3 a + 0.2 b, a, b ~ U(0, 1): S_a = 0.09 / 0.13, S_b = 0.04 / 0.13, inert c: 0
    assert tab.loc["policy.subsidy.cost_share", "ST"] == pytest.approx(0.09 / 0.13, abs=0.12)
    assert tab.loc["policy.platform.placement_matching", "ST"] == pytest.approx(0.04 / 0.13, abs=0.12)
    assert res.ranking[-1] == "firms.peer_weight"
    assert res.floor_source == "replications" and 0 < res.noise_floor < 0.1
    assert not tab.loc["firms.peer_weight", "above_floor"]
    assert tab.loc["policy.subsidy.cost_share", "above_floor"]


def test_morris_ranks_and_noise_floor(stores):
    res = sensitivity(stores["morris"], "sme_participation_rate", "morris")
    tab = res.table.set_index("parameter")
    assert res.ranking == ["policy.subsidy.cost_share", "policy.platform.placement_matching", "firms.peer_weight"]
    assert tab.loc["policy.subsidy.cost_share", "mu_star"] == pytest.approx(0.3, abs=0.05)
    assert tab.loc["firms.peer_weight", "value"] < res.noise_floor
    assert res.enough


@pytest.mark.parametrize("method", ["rbd_fast", "pawn"])
def test_sample_free_methods_put_the_dummy_at_the_noise_floor(stores, method):
    res = sensitivity(stores["lhs"], "sme_participation_rate", method)
    tab = res.table.set_index("parameter")
    assert DUMMY in tab.index and res.floor_source == "dummy"
    assert tab.loc["policy.subsidy.cost_share", "above_floor"]
    assert tab.loc["policy.platform.placement_matching", "above_floor"]
    assert not tab.loc["firms.peer_weight", "above_floor"] and not tab.loc[DUMMY, "above_floor"]
    assert res.ranking[:2] == ["policy.subsidy.cost_share", "policy.platform.placement_matching"]
    assert set(res.ranking[2:]) == {"firms.peer_weight", DUMMY}
    assert res.enough, res.checks


def test_small_sample_is_declared_too_small(stores):
    res = sensitivity(stores["lhs_small"], "sme_participation_rate", "rbd_fast")
    assert not res.enough
    assert any(not ok for _, ok in res.checks)


def test_sensitivity_refuses_unsuitable_designs(stores):
    with pytest.raises(ValueError, match="sobol"):
        sensitivity(stores["lhs"], "sme_participation_rate", "sobol")
    with pytest.raises(ValueError, match="grid"):
        sensitivity(stores["grid"], "sme_participation_rate", "rbd_fast")


def test_fast_pawn_matches_salib():
    from SALib.analyze import pawn

    rng = np.random.default_rng(2)
    X = rng.random((50, 3))
    Y = 2 * X[:, 0] + X[:, 1] ** 2 + 0.1 * rng.standard_normal(50)
    problem = {"num_vars": 3, "names": ["a", "b", "c"], "bounds": [[0, 1]] * 3}
    np.testing.assert_allclose(pawn_median(X, Y, 5), pawn.analyze(problem, X, Y, S=5)["median"])


def test_real_model_sensitivity_runs_with_dummy(stores):
    res = sensitivity(stores["design"], "sme_participation_rate", "rbd_fast",
                      where={"policy.subsidy.cost_share": 0.0})
    assert DUMMY in res.ranking and res.points == 12 and res.replications == 2
    assert not res.enough  # 12 points are not enough, and the verdict says so


# ---------------------------------------------------------------- scenario discovery
def test_prim_finds_the_region_where_the_lever_fails(stores):
    res = stores["prim"]
    d = discover(res, sweep_design(res), "sme_participation_rate", min_gain=0.05)
    truth = d.x["labour_market.competitors_per_sector"] >= 10
    assert (d.failed == truth.to_numpy()).all()
    assert d.boxes, d.notes
    box = d.boxes[0]
    assert box.coverage >= 0.8 and box.density >= 0.8
    lim = box.limits.set_index("parameter")
    assert "labour_market.competitors_per_sector" in lim.index
    assert lim.loc["labour_market.competitors_per_sector", "low"] == pytest.approx(10, abs=2.5)


def test_prim_threshold_under_a_lever(stores):
    res = stores["prim"]
    d = discover(res, sweep_design(res), "sme_participation_rate", min_gain=None, threshold=0.4,
                 lever={"policy.subsidy.cost_share": 0.5})
    assert len(d.failed) == 60 and d.description.startswith("with policy.subsidy.cost_share = 0.5")
    assert (d.failed == (d.x["labour_market.competitors_per_sector"] >= 10).to_numpy()).all()
    assert d.boxes[0].density >= 0.8 and d.boxes[0].lift > 1


def test_prim_on_real_model_returns_box_statistics(stores):
    res = stores["design"]
    design = sweep_design(res)
    gains = paired_runs(res.summary, design, ["sme_participation_rate"]).groupby(design.uncertainties)[
        "diff_sme_participation_rate"].mean()
    d = discover(res, design, "sme_participation_rate", min_gain=float(gains.median()))
    assert 0 < d.failures < len(d.failed)
    for b in d.boxes:
        assert 0 <= b.coverage <= 1 and 0 <= b.density <= 1 and 0 < b.mass <= 1


# ---------------------------------------------------------------- report
def _images(html_text: str) -> int:
    return html_text.count('src="data:image/png;base64,')


def test_report_english_on_design_sweep(stores, tmp_path):
    rep = build_report(stores["design"].dir, lang="en", out=tmp_path / "r.html")
    text = rep.path.read_text(encoding="utf-8")
    assert "Headline" in text and 'class="headline"' in text
    for tag in ("timeseries", "dose_response", "effect_bars", "tornado", "sensitivity_rbd_fast", "sensitivity_pawn"):
        assert tag in rep.figures
    assert _images(text) == len(rep.figures)
    assert "network snapshot" in text  # skipped with a note
    assert "<script" not in text.lower() and not re.search(r"(src|href)=\"https?:", text)
    assert rep.sensitivity and rep.discoveries


def test_report_chinese_renders_with_cjk_font(stores, tmp_path):
    if find_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rep = build_report(stores["grid"].dir, lang="zh", out=tmp_path / "r.zh.html")
    missing = [w for w in caught if "missing from" in str(w.message)]
    assert not missing, missing[:2]
    assert rep.figure_lang == "zh" and "heatmap" in rep.figures
    text = rep.path.read_text(encoding="utf-8")
    assert "要点" in text and "中小企业参与比例" in text and 'lang="zh-CN"' in text


def test_figures_fall_back_to_english_without_cjk_font(monkeypatch):
    import sim.fonts as fonts

    monkeypatch.setattr(fonts, "_found", [None])
    assert use_font_for("zh") == ("en", None)


def test_report_escapes_text_from_files(stores, tmp_path):
    rep = build_report(stores["grid"].dir, out=tmp_path / "r.html")
    text = rep.path.read_text(encoding="utf-8")
    assert "<script>alert" not in text
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co" in text


def test_report_on_partial_sweep_says_what_is_missing(stores, tmp_path):
    res = stores["partial"]
    c = res.counts()
    assert 0 < c["done"] < c["total"]
    rep = build_report(res.dir, out=tmp_path / "p.html")
    text = rep.path.read_text(encoding="utf-8")
    assert f"{c['done']} of {c['total']} runs done" in text
    assert "Design points with missing replications" in text


def test_report_draws_network_snapshot_when_present(stores, tmp_path):
    d = tmp_path / "grid"
    shutil.copytree(stores["grid"].dir, d)
    (d / "networks").mkdir()
    nodes = [{"id": 0, "kind": "school", "effort": 0.8}, {"id": 1, "kind": "anchor", "engagement": "deep"}]
    nodes += [{"id": i, "kind": "sme", "engagement": ["none", "shallow", "deep"][i % 3], "sector": "a"} for i in range(2, 30)]
    links = [{"source": 0, "target": i, "kind": "partnership", "strength": 0.5} for i in range(1, 10)]
    links += [{"source": i, "target": 1, "kind": "supply"} for i in range(10, 20)]
    (d / "networks" / "0.json").write_text(json.dumps({"run_id": 0, "nodes": nodes, "links": links}))
    rep = build_report(d, out=tmp_path / "n.html")
    assert "network" in rep.figures


def test_cli_report_default_path_and_errors(stores, tmp_path, capsys):
    from sim.cli import main

    d = tmp_path / "grid"
    shutil.copytree(stores["grid"].dir, d)
    assert main(["report", str(d), "--lang", "zh"]) == 0
    assert (d / "report.zh.html").exists()
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "no such directory" in capsys.readouterr().err


def test_analysis_never_imports_the_model():
    for path in (ROOT / "analysis").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"import sim\.run|from sim\.run|from sim import .*\brun\b|ConsortiumModel|sim\.model",
                             text), path.name


def test_one_replication_leaves_the_sobol_floor_unknown_and_the_verdict_no(tmp_path):
    res = _sweep({"name": "s1", "base": "baseline", "seed": 1, "replications": 1, "years": 1, "keep": "none",
                  "design": {"method": "sobol", "samples": 32, "ranges": {
                      "policy.subsidy.cost_share": [0.0, 1.0], "firms.peer_weight": [0.0, 3.0]}}},
                 tmp_path / "s1", run_function=additive_run)
    sa = sensitivity(res, "sme_participation_rate", "sobol")
    assert sa.noise_floor is None and not sa.enough
    assert any("noise floor is known" in text and not ok for text, ok in sa.checks)


def test_report_handles_choice_and_bool_levers(tmp_path):
    from experiments.testing import synthetic_run

    res = _sweep({"name": "choice", "base": "baseline", "seed": 1, "replications": 2, "years": 1,
                  "vary": {"policy.governance.legal_status": ["council", "registered_entity"],
                           "policy.governance.ip_contracts": [False, True]}},
                 tmp_path / "choice", run_function=synthetic_run)
    d = sweep_design(res)
    assert d.reference == {"policy.governance.legal_status": "council", "policy.governance.ip_contracts": False}
    rep = build_report(res.dir, out=tmp_path / "c.html")
    assert "heatmap" in rep.figures and "dose_response" not in rep.figures
    assert len(rep.headline) == 4
