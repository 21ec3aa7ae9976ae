"""The generated docs match the declarations, and the ODD names only things that exist.

``docs/parameters.md`` and ``docs/indicators.md`` are regenerated in memory by
``docs/gen_parameters.py`` and compared with the files; the ODD's references to
parameter keys, indicator names and ``module.CONSTANT`` names are resolved
against the code. Regenerate with ``.venv/bin/python docs/gen_parameters.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from sim.indicators import INDICATORS, NAMES
from sim.parameters import BY_KEY, PARAMETERS

DOCS = Path(__file__).resolve().parent.parent / "docs"
ODD = DOCS / "ODD.md"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_docs_{name}", DOCS / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _is_code_name(dotted: str) -> bool:
    """Whether ``module.name`` is an attribute of ``sim.module`` (a function or class named in the ODD)."""
    module, _, name = dotted.partition(".")
    try:
        return hasattr(importlib.import_module(f"sim.{module}"), name)
    except ImportError:
        return False


SIM_SOURCE = "\n".join(p.read_text(encoding="utf-8") for p in (DOCS.parent / "sim").glob("*.py"))


@pytest.fixture(scope="module")
def gen():
    return _load("gen_parameters")


@pytest.fixture(scope="module")
def odd_text():
    return ODD.read_text(encoding="utf-8")


@pytest.mark.parametrize("filename", ["parameters.md", "indicators.md"])
def test_generated_file_is_up_to_date(gen, filename):
    expected = {p.name: text for p, text in gen.outputs().items()}[filename]
    current = (DOCS / filename).read_text(encoding="utf-8")
    assert current == expected, (
        f"docs/{filename} is stale: run `.venv/bin/python docs/gen_parameters.py` and commit the result"
    )


def test_parameter_table_has_one_row_per_parameter_with_its_default_and_source(gen):
    text = gen.render_parameters()
    parameter_part = text.split("## Constants fixed in the code")[0]
    rows = [line for line in parameter_part.splitlines() if line.startswith("| `")]
    keys_in_rows = {re.match(r"\| `([^`]+)`", r).group(1) for r in rows}
    assert {p.key for p in PARAMETERS} <= keys_in_rows
    for p in PARAMETERS:
        row = next(r for r in rows if r.startswith(f"| `{p.key}` |"))
        cells = [c.strip() for c in row.strip("|").split(" | ")]
        assert cells[1] == p.kind
        assert cells[2] == gen.format_value(p.default)
        assert cells[-1] == p.source.replace("|", "\\|")


def test_parameter_table_lists_code_constants_with_their_values(gen):
    from sim import labour_market, projects

    text = gen.render_parameters()
    row = next(line for line in text.splitlines() if line.startswith("| `labour_market.ATTACHMENT`"))
    assert gen.format_value(labour_market.ATTACHMENT) in row
    row = next(line for line in text.splitlines() if line.startswith("| `projects.ACCESS_TIE`"))
    assert f"| {gen.format_value(projects.ACCESS_TIE)} |" in row


def test_stale_file_is_detected_by_check_mode(gen, tmp_path, monkeypatch):
    stale = tmp_path / "parameters.md"
    stale.write_text("old\n", encoding="utf-8")
    fresh = tmp_path / "indicators.md"
    fresh.write_text(gen.render_indicators(), encoding="utf-8")
    monkeypatch.setattr(gen, "outputs", lambda: {stale: gen.render_parameters(), fresh: gen.render_indicators()})
    assert gen.main(["--check"]) == 1
    assert stale.read_text(encoding="utf-8") == "old\n"  # --check never writes
    assert gen.main([]) == 0
    assert gen.main(["--check"]) == 0


def test_indicator_table_has_every_indicator_in_declaration_order(gen):
    text = gen.render_indicators()
    names = re.findall(r"^\| `([a-z_]+)` \|", text, flags=re.M)
    assert names == list(NAMES)
    for ind in INDICATORS:
        assert ind.meaning_zh in text


def test_odd_links_the_generated_tables_and_has_every_section(odd_text):
    assert "(parameters.md)" in odd_text and "(indicators.md)" in odd_text
    for heading in ("## 1 Purpose and patterns", "## 2 Entities, state variables and scales",
                    "## 3 Process overview and scheduling", "## 4 Design concepts", "## 5 Initialization",
                    "## 6 Input data", "## 7 Submodels", "## 10 Deviations and limitations", "## References"):
        assert heading in odd_text, heading


def test_odd_names_only_existing_parameter_keys(odd_text):
    groups = "population|labour_market|firms|schools|students|technology|government|policy"
    named = set(re.findall(rf"`((?:{groups})\.[a-z_.]+[a-z_])`", odd_text))
    # brace shorthand like `firms.deep_fixed_cost_{anchor,sme}` expands to declared keys
    for short in re.findall(rf"`((?:{groups})\.[a-z_.]*\{{[a-z_,]+\}}[a-z_.]*)`", odd_text):
        head, alts, tail = re.match(r"(.*)\{([^}]*)\}(.*)", short).groups()
        named |= {head + a + tail for a in alts.split(",")}
    named = {k for k in named if not k.endswith(".") and not _is_code_name(k)}
    prefixes = {k.rsplit(".", 1)[0] for k in BY_KEY} | {"policy.governance", "policy.platform", "policy.credential"}
    unknown = sorted(k for k in named if k not in BY_KEY and k not in prefixes
                     and not k.startswith("population.cohort_size"))
    assert not unknown, f"docs/ODD.md names parameter keys that sim/parameters.py does not declare: {unknown}"
    assert len(named) > 50  # the ODD really cites parameters by key


def test_odd_names_only_existing_code_constants(odd_text):
    modules = "economics|labour_market|projects|placement|schools|students|network|model|firms"
    named = set(re.findall(rf"`({modules})\.([A-Z][A-Z0-9_]+)`", odd_text))
    missing = sorted(f"{m}.{c}" for m, c in named if not hasattr(importlib.import_module(f"sim.{m}"), c))
    assert not missing, f"docs/ODD.md names constants that do not exist in sim/: {missing}"
    assert len(named) >= 10


def test_odd_names_only_existing_indicators(odd_text):
    named = set(re.findall(r"`([a-z]+(?:_[a-z]+)+)`", odd_text))
    looks_like_indicator = {n for n in named if n.endswith(("_rate", "_share", "_index", "_gap", "_quality",
                                                              "_slots", "_students", "_years", "_completed",
                                                              "_spent", "_firm", "_partnerships"))}
    unknown = sorted(n for n in looks_like_indicator
                     if n not in NAMES and not any(n in k for k in BY_KEY) and n not in SIM_SOURCE)
    assert not unknown, f"docs/ODD.md names indicators that sim/indicators.py does not declare: {unknown}"


def test_odd_results_block_is_present_and_generated(odd_text):
    gen_results = _load("gen_results")
    assert gen_results.BEGIN in odd_text and gen_results.END in odd_text
    block = odd_text.split(gen_results.BEGIN, 1)[1].split(gen_results.END, 1)[0]
    assert "Generated by `docs/gen_results.py`" in block
    assert "commit `" in block
    for name in NAMES:
        assert f"`{name}`" in block


def test_results_splice_replaces_only_the_block():
    gen_results = _load("gen_results")
    text = f"head\n{gen_results.BEGIN}\nold\n{gen_results.END}\ntail\n"
    out = gen_results.splice(text, "new\n")
    assert out == f"head\n{gen_results.BEGIN}\nnew\n{gen_results.END}\ntail\n"
    with pytest.raises(SystemExit):
        gen_results.splice("no markers here", "new\n")


def test_odd_worked_example_numbers_match_the_code(odd_text):
    """The hand-written numbers of the ODD's worked examples (7.1, 5) are what the code computes at the defaults."""
    import numpy as np

    from sim import Scenario
    from sim import economics as eco
    from sim.model import ConsortiumModel

    sc = Scenario().with_overrides({"population.smes": 20, "population.anchor_firms": 2, "warmup_years": 1,
                                    "years": 1})
    model = ConsortiumModel(sc, seed=1)
    terms = model.slot_terms()
    assert terms.transaction_per_match == sc.get("firms.transaction_cost_per_match")  # council, no platform: τ = 1
    w = np.array([sc.get("labour_market.entry_wage")])
    one = np.array([1.0])

    def yuan(x: float, step: int = 1) -> str:
        return f"{int(round(float(x) / step) * step):,}"

    shallow, deep = (float(eco.monthly_cost(terms, w, lvl)[0]) for lvl in (1, 2))
    out_prod, cost = eco.placement_net_benefit(terms, w, np.array([True]), 1, one)
    out_inv, _ = eco.placement_net_benefit(terms, w, np.array([False]), 1, one)
    expected = {
        "monthly cost, shallow": f"$c$ = {yuan(shallow)} (shallow)",
        "monthly cost, deep": f"or {yuan(deep)} (deep) yuan a month",
        "upfront": f"upfront\n{yuan(eco.upfront_cost(terms))} yuan",
        "output, production motive": f"$O$ ≈ {yuan(out_prod[0], 100)}",
        "cost": f"$C$ ≈ {yuan(cost[0], 100)}",
        "output, investment motive": f"$O$ ≈ {yuan(out_inv[0], 100)} (a loss)",
        "hiring cost": f"gives {yuan(eco.hiring_cost(terms, w)[0])} yuan",
        "project prior": f"about {yuan(model._project_value_prior(), 100)} yuan a year",
    }
    text = " ".join(odd_text.split())  # the ODD wraps lines
    missing = {k: v for k, v in expected.items() if " ".join(v.split()) not in text}
    assert not missing, f"docs/ODD.md worked examples disagree with the code: {missing}"


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    text = heading.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(text: str) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


@pytest.mark.parametrize("source", ["ODD.md", "parameters.md", "indicators.md"])
def test_links_between_the_docs_point_to_existing_sections(source):
    text = (DOCS / source).read_text(encoding="utf-8")
    links = re.findall(r"\]\(((?:ODD|parameters|indicators)\.md)?#([^)]+)\)", text)
    assert links or source != "ODD.md"
    broken = []
    for target, anchor in links:
        target_text = (DOCS / (target or source)).read_text(encoding="utf-8")
        if anchor not in _anchors(target_text):
            broken.append(f"{target or source}#{anchor}")
    assert not broken, f"docs/{source} links to sections that do not exist: {broken}"
