"""Calibration of the uncertain Chinese parameters to the figures in model.md.

Design note
-----------
Method: approximate Bayesian computation by rejection over a Latin hypercube
(Beaumont, Zhang & Balding 2002; McKay, Beckman & Conover 1979), with the
simulated-method-of-moments distance as the ABC distance.

1. Prior: independent uniforms over the ranges in :data:`PARAMETERS` (the
   uncertain Chinese parameters: trainee productivity at the start of the
   placement and its monthly gain, the graduates' quit hazard, the poaching
   intensity, the outside-wage premium of leaving the city, the share of
   vacancies open to new graduates, the share of production-motive SMEs).
2. Design: ``points`` Latin-hypercube draws (:class:`scipy.stats.qmc.LatinHypercube`,
   seeded), each run with the same ``seeds_per_point`` replication seeds
   (common random numbers) on top of the baseline.
3. Distance: ``sum_k ((m_k - t_k) / w_k)^2`` over the moments of
   :data:`MOMENTS` (target t_k and scale w_k: half the width of the
   literature's band), m_k the mean over seeds.
4. ABC posterior: the ``accept`` share of points with the smallest distance;
   it gives the uncertainty (posterior mean, sd and 5-95% range per parameter).
5. Point estimate: Nelder-Mead searches (:func:`scipy.optimize.minimize`,
   ``refine_evals`` evaluations each, each evaluation the mean over
   ``refine_seeds`` common seeds, parameters clipped to the prior box). Two
   moments (the break-even and payback months, :data:`INTEGER_MOMENTS`) are
   integers, so the distance is a step function of the productivity
   parameters and one simplex stalls on the plateau it starts on. The searches
   therefore start from the best accepted point of each of the
   ``refine_starts`` best *cells* (distinct pairs of break-even and payback
   month among the accepted points). The refined candidates are compared on
   ``select_seeds`` independent seeds (the refinement's own seeds would favour
   the candidate that fits their noise best), and the best is the estimate.
   It is re-run with ``confirm_seeds`` further fresh seeds to report the fit
   (mean and 95% interval per moment).

:func:`write_preset` writes the estimate into ``scenarios/china_calibrated.toml``
with its provenance (procedure, targets, date, commit). Run it with
``python -m experiments.calibration [--points N] [--write]``. Budget: a run is
about 0.2-0.7 s on the shared machine; the defaults (128 points x 2 seeds,
4 x 40 Nelder-Mead evaluations x 6 seeds, 4 x 10 selection and 10
confirmation runs) take three to four minutes on two workers.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.stats import qmc

from experiments.validation import ALPHA, MASTER_SEED, _t_interval, replication_seeds, run_many


@dataclass(frozen=True)
class Moment:
    """A calibration target: measure name, target value, scale (band half-width) and source."""

    name: str
    target: float
    scale: float
    source: str


#: The uncertain Chinese parameters and their prior ranges.
PARAMETERS: dict[str, tuple[float, float]] = {
    "firms.trainee_productivity_start": (0.30, 0.60),
    "firms.trainee_productivity_gain": (0.03, 0.12),
    "labour_market.base_quit_hazard": (0.02, 0.12),
    "labour_market.poaching_intensity": (0.0, 0.05),
    "labour_market.outside_wage_premium": (0.0, 0.40),
    "labour_market.graduate_hiring_share": (0.3, 0.9),
    "firms.production_motive_share_sme": (0.3, 0.9),
}

#: The Chinese targets (model.md, Calibration anchors).
MOMENTS: tuple[Moment, ...] = (
    Moment("hosts_losing_money_share", 0.50, 0.10, "Ran & Shi 2020 (> 40%); Ran 2022 (about 1/3 in profit)"),
    Moment("six_month_turnover", 0.45, 0.05, "MyCOS: ~45% leave the first job within six months"),
    Moment("retention_at_graduation", 0.30, 0.10, "China 0.2-0.4 at graduation (assumed; Ran 2022)"),
    Moment("break_even_month", 4.0, 1.0, "Ran & Shi 2020: break-even month 4"),
    Moment("payback_month", 8.0, 1.0, "Ran & Shi 2020: payback month 8"),
)

#: Moments that take integer values (months): they split the parameter space into cells.
INTEGER_MOMENTS = ("break_even_month", "payback_month")

PRESET = Path(__file__).resolve().parent.parent / "scenarios" / "china_calibrated.toml"


def distance(means: Mapping[str, float], moments: Sequence[Moment] = MOMENTS) -> float:
    """Simulated-method-of-moments distance: sum of squared scaled deviations (inf if a moment is missing)."""
    d = 0.0
    for m in moments:
        v = means.get(m.name, float("nan"))
        if not np.isfinite(v):
            return float("inf")
        d += ((v - m.target) / m.scale) ** 2
    return float(d)


def design(points: int, seed: int = 7) -> list[dict[str, float]]:
    """Latin-hypercube draws over :data:`PARAMETERS`."""
    sampler = qmc.LatinHypercube(d=len(PARAMETERS), seed=np.random.default_rng(seed))
    lo = np.array([r[0] for r in PARAMETERS.values()])
    hi = np.array([r[1] for r in PARAMETERS.values()])
    u = qmc.scale(sampler.random(points), lo, hi)
    return [{k: float(v) for k, v in zip(PARAMETERS, row, strict=True)} for row in u]


def _means(rows: list[dict[str, float]]) -> dict[str, float]:
    return {m.name: float(np.nanmean([r[m.name] for r in rows])) for m in MOMENTS}


def _refine(base_sc: Any, start: Mapping[str, float], evals: int, seeds_n: int,
            workers: int | None) -> tuple[dict[str, float], float, int]:
    """Nelder-Mead on the prior box (scaled to [0, 1], clipped) from ``start``, common seeds."""
    keys = list(PARAMETERS)
    lo = np.array([PARAMETERS[k][0] for k in keys])
    hi = np.array([PARAMETERS[k][1] for k in keys])
    seeds = replication_seeds(seeds_n)
    cache: dict[tuple[float, ...], float] = {}

    def theta(u: np.ndarray) -> dict[str, float]:
        return {k: float(v) for k, v in zip(keys, lo + np.clip(u, 0.0, 1.0) * (hi - lo), strict=True)}

    def objective(u: np.ndarray) -> float:
        key = tuple(np.round(np.clip(u, 0.0, 1.0), 6))
        if key not in cache:
            rows = run_many([base_sc.with_overrides(theta(u), source="calibration")], seeds, workers)[0]
            cache[key] = distance(_means(rows))
        return cache[key]

    if evals <= 0:
        return dict(start), float("nan"), 0
    u0 = (np.array([start[k] for k in keys]) - lo) / (hi - lo)
    res = minimize(objective, u0, method="Nelder-Mead",
                   options={"maxfev": evals, "initial_simplex": _simplex(u0), "xatol": 1e-3, "fatol": 1e-3})
    return theta(res.x), float(res.fun), len(cache)


def _simplex(u0: np.ndarray, step: float = 0.15) -> np.ndarray:
    """Initial Nelder-Mead simplex: ``u0`` and one step along each axis, inward from the box edge."""
    pts = [u0]
    for i in range(u0.size):
        p = u0.copy()
        p[i] = p[i] + step if p[i] + step <= 1.0 else p[i] - step
        pts.append(p)
    return np.array(pts)


def cell_starts(means: Sequence[Mapping[str, float]], ranked: Sequence[int], n: int) -> list[tuple[tuple[float, ...], int]]:
    """The first point (in ``ranked`` order, best first) of each of the first ``n`` cells of :data:`INTEGER_MOMENTS`.

    A cell is a distinct combination of the integer moments (break-even month,
    payback month); returns ``(cell, index)`` pairs, best cell first.
    """
    cells: dict[tuple[float, ...], int] = {}
    for i in ranked:
        cells.setdefault(tuple(float(means[int(i)][k]) for k in INTEGER_MOMENTS), int(i))
    return list(cells.items())[:max(1, n)]


def calibrate(points: int = 128, seeds_per_point: int = 2, accept: float = 0.2, confirm_seeds: int = 10,
              base: str = "baseline", workers: int | None = None, seed: int = 7, refine_evals: int = 40,
              refine_seeds: int = 6, refine_starts: int = 4, select_seeds: int = 10) -> dict[str, Any]:
    """Run the ABC-rejection / SMM calibration; return the estimate, the posterior and the fit."""
    from sim import Scenario

    base_sc = Scenario.load(base)
    thetas = design(points, seed)
    seeds = replication_seeds(seeds_per_point)
    rows = run_many([base_sc.with_overrides(t, source="calibration") for t in thetas], seeds, workers)
    means = [_means(r) for r in rows]
    dist = np.array([distance(m) for m in means])
    order = np.argsort(dist)
    n_acc = max(2, int(round(accept * points)))
    acc = order[:n_acc]
    post = {}
    for k in PARAMETERS:
        v = np.array([thetas[i][k] for i in acc])
        post[k] = {"mean": float(v.mean()), "sd": float(v.std(ddof=1)), "q05": float(np.quantile(v, 0.05)),
                   "q95": float(np.quantile(v, 0.95))}
    start = thetas[int(order[0])]
    starts = cell_starts(means, acc, refine_starts)
    best, refine_distance, evals, candidates = dict(start), float("nan"), 0, []
    if refine_evals > 0:
        select_seed_list = replication_seeds(select_seeds, master=MASTER_SEED + 2)  # independent of both
        for cell, i in starts:
            cand, cand_distance, cand_evals = _refine(base_sc, thetas[i], refine_evals, refine_seeds, workers)
            evals += cand_evals
            sel = _means(run_many([base_sc.with_overrides(cand, source="calibration")], select_seed_list, workers)[0])
            candidates.append({"cell": list(cell), "start": thetas[i], "estimate": cand,
                               "refine_distance": cand_distance, "select_distance": distance(sel), "select": sel})
        chosen = min(candidates, key=lambda c: c["select_distance"])
        best, refine_distance = chosen["estimate"], chosen["refine_distance"]
    confirm_seed_list = replication_seeds(confirm_seeds, master=MASTER_SEED + 1)  # fresh seeds
    confirm = run_many([base_sc.with_overrides(best, source="calibration")], confirm_seed_list, workers)[0]
    fit = {}
    for m in MOMENTS:
        mean, lo, hi = _t_interval(np.array([r[m.name] for r in confirm], dtype=float), 1 - ALPHA)
        fit[m.name] = {"target": m.target, "scale": m.scale, "mean": mean, "ci_low": lo, "ci_high": hi,
                       "source": m.source}
    baseline_rows = run_many([base_sc], confirm_seed_list, workers)[0]
    baseline_fit = {m.name: float(np.nanmean([r[m.name] for r in baseline_rows])) for m in MOMENTS}
    return {
        "estimate": best, "posterior": post, "fit": fit, "distance": float(dist[order[0]]),
        "lhs_best": start, "refine_distance": refine_distance, "refine_evals": evals, "refine_seeds": refine_seeds,
        "refine_starts": refine_starts, "select_seeds": select_seeds, "candidates": candidates,
        "confirm_distance": distance({k: v["mean"] for k, v in fit.items()}),
        "baseline_fit": baseline_fit, "baseline_distance": distance(baseline_fit),
        "accepted_distance_max": float(dist[acc[-1]]), "points": points, "seeds_per_point": seeds_per_point,
        "accept": accept, "confirm_seeds": confirm_seeds, "design_seed": seed,
        "design": [{**t, "distance": float(d)} for t, d in zip(thetas, dist, strict=True)],
    }


_MODEL_MODULES = ("model", "economics", "firms", "labour_market", "placement", "parameters", "schools",
                  "government", "consortium", "students", "network", "projects", "run", "scenario")


def _commit() -> str:
    """Short commit of the code that ran, with ``+modified`` when the calibration code differs from it."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              cwd=here, check=True).stdout.strip()
        paths = ["calibration.py", "validation.py", *(f"../sim/{m}.py" for m in _MODEL_MODULES)]
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *paths], capture_output=True, text=True,
                               cwd=here, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" +modified" if dirty else "")


def report(result: Mapping[str, Any]) -> str:
    """The calibration's estimate, posterior and fit as text."""
    lines = ["Calibration (ABC rejection over a Latin hypercube, SMM distance)",
             f"  {result['points']} points x {result['seeds_per_point']} seeds; accepted {result['accept']:.0%} "
             f"(distance <= {result['accepted_distance_max']:.2f})", "  parameter: estimate | ABC posterior mean +- sd "
             "[5%, 95%] | baseline default"]
    from sim.parameters import BY_KEY

    for k, v in result["estimate"].items():
        p = result["posterior"][k]
        lines.append(f"    {k}: {v:.4f} | {p['mean']:.4f} +- {p['sd']:.4f} [{p['q05']:.4f}, {p['q95']:.4f}] | "
                     f"{BY_KEY[k].default}")
    for c in result.get("candidates", []):
        lines.append(f"  cell (break-even, payback) {tuple(int(v) for v in c['cell'])}: refined distance "
                     f"{c['refine_distance']:.2f}, on {result['select_seeds']} selection seeds "
                     f"{c['select_distance']:.2f} ("
                     + ", ".join(f"{k} {v:.3f}" for k, v in c["select"].items()) + ")")
    lines.append(f"  Nelder-Mead refinement from the best point of each of the best {result.get('refine_starts', 1)} "
                 f"cells: {result['refine_evals']} evaluations x {result['refine_seeds']} seeds, "
                 f"distance {result['distance']:.2f} (best hypercube point) -> {result['refine_distance']:.2f}")
    lines.append(f"  fit with {result['confirm_seeds']} fresh seeds (distance {result['confirm_distance']:.2f}; "
                 f"baseline defaults: {result['baseline_distance']:.2f}):")
    for k, f in result["fit"].items():
        lines.append(f"    {k}: target {f['target']:g} (+-{f['scale']:g}) -> {f['mean']:.3f} "
                     f"[{f['ci_low']:.3f}, {f['ci_high']:.3f}]; baseline {result['baseline_fit'][k]:.3f}")
    return "\n".join(lines)


def write_preset(result: Mapping[str, Any], path: Path = PRESET) -> Path:
    """Write the calibrated values into the China preset with their provenance."""
    today = _dt.date.today().isoformat()
    est = result["estimate"]
    post = result["posterior"]
    lines = [
        "# China, calibrated: the baseline with the uncertain Chinese parameters fitted to the Chinese figures.",
        "#",
        "# Provenance (written by `python -m experiments.calibration --write`):",
        "#   procedure: ABC rejection over a Latin hypercube with a simulated-method-of-moments distance",
        f"#              ({result['points']} points x {result['seeds_per_point']} seeds, accept the best "
        f"{result['accept']:.0%}, design seed {result['design_seed']}), then Nelder-Mead from the best point of "
        f"each of the best {result.get('refine_starts', 1)} (break-even, payback) cells ({result['refine_evals']} "
        f"evaluations in all x {result['refine_seeds']} seeds), best candidate on {result.get('select_seeds', 0)} "
        "independent seeds; experiments/calibration.py",
        "#   targets:   " + "; ".join(f"{m.name} {m.target:g} +- {m.scale:g} ({m.source})" for m in MOMENTS),
        f"#   date:      {today}",
        f"#   commit:    {_commit()}",
        "#   fit (mean over " + f"{result['confirm_seeds']} seeds): "
        + "; ".join(f"{k} {f['mean']:.3f}" for k, f in result["fit"].items()),
        "#   posterior (mean +- sd): " + "; ".join(f"{k} {post[k]['mean']:.3f} +- {post[k]['sd']:.3f}" for k in est),
        "",
        'base = "baseline"',
        "",
        "[meta]",
        'title = "China, calibrated to placement cost-benefit and turnover figures"',
        'title_zh = "中国校准情景:按实习成本收益与离职率校准"',
        'description = "The baseline with the uncertain Chinese parameters (trainee productivity, quit and poaching '
        'hazards, outside-wage premium, graduate hiring share, production-motive share of SMEs) fitted by ABC/SMM to '
        'Ran & Shi 2020 (hosts losing money, break-even month 4, payback month 8), Ran 2022, MyCOS six-month '
        'turnover and retention at graduation of 0.2-0.4."',
        'description_zh = "在基准情景上,以近似贝叶斯计算/模拟矩估计校准不确定的中国参数(实习生生产率、离职与挖角风险、'
        '外地工资溢价、面向应届生的岗位比例、生产动机中小企业比例),目标为 Ran & Shi 2020(亏损实习企业比例、第4个月收支平衡、'
        '第8个月回本)、Ran 2022、麦可思半年离职率(约45%)与毕业留用率0.2-0.4。"',
        "",
    ]
    tables: dict[str, dict[str, float]] = {}
    for k, v in est.items():
        head, leaf = k.rsplit(".", 1)
        tables.setdefault(head, {})[leaf] = v
    for head, kv in tables.items():
        lines.append(f"[{head}]")
        for leaf, v in kv.items():
            lines.append(f"{leaf} = {round(v, 4)}")
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m experiments.calibration [--points N] [--seeds N] [--write] [--json FILE]``."""
    ap = argparse.ArgumentParser(prog="python -m experiments.calibration", description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=2, help="seeds per design point")
    ap.add_argument("--accept", type=float, default=0.2)
    ap.add_argument("--confirm", type=int, default=10, help="seeds for the fit of the estimate")
    ap.add_argument("--refine", type=int, default=40, help="Nelder-Mead evaluations per start (0: none)")
    ap.add_argument("--starts", type=int, default=4,
                    help="Nelder-Mead starts: the best accepted point of each of this many (break-even, payback) cells")
    ap.add_argument("--select", type=int, default=10, help="independent seeds to choose among the refined candidates")
    ap.add_argument("--refine-seeds", type=int, default=6, help="common seeds per Nelder-Mead evaluation")
    ap.add_argument("--workers", type=int)
    ap.add_argument("--write", action="store_true", help="write scenarios/china_calibrated.toml")
    ap.add_argument("--json", metavar="FILE", help="also write the full result as JSON")
    a = ap.parse_args(argv)
    if a.points < 4 or a.seeds < 1 or not 0 < a.accept <= 1 or a.starts < 1 or a.refine_seeds < 1 or a.select < 2:
        print("calibration: --points >= 4, --seeds >= 1, --starts >= 1, --refine-seeds >= 1, --select >= 2 and "
              "0 < --accept <= 1 are required.",
              file=sys.stderr)
        return 2
    res = calibrate(a.points, a.seeds, a.accept, a.confirm, workers=a.workers, refine_evals=a.refine,
                    refine_starts=a.starts, refine_seeds=a.refine_seeds, select_seeds=a.select)
    print(report(res))
    if a.json:
        import json

        Path(a.json).write_text(json.dumps(res, indent=2), encoding="utf-8")
    if a.write:
        print(f"wrote {write_preset(res)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
