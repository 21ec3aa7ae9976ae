"""The well-mixed limit: the ABM against the replicator dynamics of a tripartite evolutionary game.

Design note
-----------
The reference is a government-school-enterprise evolutionary game of the form
studied by Liu, Wang & Dai (2023), "Sustainable Cooperation between Schools,
Enterprises, and Government: An Evolutionary Game Theory Analysis",
*Sustainability* 15(18): 13997, doi:10.3390/su151813997: each of three
boundedly rational populations chooses between a cooperative and a passive
strategy (school: cooperate actively or not; enterprise: engage or not;
government: active support or passive), an active government rewards
cooperating parties and penalises passive ones, cooperation pays each side more
when the other side cooperates, and the strategy shares follow the replicator
equations, whose pure-strategy rest points are classified by the eigenvalues of
the Jacobian (Friedman 1991). The symbols and numbers below are ours; we do not
reproduce that paper's numerical examples. With x, y, z the shares of engaging
firms, active schools and active government:

    dU_F(y, z) = b_F + y e_F - c_F + z (s_F + p_F)     (engage minus not, firm)
    dU_S(x, z) = b_S + x e_S - c_S + z (s_S + p_S)     (active minus passive, school)
    dU_G(x, y) = -c_G - x s_F - y s_S + (1-x) p_F + (1-y) p_S + x y g_G
    x' = x (1-x) dU_F,   y' = y (1-y) dU_S,   z' = z (1-z) dU_G

At a pure-strategy point the Jacobian is diagonal with entries
(1-2x) dU_F(y,z), (1-2y) dU_S(x,z), (1-2z) dU_G(x,y); the point is an
evolutionarily stable strategy when all three are negative.

The ABM's well-mixed reduction (:data:`REDUCTION`): one homogeneous population
of identical SMEs (no anchors, no size or productivity dispersion, all production-motive), no labour
market (no quits, poaching, competitors or graduate hiring), no projects,
reputation, tax credit or special funds; firms choose by pairwise proportional
imitation of last year's realised payoff over the whole population (Schlag
1998), whose mean field is the replicator equation
``E[dx] = x (1 - x) dU_F / M`` with ``M`` the payoff span that normalises the
imitation probability. Schools and the government are not evolving players in
the ABM: schools cooperate (y = 1, schools eager) and the scenario's subsidy
fixes the government at z = 1 with incentive ``s_F`` = subsidy share x the
firm's participation cost. The ABM therefore reproduces the firm equation on
the face y = 1, z = 1. The firm's payoff entries are measured from the ABM's
own accounting by a *payoff probe* (every firm engaged, two subsidy levels:
dU_F is linear in the subsidy share), which gives the game's threshold
``s* = -dU_F(0) / slope``. The check: for subsidy shares on both sides of
``s*``, the ABM firm share started anywhere in the interior converges to the
game's stable rest point (x = 0 below the threshold, x = 1 above), as the
replicator ODE (:func:`scipy.integrate.solve_ivp`) predicts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.integrate import solve_ivp

#: Overrides that reduce the ABM to the well-mixed, homogeneous, labour-market-free limit.
REDUCTION: dict[str, Any] = {
    "population.anchor_firms": 0,
    "population.sme_employees_sigma": 0.0,
    "population.firm_productivity_sigma": 0.0,
    "firms.production_motive_share_sme": 1.0,
    "labour_market.base_quit_hazard": 0.0,
    "labour_market.poaching_intensity": 0.0,
    "labour_market.competitors_per_sector": 0.0,
    "labour_market.graduate_hiring_share": 0.0,
    "firms.bottleneck_rate": 0.0,
    "firms.reputation_value_sme": 0.0,
    "policy.tax_credit.investment_offset": 0.0,
    "policy.funding.request": 0.0,
    "government.coordination": 1.0,
    "policy.subsidy.annual_budget": 1e12,
    "policy.subsidy.target": "all",
    "policy.platform.placement_matching": 1.0,
    "firms.decision_rule": "imitation",
    "firms.imitation_scope": "population",
    # a costly host: the unsubsidised payoff of engaging is clearly negative
    "firms.shallow_fixed_cost": 60_000.0,
    "warmup_years": 1,
}
#: Years each well-mixed run lasts (one imitation round a year).
YEARS = 30
#: Initial engaged shares each case starts from.
STARTS = (0.3, 0.7)
REPLICATIONS = 8
FAST_REPLICATIONS = 4
#: A run has converged when its final share is within this distance of the stable rest point.
TOLERANCE = 0.05


@dataclass(frozen=True)
class TripartiteGame:
    """Payoff parameters of the government-school-firm game (see the module docstring)."""

    b_F: float
    e_F: float
    c_F: float
    s_F: float
    p_F: float
    b_S: float = 0.3
    e_S: float = 0.2
    c_S: float = 0.2
    s_S: float = 0.1
    p_S: float = 0.1
    c_G: float = 0.05
    g_G: float = 0.6

    def firm_gain(self, y: float, z: float) -> float:
        """dU_F: payoff of engaging minus not engaging."""
        return self.b_F + y * self.e_F - self.c_F + z * (self.s_F + self.p_F)

    def school_gain(self, x: float, z: float) -> float:
        """dU_S: payoff of active cooperation minus passive."""
        return self.b_S + x * self.e_S - self.c_S + z * (self.s_S + self.p_S)

    def government_gain(self, x: float, y: float) -> float:
        """dU_G: payoff of active support minus passive."""
        return (-self.c_G - x * self.s_F - y * self.s_S + (1 - x) * self.p_F + (1 - y) * self.p_S
                + x * y * self.g_G)

    def rhs(self, _t: float, state: Sequence[float]) -> list[float]:
        """Replicator equations (x', y', z')."""
        x, y, z = state
        return [x * (1 - x) * self.firm_gain(y, z), y * (1 - y) * self.school_gain(x, z),
                z * (1 - z) * self.government_gain(x, y)]

    def jacobian(self, x: float, y: float, z: float) -> np.ndarray:
        """Jacobian of :meth:`rhs` at (x, y, z)."""
        fx, fy, fz = x * (1 - x), y * (1 - y), z * (1 - z)
        return np.array([
            [(1 - 2 * x) * self.firm_gain(y, z), fx * self.e_F, fx * (self.s_F + self.p_F)],
            [fy * self.e_S, (1 - 2 * y) * self.school_gain(x, z), fy * (self.s_S + self.p_S)],
            [fz * (-self.s_F - self.p_F + y * self.g_G), fz * (-self.s_S - self.p_S + x * self.g_G),
             (1 - 2 * z) * self.government_gain(x, y)],
        ])

    def rest_points(self) -> list[dict[str, Any]]:
        """The eight pure-strategy rest points with their Jacobian eigenvalues and stability."""
        out = []
        for x in (0, 1):
            for y in (0, 1):
                for z in (0, 1):
                    ev = np.linalg.eigvals(self.jacobian(x, y, z)).real
                    out.append({"point": (x, y, z), "eigenvalues": tuple(float(e) for e in ev),
                                "stable": bool((ev < 0).all())})
        return out

    def solve(self, start: Sequence[float], t_end: float, n: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """Integrate the replicator ODE from ``start``; returns (times, states[3, n])."""
        t = np.linspace(0.0, t_end, n)
        sol = solve_ivp(self.rhs, (0.0, t_end), list(start), t_eval=t, rtol=1e-8, atol=1e-10)
        return sol.t, sol.y


def firm_replicator(gain: float, span: float, x0: float, years: int) -> tuple[np.ndarray, np.ndarray]:
    """The firm equation x' = x (1 - x) gain / span on the face y = 1, z = 1 (time in years)."""
    t = np.arange(years + 1, dtype=float)
    sol = solve_ivp(lambda _t, x: x * (1 - x) * gain / span, (0.0, float(years)), [x0], t_eval=t, rtol=1e-10, atol=1e-12)
    return sol.t, sol.y[0]


@dataclass(frozen=True)
class Case:
    """One well-mixed check: subsidy shares on both sides of the game's threshold."""

    id: str
    claim: str
    subsidy_low: float
    subsidy_high: float
    fixed: dict[str, Any] = field(default_factory=dict)


CASES: tuple[Case, ...] = (
    Case("wellmixed_replicator",
         "Well-mixed limit (Liu, Wang & Dai 2023 tripartite game; Schlag 1998 imitation): below the subsidy "
         "threshold s* the firm share converges to x = 0, above it to x = 1, from any interior start, as the "
         "replicator dynamics predict.", 0.0, 0.8),
)


def _scenario(overrides: dict[str, Any]) -> Any:
    from sim import Scenario

    return Scenario.load("baseline").with_overrides({**REDUCTION, "years": YEARS, **overrides}, source="wellmixed")


def trajectory(scenario: Any, seed: int) -> dict[str, list[float]]:
    """Yearly engaged share, mean scaled payoff of engaged firms and payoff span after each decision."""
    from sim.model import ConsortiumModel

    m = ConsortiumModel(scenario, seed=seed)
    fs = m.firm_state
    scale = fs.employees * fs.wage * m.p["labour_market.skilled_wage_ratio"]
    xs, gains, spans = [float((fs.engagement >= 1).mean())], [], []
    while m.running:
        m.step()
        if m.month == 0:
            xs.append(float((fs.engagement >= 1).mean()))
        if m.month == 10:  # after the year's accounts closed (June)
            pay = fs.realised_value / scale
            e = fs.engagement >= 1
            gains.append(float(pay[e].mean()) if e.any() else float("nan"))
            spans.append(float(np.ptp(pay)))
    return {"x": xs, "gain": gains, "span": spans}


def _task(args: tuple[Any, int]) -> dict[str, list[float]]:
    return trajectory(*args)


def _run(jobs: list[tuple[Any, int]], workers: int | None) -> list[dict[str, list[float]]]:
    from experiments.validation import default_workers, pool_context

    workers = default_workers() if workers is None else workers
    if workers <= 1:
        return [_task(j) for j in jobs]
    with ProcessPoolExecutor(max_workers=workers, mp_context=pool_context()) as ex:
        return list(ex.map(_task, jobs, chunksize=1))


def probe(case: Case, seeds: Sequence[int], workers: int | None = None) -> dict[str, float]:
    """Measure the firm's payoff gain at x = 1 for subsidy 0 and 1 (it is linear in the share) and the span."""
    jobs = [(_scenario({**case.fixed, "policy.subsidy.cost_share": s, "firms.initial_engagement_share": 1.0,
                        "years": 6}), seed) for s in (0.0, 1.0) for seed in seeds]
    res = _run(jobs, workers)
    n = len(seeds)
    g0 = float(np.nanmean([np.nanmean(r["gain"][1:]) for r in res[:n]]))
    g1 = float(np.nanmean([np.nanmean(r["gain"][1:]) for r in res[n:]]))
    span = float(np.nanmean([np.nanmean(r["span"][1:]) for r in res]))
    return {"gain_at_zero": g0, "slope": g1 - g0, "threshold": -g0 / (g1 - g0) if g1 != g0 else float("nan"),
            "span": span}


def game_for(pr: dict[str, float], subsidy: float) -> TripartiteGame:
    """The tripartite game whose firm payoffs are the probe's (y = 1: b_F + e_F - c_F = gain at zero subsidy)."""
    return TripartiteGame(b_F=pr["gain_at_zero"], e_F=0.0, c_F=0.0, s_F=subsidy * pr["slope"], p_F=0.0)


def check(case: Case, replications: int, workers: int | None = None) -> Any:
    """Run the well-mixed check and return a :class:`experiments.validation.Outcome`."""
    from experiments.validation import Outcome, replication_seeds

    t0 = time.perf_counter()
    seeds = replication_seeds(replications)
    pr = probe(case, seeds[: max(2, replications // 2)], workers)
    subsidies = (case.subsidy_low, case.subsidy_high)
    jobs = [(_scenario({**case.fixed, "policy.subsidy.cost_share": s, "firms.initial_engagement_share": x0}), seed)
            for s in subsidies for x0 in STARTS for seed in seeds]
    res = _run(jobs, workers)
    n = len(seeds)
    ok = True
    observed, data = [], {"probe": pr, "runs": []}
    straddle = (case.subsidy_low - pr["threshold"]) * (case.subsidy_high - pr["threshold"]) < 0
    ok &= bool(straddle)
    k = 0
    for s in subsidies:
        game = game_for(pr, s)
        gain = game.firm_gain(1, 1)
        predicted = 1.0 if gain > 0 else 0.0
        stable = [r for r in game.rest_points() if r["point"][1:] == (1, 1)]
        stable_x = [r["point"][0] for r in stable if r["eigenvalues"][0] < 0]
        for x0 in STARTS:
            runs = res[k * n:(k + 1) * n]
            k += 1
            xs = np.array([r["x"] for r in runs], dtype=float)
            final = xs[:, -1]
            t, ode = firm_replicator(gain, pr["span"], x0, xs.shape[1] - 1)
            mean_path = xs.mean(axis=0)
            rmse = float(np.sqrt(np.mean((mean_path - ode[: mean_path.size]) ** 2)))
            this_ok = bool(abs(final.mean() - predicted) <= TOLERANCE and np.all(np.abs(final - predicted) < 0.5)
                           and stable_x == [predicted])
            ok &= this_ok
            observed.append(f"s={s:g}, x0={x0:g}: dU_F={gain:+.3f} -> stable x*={predicted:g}; "
                            f"ABM final {final.mean():.3f} (min {final.min():.2f}, max {final.max():.2f}); "
                            f"ODE-path RMSE {rmse:.3f}")
            data["runs"].append({"subsidy": s, "x0": x0, "gain": gain, "predicted": predicted,
                                 "paths": xs.tolist(), "ode": ode.tolist(), "rmse": rmse})
    obs = (f"probe: dU_F(s) = {pr['gain_at_zero']:+.3f} + {pr['slope']:.3f} s, threshold s* = {pr['threshold']:.3f}, "
           f"span M = {pr['span']:.3f}; " + "; ".join(observed))
    expected = (f"{case.claim} Subsidies {subsidies} straddle s*; |mean final x - x*| <= {TOLERANCE} and every seed "
                f"on the x* side, from starts {STARTS}, over {replications} seeds, {YEARS} years")
    return Outcome(case.id, "wellmixed", expected, obs, ok, {"threshold": pr["threshold"]}, data,
                   time.perf_counter() - t0)


def plot(outcome: Any, out_dir: str | os.PathLike[str]) -> Path:
    """ABM firm-share paths against the replicator ODE, both sides of the threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 3.6), dpi=110)
    colours = {0: "tab:red", 1: "tab:blue"}
    for run in outcome.data["runs"]:
        c = colours[int(run["predicted"])]
        paths = np.array(run["paths"])
        for p in paths:
            ax.plot(p, color=c, alpha=0.15, lw=0.7)
        ax.plot(np.array(run["ode"]), color=c, lw=2, ls="--")
        ax.plot(paths.mean(axis=0), color=c, lw=1.5)
    th = outcome.data["probe"]["threshold"]
    ax.set_xlabel("year (one imitation round a year)")
    ax.set_ylabel("engaged share of firms x")
    ax.set_title(f"Well-mixed ABM (solid) vs replicator ODE (dashed); s* = {th:.2f}\n"
                 "red: subsidy below s* (x* = 0); blue: above (x* = 1)", fontsize=8)
    from experiments.validation import save_figure

    return save_figure(fig, out_dir, outcome.id)


__all__ = ["CASES", "REDUCTION", "Case", "TripartiteGame", "check", "firm_replicator", "plot", "probe", "trajectory"]
