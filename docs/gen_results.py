"""Regenerate the results tables of ``docs/ODD.md`` (baseline, calibration checks, presets).

Design note
-----------
Runs the baseline and every preset in ``scenarios/`` with the same seeds
(default 1-5), and writes the tables between the markers
``<!-- BEGIN generated results -->`` and ``<!-- END generated results -->`` of
``docs/ODD.md``, stamped with the commit and date. Nothing else in the ODD is
touched, so the script can be rerun after any model change::

    .venv/bin/python docs/gen_results.py                 # seeds 1-5, rewrite the ODD block
    .venv/bin/python docs/gen_results.py --seeds 1 2 3   # other seeds
    .venv/bin/python docs/gen_results.py --stdout        # print the block, leave the ODD alone
    .venv/bin/python docs/gen_results.py --presets subsidy tax_credit   # compare only these presets

A run's summary value is the mean of the monthly indicator over the final
simulated year (``sim.run.summarise``). Tables report the mean over seeds and
the range (min-max). The calibration table adds figures the indicator table
does not carry: ``ConsortiumModel.diagnostics()`` and a few read from the
finished model's state (output/cost ratio of hosts, participation by size).
"""

from __future__ import annotations

import argparse
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from sim import Scenario, run
from sim.indicators import BY_NAME, NAMES
from sim.scenario import preset_names

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
ODD = DOCS / "ODD.md"
BEGIN = "<!-- BEGIN generated results -->"
END = "<!-- END generated results -->"
DEFAULT_SEEDS = (1, 2, 3, 4, 5)
#: Firm-size bands (employees) for the participation gradient (BIBB/IAB: ~17% of micro, ~91% of 500+ train).
SIZE_BANDS = ((3, 10), (10, 50), (50, 250), (250, 10**9))


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def provenance() -> str:
    """One line naming the commit, whether the model files differ from it, and the date."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = _git("status", "--porcelain", "--", "sim", "scenarios", ":(exclude)sim/dashboard")
    state = " (with uncommitted changes in sim/ or scenarios/)" if dirty else ""
    return f"commit `{commit}`{state}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC"


def extra_figures(model) -> dict[str, float]:
    """Calibration figures read from a finished model (beyond the indicators)."""
    d = dict(model.diagnostics())
    fs = model.firm_state
    hosts = fs.hosted > 0
    d["host_output_cost_ratio"] = float(fs.acc_output[hosts].sum() / fs.acc_cost[hosts].sum()) if hosts.any() else float("nan")
    engaged = fs.engagement >= 1
    for lo, hi in SIZE_BANDS:
        band = (fs.employees >= lo) & (fs.employees < hi)
        d[f"participation_{lo}_{hi}"] = float(engaged[band].mean()) if band.any() else float("nan")
        d[f"firms_{lo}_{hi}"] = float(band.sum())
    return d


def run_all(names: list[str], seeds: tuple[int, ...]) -> tuple[dict, dict, dict, float]:
    """Summaries, extra figures and year-by-year participation per preset, each a list over seeds."""
    summaries: dict[str, list[dict[str, float]]] = {}
    extras: dict[str, list[dict[str, float]]] = {}
    yearly: dict[str, list[np.ndarray]] = {}
    t0 = time.perf_counter()
    for name in names:
        sc = Scenario.load(name)
        for seed in seeds:
            res = run(sc, seed=seed)
            summaries.setdefault(name, []).append(res.summary)
            extras.setdefault(name, []).append(extra_figures(res.model))
            yearly.setdefault(name, []).append(
                res.timeseries.groupby("year")["sme_participation_rate"].mean().to_numpy())
    return summaries, extras, yearly, time.perf_counter() - t0


def preset_changes(name: str) -> str:
    """The keys a preset sets differently from the baseline, as Markdown text."""
    base = Scenario.load("baseline").to_flat()
    flat = Scenario.load(name).to_flat()
    parts = []
    for key, value in flat.items():
        if key == "policy.schedule" or value == base.get(key):
            continue
        parts.append(f"`{key}` = {_value(value)}")
    for entry in flat.get("policy.schedule", []):
        sets = ", ".join(f"`{k}` = {_value(v)}" for k, v in entry["set"].items())
        parts.append(f"from year {entry['year']}: {sets}")
    return "; ".join(parts) if parts else "nothing"


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, float) and v.is_integer() and abs(v) >= 1000:
        return f"{int(v):,}"
    return f"{v:g}" if isinstance(v, float) else str(v)


def _fmt(x: float, unit: str = "") -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "n/a"
    ax = abs(x)
    if unit in ("yuan per year", "yuan per firm-year") or ax >= 1000:
        return f"{x:,.0f}"
    if ax >= 100:
        return f"{x:.0f}"
    if ax >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"


def _stats(rows: list[dict[str, float]], key: str) -> tuple[float, float, float]:
    v = np.array([r[key] for r in rows], dtype=float)
    if np.isnan(v).all():
        return float("nan"), float("nan"), float("nan")
    return float(np.nanmean(v)), float(np.nanmin(v)), float(np.nanmax(v))


def _signed(x: float, unit: str) -> str:
    if np.isnan(x):
        return "n/a"
    if abs(x) < 5e-4 and unit not in ("yuan per year", "yuan per firm-year"):
        return "0"
    s = _fmt(x, unit)
    return s if s.startswith("-") else "+" + s


def _mean(rows: list[dict[str, float]], key: str) -> str:
    return _fmt(_stats(rows, key)[0])


def _bands(extra: list[dict[str, float]]) -> str:
    parts = []
    for lo, hi in SIZE_BANDS:
        label = f"{lo}–{hi - 1}" if hi < 10**9 else f"{lo}+"
        parts.append(f"{label}: {_mean(extra, f'participation_{lo}_{hi}')} "
                     f"(n≈{_stats(extra, f'firms_{lo}_{hi}')[0]:.0f})")
    return "; ".join(parts)


#: Presets shown in the calibration table, when present: the baseline, the calibrated Chinese
#: preset and the validation presets fed other countries' cost structures.
CALIBRATION_PRESETS = ("baseline", "china_calibrated", "germany_like", "switzerland_like")
#: (quantity, anchor and source, value from (summaries, extras) over seeds).
CALIBRATION_ROWS = (
    ("SME / anchor participation", "BIBB/IAB size gradient; the study: 校热企冷",
     lambda s, e: f"{_mean(s, 'sme_participation_rate')} / {_mean(s, 'anchor_participation_rate')}"),
    ("participation by workforce size (final month)", "~17% of micro firms, ~91% of 500+ train (BIBB/IAB)",
     lambda s, e: _bands(e)),
    ("hosts losing money during the placement",
     "> 40% (Ran & Shi 2020); ~2/3 not in profit (Ran 2022); ~40% in Switzerland (4th Swiss survey)",
     lambda s, e: _mean(s, "hosts_losing_money_share")),
    ("hosts' output / gross placement cost", "~2/3 in Germany (BIBB)",
     lambda s, e: _mean(e, "host_output_cost_ratio")),
    ("break-even / payback month (typical production-motive shallow host)", "4 / 8 (Ran & Shi 2020)",
     lambda s, e: f"{_mean(e, 'break_even_month')} / {_mean(e, 'payback_month')}"),
    ("retention one year after graduation", "China 0.2–0.4 (assumed; Ran); Germany 0.61–0.77 (IAB); "
     "Switzerland 0.46 (FSO)", lambda s, e: _mean(s, "retention_rate")),
    ("graduates leaving their first job within 6 months", "~45% (MyCOS)",
     lambda s, e: _mean(e, "six_month_turnover")),
    ("placements that are real training (not 打杂)", "low realism (the study; no figure)",
     lambda s, e: _mean(s, "placement_quality")),
)


def render(names: list[str], seeds: tuple[int, ...], summaries, extras, yearly, seconds: float) -> str:
    """The Markdown block (without the markers)."""
    seeds_txt = ", ".join(map(str, seeds))
    base = summaries["baseline"]
    lines = [f"*Generated by `docs/gen_results.py` on {provenance()}; seeds {seeds_txt}; "
             f"{len(names) * len(seeds)} runs in {seconds:.0f} s. Each run: {Scenario.load('baseline').get('years')} "
             "recorded years after the warm-up; a run's value is the mean over its final year.*",
             "",
             f"#### Baseline indicators (mean and range over seeds {seeds_txt})",
             "",
             "| indicator | unit | mean | min | max |",
             "|---|---|---|---|---|"]
    for n in NAMES:
        unit = BY_NAME[n].unit
        m, lo, hi = _stats(base, n)
        lines.append(f"| `{n}` | {unit} | {_fmt(m, unit)} | {_fmt(lo, unit)} | {_fmt(hi, unit)} |")
    cal_names = [n for n in CALIBRATION_PRESETS if n in summaries]
    lines += ["", "#### Calibration checks (mean over the seeds)", "",
              "Columns: the baseline and the calibration and validation presets present in `scenarios/`.", "",
              "| quantity | anchor (source) | " + " | ".join(f"`{n}`" for n in cal_names) + " |",
              "|---|---|" + "---|" * len(cal_names)]
    for label, anchor, fn in CALIBRATION_ROWS:
        lines.append(f"| {label} | {anchor} | " + " | ".join(fn(summaries[n], extras[n]) for n in cal_names) + " |")
    others = [n for n in names if n != "baseline"]
    lines += ["", "#### What each preset changes (scenario keys that differ from the baseline)", "",
              "| preset | changes |", "|---|---|"]
    lines += [f"| `{n}` | {preset_changes(n)} |" for n in others]
    lines += ["", f"#### Presets relative to the baseline (difference of means over seeds {seeds_txt})", "",
              "Each cell is the preset's mean minus the baseline's mean; the baseline column is the baseline's mean.",
              "", "| indicator | baseline | " + " | ".join(f"`{n}`" for n in others) + " |",
              "|---|---|" + "---|" * len(others)]
    for n in NAMES:
        unit = BY_NAME[n].unit
        b = _stats(base, n)[0]
        cells = [_signed(_stats(summaries[o], n)[0] - b, unit) for o in others]
        lines.append(f"| `{n}` | {_fmt(b, unit)} | " + " | ".join(cells) + " |")
    # year-by-year SME participation, to show transitions (subsidy withdrawn in year 8)
    years = len(yearly["baseline"][0])
    show = [n for n in ("baseline", "subsidy", "subsidy_withdrawn") if n in yearly]
    lines += ["", "#### SME participation by simulated year (mean over seeds)", "",
              "| preset | " + " | ".join(str(y) for y in range(1, years + 1)) + " |",
              "|---|" + "---|" * years]
    for n in show:
        arr = np.mean(np.vstack(yearly[n]), axis=0)
        lines.append(f"| `{n}` | " + " | ".join(f"{v:.3f}" for v in arr) + " |")
    return "\n".join(lines) + "\n"


def splice(text: str, block: str) -> str:
    """``text`` with the part between the markers replaced by ``block``."""
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{ODD}: markers {BEGIN!r} and {END!r} not found")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return head + BEGIN + "\n" + block + END + tail


def main(argv: list[str] | None = None) -> int:
    """Run the presets and rewrite the ODD's results block (or print it)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(DEFAULT_SEEDS))
    ap.add_argument("--presets", nargs="+", metavar="NAME",
                    help="presets to compare with the baseline (default: every preset in scenarios/)")
    ap.add_argument("--stdout", action="store_true", help="print the block instead of rewriting docs/ODD.md")
    args = ap.parse_args(argv)
    chosen = args.presets if args.presets else preset_names()
    names = ["baseline"] + [n for n in chosen if n != "baseline"]
    seeds = tuple(args.seeds)
    summaries, extras, yearly, seconds = run_all(names, seeds)
    block = render(names, seeds, summaries, extras, yearly, seconds)
    if args.stdout:
        sys.stdout.write(block)
    else:
        ODD.write_text(splice(ODD.read_text(encoding="utf-8"), block), encoding="utf-8")
        print(f"wrote the results block of {ODD.relative_to(ROOT)} ({len(names) * len(seeds)} runs, {seconds:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
