"""The classroom dashboard without a browser: controls, languages, runs, pictures, the page."""

from __future__ import annotations

import argparse
import os
import socket
import warnings

import pytest

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
os.environ.setdefault("MPLBACKEND", "Agg")

from sim.dashboard import i18n  # noqa: E402
from sim.dashboard.runs import (  # noqa: E402
    ClassroomRun,
    changed_keys,
    load_preset,
    months_done,
    scenario_with,
    with_change_from_year,
)
from sim.errors import InputError  # noqa: E402
from sim.indicators import BY_NAME, NAMES  # noqa: E402
from sim.parameters import PARAMETERS  # noqa: E402
from sim.scenario import Scenario, preset_names  # noqa: E402

SMALL = {"years": 2, "population.smes": 40, "population.anchor_firms": 3,
         "population.schools.secondary": 3, "population.schools.higher": 2, "population.schools.undergraduate": 1}


def small(**over):
    return Scenario().with_overrides({**SMALL, **over})


# ---------------------------------------------------------------- controls from the declarations
def test_every_controllable_parameter_has_exactly_one_control():
    from sim.dashboard.app import CONTROL_KINDS, control_groups

    shown = [p.key for _, ps in control_groups() for p in ps]
    assert len(shown) == len(set(shown))
    assert set(shown) == {p.key for p in PARAMETERS if p.kind in CONTROL_KINDS}


def test_control_groups_follow_the_declarations_and_start_with_the_levers():
    from sim.dashboard.app import control_groups

    groups = control_groups()
    assert [g for g, _ in groups][:3] == ["policy", "labour_market", "population"]
    for group, params in groups:
        assert all(p.group == group for p in params)
        assert f"group_{group}" in i18n.UI


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_tooltips_carry_meaning_unit_range_and_key(lang):
    for p in PARAMETERS:
        tip = i18n.param_tooltip(p, lang)
        assert p.key in tip
        assert p.meaning in tip
        assert p.allowed() in tip


def test_slider_grids_hold_the_preset_values():
    """A browser slider snaps to min + k*step: every preset value must be on its grid."""
    from sim.dashboard.app import controllable, slider_spec, snap

    presets = [load_preset(n) for n in preset_names()] or [Scenario()]
    for p in PARAMETERS:
        if not (p.numeric and controllable(p)):
            continue
        for sc in presets:
            v = sc.get(p.key)
            lo, hi, step = slider_spec(p, v, v)
            assert lo <= v <= hi, p.key
            assert 20 <= (hi - lo) / step <= 1000 or p.kind == "int", (p.key, lo, hi, step)
            k = (v - lo) / step
            assert abs(k - round(k)) < 1e-6, (p.key, v, lo, step)
            assert snap(v, lo, step, p.kind) == v, p.key
            if p.kind == "int":
                assert float(step).is_integer() and step >= 1


def test_slider_ends_stay_near_the_default_for_huge_ranges():
    from sim.dashboard.app import slider_ends
    from sim.parameters import BY_KEY

    lo, hi = slider_ends(BY_KEY["firms.reputation_value_anchor"])
    assert lo == 0 and 8000 <= hi <= 20000
    assert slider_ends(BY_KEY["policy.subsidy.cost_share"]) == (0.0, 1.0)
    lo, hi = slider_ends(BY_KEY["years"])
    assert lo == 1 and 10 < hi <= 50


# ---------------------------------------------------------------- languages
def test_every_message_has_both_languages():
    for key, (en, zh) in i18n.UI.items():
        assert en and zh, key
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), key


def test_indicator_labels_in_both_languages():
    for name in NAMES:
        assert i18n.indicator_label(name, "zh") == BY_NAME[name].meaning_zh
        assert i18n.indicator_label(name, "en")


@pytest.mark.parametrize(("explicit", "env", "meta", "want"), [
    ("en", {"LANG": "zh_CN.UTF-8"}, {}, "en"),
    (None, {"LANG": "zh_CN.UTF-8"}, {}, "zh"),
    (None, {"LC_ALL": "zh_TW.UTF-8", "LANG": "en_US.UTF-8"}, {}, "zh"),
    (None, {"LC_ALL": "C.UTF-8", "LANG": "zh_CN.UTF-8"}, {}, "en"),
    (None, {"LANGUAGE": "zh_CN:en"}, {}, "zh"),
    (None, {"LANG": "en_GB.UTF-8"}, {"lang": "zh"}, "zh"),
    (None, {"LANG": "en_GB.UTF-8", "CONSIM_LANG": "zh"}, {}, "zh"),
    (None, {}, {}, "en"),
])
def test_default_language(explicit, env, meta, want):
    assert i18n.default_lang(explicit, meta, env) == want


# ---------------------------------------------------------------- runs
def test_settings_diff_and_overrides():
    base = small()
    vals = {"policy.subsidy.cost_share": 0.5, "population.smes": 40.0, "years": 2}
    assert changed_keys(base, vals) == ["policy.subsidy.cost_share"]
    sc = scenario_with(base, {"population.smes": 41.0})
    assert sc.get("population.smes") == 41 and isinstance(sc.get("population.smes"), int)
    assert scenario_with(base, {"years": 2}) is base


def test_reference_with_same_settings_is_the_same_run():
    sc = small()
    run = ClassroomRun(sc, seed=3, reference=sc)
    run.step(14)
    assert run.steps == 14 == months_done(run.ref_model)
    a, b = run.timeseries(), run.ref_timeseries()
    assert a.equals(b)


def test_a_moved_lever_changes_the_run_but_not_the_reference():
    sc = small()
    moved = scenario_with(sc, {"policy.subsidy.cost_share": 0.8, "policy.subsidy.annual_budget": 5e7})
    run = ClassroomRun(moved, seed=3, reference=sc)
    alone = ClassroomRun(sc, seed=3)
    run.step(12)
    alone.step(12)
    assert run.ref_timeseries().equals(alone.timeseries())
    assert run.timeseries()["subsidy_spent"].sum() > alone.timeseries()["subsidy_spent"].sum()


def test_a_run_stops_at_the_scenario_end():
    run = ClassroomRun(small(years=1), seed=1)
    assert run.step(100) == 12
    assert run.finished and run.steps == 12
    assert run.step(1) == 0


def test_a_change_from_next_year_keeps_the_history_shown():
    sc = small(years=3)
    run = ClassroomRun(sc, seed=4, reference=sc)
    run.step(7)  # year 1, March
    assert run.next_year == 2
    assert run.can_change_from_next_year(["policy.subsidy.cost_share"])
    assert not run.can_change_from_next_year(["population.smes"])
    new = run.with_change_from_next_year({"policy.subsidy.cost_share": 0.9})
    assert new.steps == 7
    assert new.timeseries().equals(run.timeseries())
    assert new.scenario.get("policy.schedule") == [{"year": 2, "set": {"policy.subsidy.cost_share": 0.9}}]
    new.step(17)
    run.step(17)
    ts, old = new.timeseries(), run.timeseries()
    year1 = ts["year"] == 1
    assert ts[year1].equals(old[year1])
    assert ts.loc[~year1, "subsidy_spent"].sum() > old.loc[~year1, "subsidy_spent"].sum()
    assert new.ref_timeseries().equals(old)


def test_changes_in_the_same_year_merge():
    sc = with_change_from_year(small(years=3), {"policy.subsidy.cost_share": 0.5}, 2)
    sc = with_change_from_year(sc, {"policy.subsidy.target": "sme"}, 2)
    sc = with_change_from_year(sc, {"policy.subsidy.cost_share": 0.0}, 3)
    assert sc.get("policy.schedule") == [
        {"year": 2, "set": {"policy.subsidy.cost_share": 0.5, "policy.subsidy.target": "sme"}},
        {"year": 3, "set": {"policy.subsidy.cost_share": 0.0}},
    ]


def test_unknown_preset_gives_defaults():
    assert load_preset("no-such-preset") == Scenario()
    assert load_preset(None) == Scenario()


# ---------------------------------------------------------------- pictures
def test_layout_is_deterministic_and_places_every_node():
    from sim.dashboard.views import compute_layout

    a = ClassroomRun(small(), seed=5).model
    b = ClassroomRun(small(), seed=5).model
    pa, pb = compute_layout(a), compute_layout(b)
    assert set(pa) == set(a.G.nodes)
    assert pa == pb
    r_school = max(abs(complex(*pa[s.node])) for s in a.schools)
    r_anchor = min(abs(complex(*pa[x.node])) for x in a.anchors)
    r_sme = min(abs(complex(*pa[x.node])) for x in a.smes)
    assert r_school < r_anchor < r_sme


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_network_and_charts_draw_without_missing_glyphs(lang):
    from sim.dashboard.views import CHARTS, draw_chart, draw_network, use_cjk_font

    if lang == "zh" and use_cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    run = ClassroomRun(small(), seed=2, reference=small())
    run.step(13)
    import io

    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*missing from font.*")
        figs = [draw_network(run.model, lang, "net")]
        figs += [draw_chart(k, names, run.timeseries(), run.ref_timeseries(), lang) for k, names in CHARTS]
        figs.append(draw_chart(*CHARTS[0], run.timeseries().iloc[0:0], None, lang))
        for f in figs:
            f.savefig(io.BytesIO(), format="png")


def test_charts_show_only_declared_indicators():
    from sim.dashboard.views import CHARTS

    for _, names in CHARTS:
        assert set(names) <= set(NAMES)


# ---------------------------------------------------------------- the page, rendered in-process
@pytest.fixture
def page(monkeypatch):
    import solara

    from sim.dashboard import app

    # The pictures are tested above; here only the page's logic, so skip rasterising.
    monkeypatch.setattr(app, "_png", lambda fig: b"")
    monkeypatch.setattr(app, "draw_chart", lambda *a, **k: None)
    monkeypatch.setattr(app, "draw_network", lambda *a, **k: None)
    app.reset_session_state()
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    yield app, rc
    rc.close()


def _text(rc, cls):
    import ipyvuetify as v

    return rc.find(v.Html, class_=cls).widget.children[0]


def test_page_steps_and_shows_time(page):
    import ipyvuetify as v

    app, rc = page
    app.values.set({**app.values.value, "years": 2})
    assert "0" in _text(rc, "consim-time")
    rc.find(v.Btn, class_="consim-step").widget.click()
    assert _text(rc, "consim-time") == app.time_label(app.current_run.value, app.lang.value)
    assert app.current_run.value.steps == 1
    rc.find(v.Btn, class_="consim-year").widget.click()
    assert app.current_run.value.steps == 13
    assert "13" in _text(rc, "consim-time")


def test_page_language_toggle(page):
    app, rc = page
    app.lang.set("zh")
    assert "第" in _text(rc, "consim-time")
    app.lang.set("en")
    assert "step" in _text(rc, "consim-time")


def test_page_lever_applies_at_month_zero_and_waits_for_reset_later(page):
    import ipyvuetify as v

    app, rc = page
    app.set_value("years", 2)
    rc.find(v.Btn, class_="consim-step").widget.click()
    assert app.current_run.value.scenario.get("years") == 2
    app.set_value("policy.subsidy.cost_share", 0.7)
    rc.find(v.Btn, class_="consim-step").widget.click()
    run = app.current_run.value
    assert run.steps == 2 and run.scenario.get("policy.subsidy.cost_share") == 0.0
    assert rc.find(v.Alert, class_="consim-pending").widgets
    rc.find(v.Btn, class_="consim-reset").widget.click()
    run = app.current_run.value
    assert run.steps == 0 and run.scenario.get("policy.subsidy.cost_share") == 0.7


def test_page_lever_mid_run_from_next_year(page):
    import ipyvuetify as v

    app, rc = page
    app.set_value("years", 3)
    app.step_months(14)
    app.set_value("policy.subsidy.cost_share", 0.6)
    rc.find(v.Btn, class_="consim-apply-next").widget.click()
    run = app.current_run.value
    assert run.steps == 14
    assert run.scenario.get("policy.schedule")[-1] == {"year": 3, "set": {"policy.subsidy.cost_share": 0.6}}
    assert not rc.find(v.Alert, class_="consim-pending").widgets
    app.set_compare(True)  # keeps the changed policy
    assert app.current_run.value.scenario.get("policy.schedule") == run.scenario.get("policy.schedule")


def test_page_compare_mode_keeps_progress(page):
    app, rc = page
    app.set_value("years", 2)
    app.step_months(5)
    app.set_compare(True)
    run = app.current_run.value
    assert run.ref_model is not None and run.steps == 5 == months_done(run.ref_model)
    assert rc.find(class_="consim-network-ref").widgets


@pytest.mark.skipif("baseline" not in preset_names(), reason="needs the baseline preset")
def test_page_preset_selector_loads_values(page):
    app, rc = page
    other = next(n for n in preset_names() if n != "baseline")
    app.choose_preset(other)
    want = load_preset(other)
    assert app.current_run.value.scenario.get("policy.subsidy.cost_share") == want.get("policy.subsidy.cost_share")
    assert app.values.value["policy.credential.mode"] == want.get("policy.credential.mode")


# ---------------------------------------------------------------- the command
def test_busy_port_is_an_input_error():
    from sim.dashboard.serve import check_port

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(InputError, match="already in use"):
            check_port("127.0.0.1", port)


def test_unknown_preset_is_an_input_error():
    from sim.dashboard.serve import dashboard_command

    args = argparse.Namespace(host="127.0.0.1", port=0, lang=None, scenario="no-such-preset")
    with pytest.raises(InputError, match="no preset"):
        dashboard_command(args)


def test_offline_assets_are_installed():
    from sim.dashboard.serve import check_offline_assets

    assert check_offline_assets() is None


def test_every_choice_value_has_a_label_in_both_languages():
    for p in PARAMETERS:
        for c in p.choices:
            assert c in i18n.CHOICES_EN and c in i18n.CHOICES_ZH, (p.key, c)
