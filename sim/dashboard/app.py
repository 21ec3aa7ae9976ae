"""The classroom dashboard's page (Solara, on Mesa's visualization machinery).

Design note
-----------
NetLogo's interface is the model here: levers on the left, the consortium in
the middle, live plots beside it, and play / step / reset. The page is a Solara
component tree. From Mesa's SolaraViz it takes the update counter
(:data:`mesa.visualization.utils.update_counter` and ``force_update``) that
redraws every view after a step, and the play loop of Mesa's
``ModelController`` (a Solara task that steps while "play" is on); it replaces
SolaraViz's generic sidebar because the classroom needs grouped controls with
units and tooltips, a preset selector, a compare mode and two languages, which
SolaraViz's fixed English sidebar cannot give.

Controls are generated from :data:`sim.parameters.PARAMETERS` (groups, units,
ranges, meanings); the charts from :data:`sim.indicators.INDICATORS`.
Settings take effect when the run restarts: at once while the run is at month
0, otherwise after "Reset" (same seed), so a class compares like with like.
Compare mode builds a reference model with the same seed and steps it along.

Every session (browser tab) has its own state: Solara's module-level reactive
variables are per connection.
"""

from __future__ import annotations

import html
import io
import math
import os
import time
from typing import Any

import reacton.ipyvuetify as rv
import reacton.ipywidgets as rw
import solara
import solara.lab
from mesa.visualization.utils import force_update, update_counter

from sim.dashboard import i18n
from sim.dashboard.i18n import text
from sim.dashboard.runs import (
    ClassroomRun,
    changed_keys,
    default_preset,
    load_preset,
    months_done,
    scenario_with,
)
from sim.dashboard.views import CHARTS, draw_chart, draw_network, use_cjk_font
from sim.indicators import BY_NAME
from sim.parameters import BY_KEY, Param, groups
from sim.scenario import preset_names

use_cjk_font()

#: Order of the control panels; the first three are the classroom's levers.
GROUP_ORDER = ("policy", "labour_market", "population", "run", "firms", "schools", "students",
               "technology", "government")
CONTROL_KINDS = ("int", "float", "share", "choice", "bool")
#: Indicators in the "now" table under the charts.
KPI_NAMES = ("firm_participation_rate", "sme_participation_rate", "anchor_participation_rate",
             "engagement_gap", "placement_quality", "retention_rate", "poaching_rate",
             "graduate_local_employment_rate", "subsidy_spent", "cost_per_participating_firm")
#: Default pause between frames while playing (ms); the "delay" slider changes it.
PLAY_DELAY_MS = 250
PRESET_AS_LOADED = ""


def controllable(p: Param) -> bool:
    """Whether the dashboard offers a control for ``p`` (numbers, choices, switches)."""
    return p.kind in CONTROL_KINDS


def control_groups() -> list[tuple[str, list[Param]]]:
    """The control panels: (group, parameters), in classroom order, from the declarations."""
    g = groups()
    order = list(GROUP_ORDER) + [k for k in g if k not in GROUP_ORDER]
    return [(k, [p for p in g[k] if controllable(p)]) for k in order if k in g and any(controllable(p) for p in g[k])]


def preset_values(name: str | None) -> dict[str, Any]:
    """Values of every controllable parameter in preset ``name``."""
    sc = load_preset(name)
    return {p.key: sc.get(p.key) for _, ps in control_groups() for p in ps}


def _initial_lang() -> str:
    preset = os.environ.get("CONSIM_DASHBOARD_PRESET") or default_preset()
    meta = load_preset(preset).meta if preset else {}
    return i18n.default_lang(os.environ.get("CONSIM_DASHBOARD_LANG"), meta)


_START_PRESET = os.environ.get("CONSIM_DASHBOARD_PRESET") or default_preset()

# ---------------------------------------------------------------- per-session state
lang = solara.reactive(_initial_lang())
preset = solara.reactive(_START_PRESET)
values: solara.Reactive[dict[str, Any]] = solara.reactive(preset_values(_START_PRESET))
seed = solara.reactive(1)
compare = solara.reactive(False)
#: The reference run: PRESET_AS_LOADED (the chosen preset without the moved levers) or a preset's name.
reference_kind = solara.reactive("")
current_run: solara.Reactive[ClassroomRun | None] = solara.reactive(None)
applied: solara.Reactive[tuple | None] = solara.reactive(None)
#: The lever values the current run uses now (after any change applied mid-run).
applied_values: solara.Reactive[dict[str, Any]] = solara.reactive({})
playing = solara.reactive(False)
months_per_frame = solara.reactive(1)
play_delay_ms = solara.reactive(PLAY_DELAY_MS)
error = solara.reactive("")
open_panels = solara.reactive([0])


def reset_session_state() -> None:
    """Put this session's state back to how a fresh page starts (used by tests)."""
    playing.set(False)
    lang.set(_initial_lang())
    preset.set(_START_PRESET)
    values.set(preset_values(_START_PRESET))
    seed.set(1)
    compare.set(False)
    reference_kind.set(PRESET_AS_LOADED)
    current_run.set(None)
    applied.set(None)
    applied_values.set({})
    months_per_frame.set(1)
    play_delay_ms.set(PLAY_DELAY_MS)
    error.set("")
    open_panels.set([0])


def settings_signature() -> tuple:
    """Everything a run is built from; a run is stale when this changes."""
    return (preset.value, tuple(sorted(values.value.items(), key=lambda kv: kv[0])), int(seed.value),
            bool(compare.value), reference_kind.value)


def _reference_scenario() -> Any:
    if not compare.value:
        return None
    kind = reference_kind.value
    if kind != PRESET_AS_LOADED and kind in preset_names():
        return load_preset(kind)
    return load_preset(preset.value)


def build_run(fast_forward: int = 0, scenario: Any = None) -> None:
    """Build the run from the current settings (or ``scenario``), replaying ``fast_forward`` months."""
    try:
        if scenario is None:
            scenario = scenario_with(load_preset(preset.value), values.value)
        run = ClassroomRun(scenario, seed=int(seed.value), reference=_reference_scenario())
        if fast_forward:
            run.step(fast_forward)
        error.set("")
    except Exception as e:  # noqa: BLE001 - shown to the class, not raised into the UI
        error.set(f"{type(e).__name__}: {e}")
        return
    # The views redraw when the run changes (they depend on it): no force_update needed.
    applied.set(settings_signature())
    applied_values.set(dict(values.value))
    current_run.set(run)


def ensure_run() -> ClassroomRun | None:
    """The current run, rebuilt first when settings changed at month 0."""
    run = current_run.value
    if run is None or (applied.value != settings_signature() and run.steps == 0):
        build_run()
    return current_run.value


def step_months(months: int) -> None:
    """Advance the run (and its reference) by ``months`` and redraw."""
    run = ensure_run()
    if run is None:
        return
    try:
        run.step(months)
    except Exception as e:  # noqa: BLE001
        error.set(text("model_error", lang.value, error=f"{type(e).__name__}: {e}"))
        playing.set(False)
    if run.finished:
        playing.set(False)
    force_update()


def only_reference_changed() -> bool:
    """Whether the settings differ from the run's only in compare mode or reference."""
    a = applied.value
    return a is not None and a[:3] == settings_signature()[:3]


def set_compare(on: bool) -> None:
    """Toggle compare mode, keeping the run's progress (deterministic replay)."""
    playing.set(False)
    compare.set(on)
    run = current_run.value
    if run is not None and only_reference_changed():
        build_run(fast_forward=run.steps, scenario=run.scenario)


def set_reference_kind(kind: str) -> None:
    """Choose the reference run, keeping the run's progress."""
    playing.set(False)
    reference_kind.set(kind)
    run = current_run.value
    if run is not None and compare.value and only_reference_changed():
        build_run(fast_forward=run.steps, scenario=run.scenario)


def mid_run_changes() -> dict[str, Any]:
    """Levers moved since the run was built or last changed, when only levers moved."""
    a = applied.value
    if a is None or a[0] != preset.value or a[2] != int(seed.value):
        return {}
    before = applied_values.value
    return {k: v for k, v in values.value.items() if k in before and v != before[k]}


def can_apply_from_next_year() -> bool:
    """Whether the moved levers can take effect from next year without a restart."""
    run = current_run.value
    changes = mid_run_changes()
    return run is not None and not run.finished and run.can_change_from_next_year(list(changes))


def apply_from_next_year() -> None:
    """Schedule the moved levers from next September, keeping the history shown so far."""
    run = current_run.value
    changes = mid_run_changes()
    if run is None or not run.can_change_from_next_year(list(changes)):
        return
    playing.set(False)
    moved = {k: (int(round(v)) if BY_KEY[k].kind == "int" else v) for k, v in changes.items()}
    try:
        new = run.with_change_from_next_year(moved)
    except Exception as e:  # noqa: BLE001
        error.set(f"{type(e).__name__}: {e}")
        return
    # The views redraw when the run changes (they depend on it): no force_update needed.
    applied.set(settings_signature())
    applied_values.set(dict(values.value))
    current_run.set(new)


def choose_preset(name: str) -> None:
    """Load a preset: its values become the settings, and the run restarts."""
    playing.set(False)
    preset.set(name)
    values.set(preset_values(name))
    build_run()


def set_value(key: str, value: Any) -> None:
    """Move one lever."""
    values.set({**values.value, key: value})


def reset() -> None:
    """Restart the run with the current settings and seed."""
    playing.set(False)
    build_run()


# ---------------------------------------------------------------- controls
NICE_MANTISSAS = (1.0, 2.0, 2.5, 5.0)


def _nice_numbers(low: float, high: float) -> list[float]:
    """Numbers m x 10^k (m in 1, 2, 2.5, 5) between ``low`` and ``high``."""
    out = []
    k = math.floor(math.log10(max(low, 1e-12))) - 1
    while True:
        for m in NICE_MANTISSAS:
            x = float(f"{m * 10.0 ** k:.6g}")
            if x > high:
                return out
            if x >= low:
                out.append(x)
        k += 1


def _nice_ceil(x: float) -> float:
    """The smallest m x 10^k (m in 1, 2, 2.5, 5, 10) at or above ``x`` > 0."""
    return _nice_numbers(x, x * 10.0 + 1e-12)[0]


def slider_ends(p: Param) -> tuple[float, float]:
    """The range a slider covers: the declared explore range, else the allowed range.

    An allowed range far wider than the default (reputation value: 0 to 1,000,000
    yuan, default 2,000) would make the default unreachable on a slider, so it is
    cut to a nice number near four times the default.
    """
    if p.explore is not None:
        return float(p.explore[0]), float(p.explore[1])
    d = float(p.default)
    lo = float(p.low) if p.low is not None else min(0.0, d)
    hi = float(p.high) if p.high is not None else lo + 4 * max(d - lo, 1.0)
    if d > lo and hi - lo > 20 * (d - lo):
        hi = min(hi, _nice_ceil(lo + 4 * (d - lo)))
    return lo, hi


def slider_spec(p: Param, value: Any, base: Any) -> tuple[float, float, float]:
    """Slider ``(min, max, step)`` for ``p``: covers ``value`` and has ``base`` on its grid.

    The browser's slider snaps its value to ``min + k * step``; a preset value off
    that grid would be silently changed the moment the slider is drawn. The step
    is the nice number closest to 1/100 of the range that puts ``base`` (the
    preset's value) on the grid; integers step by whole numbers.
    """
    lo, hi = slider_ends(p)
    lo, hi = min(lo, float(value), float(base)), max(hi, float(value), float(base))
    span = max(hi - lo, 1e-9)
    target = span / 100.0
    candidates = _nice_numbers(span / 1000.0, span / 20.0)
    if p.kind == "int":
        candidates = [c for c in candidates if c >= 1 and float(c).is_integer()] or [1.0]
    candidates.sort(key=lambda c: abs(math.log(c / target)))
    for step in candidates:
        k = (float(base) - lo) / step
        if abs(k - round(k)) < 1e-6:
            return lo, hi, (int(step) if p.kind == "int" else step)
    step = candidates[0]  # no nice step fits: move the grid's origin onto the base value
    lo = float(base) - step * math.floor((float(base) - lo) / step + 1e-9)
    return lo, hi, (int(step) if p.kind == "int" else step)


def snap(v: float, lo: float, step: float, kind: str) -> float | int:
    """A slider position as a clean parameter value on the grid (no 0.30000000000000004)."""
    x = lo + round((float(v) - lo) / step) * step
    return int(round(x)) if kind == "int" else float(f"{x:.10g}")


def format_value(p: Param, v: Any, lang_code: str) -> str:
    """A parameter value for display."""
    if p.kind == "choice":
        return i18n.choice_label(str(v), lang_code)
    if p.kind == "bool":
        return text("on" if v else "off", lang_code)
    if p.kind == "int":
        return f"{int(v):,}"
    v = float(v)
    if abs(v) >= 10_000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:,.1f}".rstrip("0").rstrip(".")
    return f"{v:.3f}".rstrip("0").rstrip(".") or "0"


def css_key(key: str) -> str:
    """CSS class for a parameter's control (``consim-p-policy-subsidy-cost_share``)."""
    return "consim-p-" + key.replace(".", "-")


@solara.component
def ParamControl(p: Param, value: Any, base_value: Any, lang_code: str) -> None:
    """One lever: a label with value and unit (tooltip from the declaration) and its input."""
    changed = value != base_value
    unit = i18n.unit(p.unit, lang_code)
    label = i18n.param_label(p, lang_code)
    shown = format_value(p, value, lang_code)
    caption = f"{label}: {shown}" + (f" {unit}" if unit and p.kind not in ("choice", "bool") else "")
    style = {"font-size": "13px", "font-weight": "600" if changed else "400",
             "color": "#b35900" if changed else "inherit", "cursor": "help"}
    with solara.Column(gap="0px", classes=["consim-param", css_key(p.key)], style={"margin-bottom": "6px"}):
        with solara.Tooltip(i18n.param_tooltip(p, lang_code)):
            solara.Text(("● " if changed else "") + caption, style=style, classes=["consim-param-label"])
        if p.kind in ("int", "float", "share"):
            lo, hi, step = slider_spec(p, value, base_value)

            def on_slide(v: Any, key: str = p.key, kind: str = p.kind, current: Any = value) -> None:
                if v is None or abs(float(v) - float(current)) < 0.49 * step:
                    return  # the slider settling on its grid, not a move
                set_value(key, snap(v, lo, step, kind))

            rv.Slider(v_model=value, on_v_model=on_slide, min=lo, max=hi, step=step, dense=True,
                      hide_details=True, thumb_label=False, class_="consim-slider")
        elif p.kind == "choice":
            rv.Select(v_model=value, on_v_model=lambda v, key=p.key: set_value(key, v),
                      items=[{"text": i18n.choice_label(c, lang_code), "value": c} for c in p.choices],
                      dense=True, hide_details=True, class_="consim-select")
        elif p.kind == "bool":
            rv.Switch(v_model=bool(value), on_v_model=lambda v, key=p.key: set_value(key, bool(v)),
                      dense=True, hide_details=True, class_="consim-switch", style_="margin-top: 0")


@solara.component
def ParameterPanels() -> None:
    """Every controllable parameter, grouped as declared."""
    lang_code = lang.value
    base = load_preset(preset.value)
    vals = values.value
    with rv.ExpansionPanels(multiple=True, accordion=True, v_model=open_panels.value,
                            on_v_model=open_panels.set, class_="consim-panels"):
        for group, params in control_groups():
            n_changed = sum(1 for p in params if vals.get(p.key) != base.get(p.key))
            title = text(f"group_{group}", lang_code) if f"group_{group}" in i18n.UI else group
            with rv.ExpansionPanel():
                rv.ExpansionPanelHeader(children=[title + (f"  ({n_changed} ●)" if n_changed else "")],
                                        class_=f"consim-group consim-group-{group}")
                with rv.ExpansionPanelContent():
                    for p in params:
                        ParamControl(p, vals.get(p.key, p.default), base.get(p.key), lang_code)


@solara.component
def RunControls() -> None:
    """Language, preset, seed, compare mode and play / step / reset."""
    lang_code = lang.value

    def loop() -> None:
        while playing.value:
            time.sleep(max(play_delay_ms.value, 10) / 1000)
            if not playing.value:
                break
            step_months(int(months_per_frame.value))

    solara.lab.use_task(loop, dependencies=[playing.value], prefer_threaded=True)

    with solara.Row(style={"align-items": "center"}):
        solara.Text(text("language", lang_code) + ":")
        solara.ToggleButtonsSingle(value="中文" if lang_code == "zh" else "English", values=["中文", "English"],
                                   on_value=lambda v: lang.set("zh" if v == "中文" else "en"),
                                   classes=["consim-lang"])
    names = preset_names()
    items = [{"text": _preset_title(n, lang_code), "value": n} for n in names]
    if names:
        rv.Select(label=text("preset", lang_code), items=items, v_model=preset.value,
                  on_v_model=choose_preset, dense=True, hide_details=True, class_="consim-preset")
    else:
        solara.Text(f"{text('preset', lang_code)}: {text('defaults', lang_code)}")
    solara.InputInt(text("seed", lang_code), value=seed.value, on_value=lambda v: seed.set(int(v or 0)),
                    classes=["consim-seed"])
    run = current_run.value
    busy = playing.value
    finished = run is not None and run.finished
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        solara.Button(text("pause" if busy else "play", lang_code), icon_name="mdi-pause" if busy else "mdi-play",
                      color="primary", on_click=lambda: playing.set(not playing.value),
                      disabled=finished and not busy, classes=["consim-play"])
        solara.Button(text("step", lang_code), color="primary", outlined=True, on_click=lambda: step_months(1),
                      disabled=busy or finished, classes=["consim-step"])
        solara.Button(text("step_year", lang_code), color="primary", outlined=True,
                      on_click=lambda: step_months(12), disabled=busy or finished, classes=["consim-year"])
        pending = applied.value is not None and applied.value != settings_signature()
        solara.Button(text("reset", lang_code), color="warning" if pending else "primary", on_click=reset,
                      outlined=not pending, classes=["consim-reset"])
    solara.SliderInt(text("speed", lang_code), value=months_per_frame, min=1, max=12)
    solara.SliderInt(text("delay", lang_code), value=play_delay_ms, min=0, max=2000, step=50)
    solara.Switch(label=text("compare", lang_code), value=compare.value, on_value=set_compare,
                  classes=["consim-compare"])
    if compare.value:
        rv.Select(label=text("compare_with", lang_code), v_model=reference_kind.value, on_v_model=set_reference_kind,
                  items=[{"text": text("ref_preset", lang_code), "value": PRESET_AS_LOADED},
                         *({"text": _preset_title(n, lang_code), "value": n} for n in names)],
                  dense=True, hide_details=True, class_="consim-reference")
        solara.Text(text("compare_help", lang_code), style={"font-size": "12px", "color": "#666"})
    base = load_preset(preset.value)
    n = len(changed_keys(base, values.value))
    with solara.Row(style={"align-items": "center"}):
        solara.Text(text("changed_n", lang_code, n=n), style={"font-size": "12px"})
        solara.Button(text("revert", lang_code), text=True, small=True, disabled=n == 0,
                      on_click=lambda: values.set(preset_values(preset.value)), classes=["consim-revert"])


def _preset_title(name: str, lang_code: str) -> str:
    meta = load_preset(name).meta
    title = meta.get("title_zh" if lang_code == "zh" else "title") or meta.get("title") or ""
    return f"{name}: {title}" if title else name


# ---------------------------------------------------------------- views
def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


@solara.component
def Picture(make: Any, dependencies: list[Any], classes: list[str]) -> None:
    """A matplotlib figure as a PNG, redrawn only when ``dependencies`` change."""
    png = solara.use_memo(lambda: _png(make()), dependencies)
    with solara.Div(classes=classes, style={"width": "100%"}):
        rw.Image(value=png, format="png", layout=rw.Layout(width="100%", height="auto"))


def time_label(run: ClassroomRun | None, lang_code: str) -> str:
    """The displayed simulated time: year, month and step."""
    if run is None or run.steps == 0:
        return text("time_start", lang_code)
    m = run.model
    return text("time", lang_code, year=int(m.year), month_name=i18n.month_name(int(m.month), lang_code),
                steps=run.steps)


@solara.component
def TimeAndStatus() -> None:
    """Simulated time, and banners for pending settings, the end of the run or an error."""
    counter = update_counter.value
    lang_code = lang.value
    run = current_run.value
    solara.Text(time_label(run, lang_code), classes=["consim-time"],
                style={"font-size": "20px", "font-weight": "600"})
    solara.Text(str(counter), classes=["consim-counter"], style={"display": "none"})
    sig = settings_signature()
    if applied.value is not None and applied.value != sig and not only_reference_changed():
        key = "pending_start" if run is not None and run.steps == 0 else "pending"
        solara.Warning(text(key, lang_code), dense=True, classes=["consim-pending"])
        if run is not None and run.steps > 0 and can_apply_from_next_year():
            solara.Button(text("apply_next_year", lang_code, year=run.next_year), color="warning",
                          on_click=apply_from_next_year, classes=["consim-apply-next"])
    if run is not None and run.finished:
        solara.Info(text("finished", lang_code, years=run.scenario.get("years")), dense=True)
    if error.value:
        solara.Error(error.value, classes=["consim-error"])
    if run is not None:
        sched = run.scenario.get("policy.schedule")
        if sched:
            items = "; ".join(
                text("schedule_item", lang_code, year=e["year"],
                     sets=", ".join(f"{i18n.param_label(BY_KEY[k], lang_code)} = "
                                    f"{format_value(BY_KEY[k], v, lang_code)}" for k, v in e["set"].items()))
                for e in sched)
            solara.Text(text("schedule_note", lang_code, changes=items), style={"font-size": "13px"})


def _fmt_indicator(name: str, v: float, signed: bool = False) -> str:
    sign = "+" if signed else ""
    if BY_NAME[name].unit.startswith("yuan"):
        return f"{v:{sign},.0f}"
    if BY_NAME[name].unit in ("share", "index"):
        return f"{v:{sign}.2f}"
    return f"{v:{sign},.1f}"


@solara.component
def NowTable() -> None:
    """Latest month's key indicators (and the difference from the reference)."""
    update_counter.get()
    lang_code = lang.value
    run = current_run.value
    if run is None or run.steps == 0:
        return
    now = run.model.current_indicators()
    ref = (run.ref_model.current_indicators()
           if run.ref_model is not None and months_done(run.ref_model) else None)
    cols = [text("yours", lang_code)] + ([text("reference", lang_code), "Δ"] if ref else [])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in ["", *cols])
    body = []
    for name in KPI_NAMES:
        if name not in now:
            continue
        cells = [_fmt_indicator(name, now[name])]
        if ref:
            cells += [_fmt_indicator(name, ref[name]), _fmt_indicator(name, now[name] - ref[name], signed=True)]
        body.append("<tr><td>" + html.escape(i18n.indicator_label(name, lang_code)) + "</td>"
                    + "".join(f'<td class="num">{c}</td>' for c in cells) + "</tr>")
    table = f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    with solara.Div(classes=["consim-now"]):
        solara.Text(text("now", lang_code), style={"font-weight": "600"})
        # Plain HTML (not Markdown): Markdown pulls KaTeX from a CDN, which is not there offline.
        solara.HTML(tag="div", unsafe_innerHTML=table)


@solara.component
def NetworkViews() -> None:
    """The network of the students' run, and of the reference beside it in compare mode."""
    counter = update_counter.value
    lang_code = lang.value
    run = current_run.value
    if run is None:
        return
    key = id(run)
    if run.ref_model is None:
        Picture(lambda: draw_network(run.model, lang_code, text("network", lang_code)),
                [counter, lang_code, key], ["consim-network"])
        return
    with solara.Column(gap="4px"):
        Picture(lambda: draw_network(run.model, lang_code, text("network_yours", lang_code)),
                [counter, lang_code, key], ["consim-network"])
        Picture(lambda: draw_network(run.ref_model, lang_code, text("network_ref", lang_code)),
                [counter, lang_code, key], ["consim-network-ref"])


@solara.component
def Charts() -> None:
    """The live charts (reference dashed in compare mode)."""
    counter = update_counter.value
    lang_code = lang.value
    run = current_run.value
    data = solara.use_memo(lambda: (run.timeseries(), run.ref_timeseries()) if run is not None else None,
                           [counter, id(run)])
    if run is None or data is None:
        return
    ts, ref = data
    years = sorted({int(e["year"]) for e in run.scenario.get("policy.schedule")})
    with solara.GridFixed(columns=2, row_gap="4px", column_gap="12px"):
        for title_key, names in CHARTS:
            Picture(lambda title_key=title_key, names=names: draw_chart(title_key, names, ts, ref, lang_code,
                                                                        policy_years=years),
                    [counter, lang_code, id(run)], ["consim-chart", f"consim-chart-{title_key[6:]}"])


CSS = """
.v-tooltip__content { white-space: pre-line; max-width: 460px; font-size: 12px; }
.consim-now table { font-size: 13px; border-collapse: collapse; margin-top: 4px; }
.consim-now td, .consim-now th { padding: 2px 12px; border-bottom: 1px solid #e4e4e4; text-align: left; }
.consim-now td.num, .consim-now th + th { text-align: right; font-variant-numeric: tabular-nums; }
.consim-panels .v-expansion-panel-content__wrap { padding: 4px 12px 8px 12px; }
.consim-panels .v-expansion-panel-header { min-height: 40px; padding: 8px 12px; font-weight: 600; }
"""


@solara.component
def Page() -> None:
    """The whole dashboard."""
    lang_code = lang.value
    solara.use_effect(lambda: (build_run() if current_run.value is None else None), [])
    solara.Style(CSS)
    solara.Title(text("app_title", lang_code))
    with solara.AppBar():
        solara.AppBarTitle(text("app_title", lang_code))
    with solara.Sidebar():
        with solara.Card(text("run", lang_code), margin=0, classes=["consim-run-card"]):
            RunControls()
        ParameterPanels()
    with solara.Column(style={"padding": "8px 16px"}):
        TimeAndStatus()
        with solara.Columns([4, 8]):
            NetworkViews()
            Charts()
        NowTable()
