"""Global sensitivity analysis of stored sweep results (SALib), aware of replications.

Design note
-----------
Every method reads the sweep's design points with the indicator averaged over
replications per point (:meth:`experiments.SweepResults.to_salib`), so the
model is never re-run. Each result has a *noise floor*: an index value that
pure noise would reach, below which a parameter cannot be told from nothing.

* ``sobol`` -- Sobol' first-order (S1) and total (ST) indices from a
  Saltelli/Sobol' design (Saltelli 2002; Saltelli et al. 2010, Jansen's ST
  estimator), needs ``method = "sobol"`` in the sweep's ``[design]``. Ranked by
  ST.
* ``morris`` -- elementary effects, ``mu*`` and ``sigma`` (Morris 1991;
  Campolongo et al. 2007), needs ``method = "morris"``. Ranked by ``mu*``.
* ``rbd_fast`` -- first-order indices from any sample (Tarantola et al. 2006;
  Plischke 2010), e.g. a Latin hypercube.
* ``pawn`` -- the moment-independent PAWN index (median Kolmogorov-Smirnov
  distance over ``S`` conditioning slides; Pianosi & Wagener 2015, 2018), any
  sample.

Noise floor. For the sample-free methods (``rbd_fast``, ``pawn``) an
independent uniform *dummy* column, drawn from a generator seeded by the
sweep's master seed, is analysed with the real parameters; its index (plus its
CI half-width) is the floor, the finite-sample bias every estimator has. For
Sobol' and Morris a dummy key would have to be part of the sweep design, and
under common random numbers a key the model never reads gives identical runs,
hence an index of exactly 0, which says nothing about noise. The floor there
comes from the replications instead: with within-point variance ``σ²`` and
``R`` replications, the point means carry noise of variance ``σ²/R``; it adds
``(σ²/R)/Var(Y)`` to every total index (Jansen's estimator) and
``sqrt(2σ²/R)·sqrt(2/π)/Δ`` to every ``mu*`` (Δ the Morris step). Both are
upper bounds, since common random numbers correlate the noise of neighbouring
points. With one replication the floor cannot be estimated and is reported
missing. A parameter is *above the floor* when its index exceeds the dummy's
upper bound (sample-free methods), or when its lower CI bound exceeds the
replication noise (Sobol', Morris).

Confidence intervals are SALib's bootstrap intervals (``*_conf`` half-widths,
``num_resamples`` resamples), and for PAWN a bootstrap over design points done
here. The verdict "sample large enough?" combines four checks, each reported:
(1) the noise floor is known and the top-ranked parameter's lower CI bound
is above it;
(2) for every parameter above the floor, the CI half-width is at most half
the index; (3) indices computed on the two halves of the sample (first and
second half of Saltelli blocks, Morris trajectories or rows; at least 16
blocks, 8 trajectories or 32 rows are needed to split) differ by at most
0.1 (normalised indices) or 20% of the largest ``mu*``; (4) the dummy, where
there is one, ranks below every parameter declared influential.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.labels import t

METHODS = ("sobol", "morris", "rbd_fast", "pawn")
SAMPLE_FREE = ("rbd_fast", "pawn")
DUMMY = "dummy"
HALF_TOL = 0.1
HALF_TOL_REL = 0.2


@dataclass
class SensitivityResult:
    """Indices of one method for one indicator, with the noise floor and a verdict."""

    method: str
    indicator: str
    #: One row per parameter (and the dummy): parameter, index, value, conf, low, high, rank,
    #: above_floor, plus method-specific columns (S1, ST, mu_star, sigma, ...).
    table: pd.DataFrame
    index: str
    noise_floor: float | None
    floor_source: str
    points: int
    replications: int
    enough: bool
    checks: list[tuple[str, bool]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    halves: pd.DataFrame | None = None

    @property
    def ranking(self) -> list[str]:
        """Parameters (and the dummy) from most to least influential."""
        return list(self.table.sort_values("rank")["parameter"])


# ---------------------------------------------------------------- helpers
@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        yield


def _dummy_column(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng([int(seed), 0xD0D0]).random(n)


def replication_noise(results: Any, indicator: str, point_ids: np.ndarray) -> tuple[float, int]:
    """Mean within-point variance of ``indicator`` over ``point_ids`` and the replications per point."""
    summ = results.summary
    summ = summ[summ["point_id"].isin(point_ids)]
    reps = int(summ.groupby("point_id").size().min()) if len(summ) else 0
    if reps < 2:
        return (float("nan"), reps)
    var = summ.groupby("point_id")[indicator].var(ddof=1)
    return (float(var.mean()), reps)


def _selected_point_ids(results: Any, where: dict[str, Any] | None) -> np.ndarray:
    pts = results.points
    mask = np.ones(len(pts), dtype=bool)
    for k, v in (where or {}).items():
        mask &= (pts[k] == v).to_numpy()
    return pts.loc[mask, "point_id"].to_numpy()


def _analyse_sobol(problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, second_order: bool,
                   resamples: int, seed: int) -> dict[str, np.ndarray]:
    from SALib.analyze import sobol

    with _quiet():
        si = sobol.analyze(problem, Y, calc_second_order=second_order, num_resamples=resamples, seed=seed)
    return {"S1": np.asarray(si["S1"]), "S1_conf": np.asarray(si["S1_conf"]),
            "ST": np.asarray(si["ST"]), "ST_conf": np.asarray(si["ST_conf"])}


def _analyse_morris(problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, num_levels: int,
                    resamples: int, seed: int) -> dict[str, np.ndarray]:
    from SALib.analyze import morris

    with _quiet():
        si = morris.analyze(problem, X, Y, num_resamples=resamples, num_levels=num_levels, seed=seed)
    return {"mu_star": np.asarray(si["mu_star"], dtype=float),
            "mu_star_conf": np.asarray(si["mu_star_conf"], dtype=float),
            "mu": np.asarray(si["mu"], dtype=float), "sigma": np.asarray(si["sigma"], dtype=float)}


def _rbd_m(n: int) -> int:
    return int(max(1, min(10, n // 10)))


def _analyse_rbd(problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, resamples: int,
                 seed: int) -> dict[str, np.ndarray]:
    from SALib.analyze import rbd_fast

    with _quiet():
        si = rbd_fast.analyze(problem, X, Y, M=_rbd_m(len(Y)), num_resamples=resamples, seed=seed)
    return {"S1": np.asarray(si["S1"], dtype=float), "S1_conf": np.asarray(si["S1_conf"], dtype=float)}


def _pawn_slides(n: int) -> int:
    # SALib builds slide edges with np.arange(0, 1 + 1/S, 1/S), which overshoots 1 for some S
    # (6 and 9, for instance) and then fails; take the largest S <= n // 8 that does not.
    s = int(max(2, min(10, n // 8)))
    while s > 2 and len(np.arange(0, 1 + 1 / s, 1 / s)) != s + 1:
        s -= 1
    return s


def pawn_median(X: np.ndarray, Y: np.ndarray, S: int) -> np.ndarray:
    """PAWN median index per column, computed as SALib's ``pawn.analyze`` does (vectorised).

    Slides are the ``S`` quantile intervals of each input; the index is the median over
    slides of the Kolmogorov-Smirnov distance between ``Y`` in the slide and all ``Y``.
    Used for the bootstrap, where SALib's per-call cost would dominate.
    """
    ys = np.sort(Y)
    n = len(Y)
    out = np.full(X.shape[1], np.nan)
    seq = np.linspace(0.0, 1.0, S + 1)
    for d in range(X.shape[1]):
        xq = np.nanquantile(X[:, d], seq)
        ks = []
        for s in range(S):
            sel = np.sort(Y[(X[:, d] >= xq[s]) & (X[:, d] < xq[s + 1])])
            if len(sel) == 0:
                continue
            pooled = np.concatenate([sel, ys])
            f1 = np.searchsorted(sel, pooled, side="right") / len(sel)
            f2 = np.searchsorted(ys, pooled, side="right") / n
            ks.append(float(np.max(np.abs(f1 - f2))))
        if ks:
            out[d] = float(np.median(ks))
    return out


def _analyse_pawn(problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, resamples: int,
                  seed: int) -> dict[str, np.ndarray]:
    from SALib.analyze import pawn

    S = _pawn_slides(len(Y))
    with _quiet():
        med = np.asarray(pawn.analyze(problem, X, Y, S=S)["median"], dtype=float)
    if resamples <= 0:
        return {"median": med, "median_conf": np.full(len(med), np.nan)}
    rng = np.random.default_rng([int(seed), 0xBA5E])
    boots = []
    for _ in range(resamples):
        idx = rng.integers(0, len(Y), len(Y))
        boots.append(pawn_median(X[idx], Y[idx], S))
    half = 1.96 * np.nanstd(np.asarray(boots), axis=0, ddof=1)
    return {"median": med, "median_conf": half}


_INDEX = {"sobol": ("ST", "ST_conf"), "morris": ("mu_star", "mu_star_conf"),
          "rbd_fast": ("S1", "S1_conf"), "pawn": ("median", "median_conf")}


def _run(method: str, problem: dict[str, Any], X: np.ndarray, Y: np.ndarray, design: dict[str, Any],
         resamples: int, seed: int) -> dict[str, np.ndarray]:
    if method == "sobol":
        return _analyse_sobol(problem, X, Y, bool(design.get("second_order")), resamples, seed)
    if method == "morris":
        return _analyse_morris(problem, X, Y, int(design.get("num_levels", 4)), resamples, seed)
    if method == "rbd_fast":
        return _analyse_rbd(problem, X, Y, resamples, seed)
    if method == "pawn":
        return _analyse_pawn(problem, X, Y, resamples, seed)
    raise ValueError(f"method {method!r}: allowed: {', '.join(METHODS)}")


def _halves(method: str, problem: dict[str, Any], X: np.ndarray, Y: np.ndarray,
            design: dict[str, Any]) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]] | None:
    D = problem["num_vars"]
    n = len(Y)
    if method == "sobol":
        block = 2 * D + 2 if design.get("second_order") else D + 2
        blocks = n // block
        if blocks < 16:
            return None
        cut = (blocks // 2) * block
    elif method == "morris":
        block = D + 1
        traj = n // block
        if traj < 8:
            return None
        cut = (traj // 2) * block
    else:
        if n < 32:
            return None
        cut = n // 2
    return (X[:cut], Y[:cut]), (X[cut:], Y[cut:])


def sensitivity(results: Any, indicator: str, method: str, where: dict[str, Any] | None = None,
                resamples: int = 200, seed: int | None = None, conf: float = 0.95,
                lang: str = "en") -> SensitivityResult:
    """Sensitivity indices of ``indicator`` by ``method`` (see the module note).

    ``where`` picks one cell of a ``[vary]`` grid crossed with the design (as in
    :meth:`~experiments.SweepResults.to_salib`). Raises ``ValueError`` when the
    design does not suit the method or the sample is incomplete.
    """
    if method not in METHODS:
        raise ValueError(f"method {method!r}: allowed: {', '.join(METHODS)}")
    design = results.sweep.get("design") or {}
    dmethod = design.get("method")
    if method in ("sobol", "morris") and dmethod != method:
        raise ValueError(f"{method} needs a sweep design with method = \"{method}\" (this sweep's: {dmethod or 'a grid'})")
    if method in SAMPLE_FREE and not design:
        raise ValueError(f"{method} needs a sampled [design] (lhs, sobol, morris or factorial); this sweep is a grid")
    seed = int(results.sweep.get("seed", 0)) if seed is None else int(seed)
    problem, X, Y = results.to_salib(indicator, where=where)
    if not problem["names"]:
        raise ValueError("the design has no numeric ranges to analyse")
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if np.isnan(Y).any():
        raise ValueError(f"{indicator} is missing (NaN) at some design points")
    ids = _selected_point_ids(results, where)
    noise_var, reps = replication_noise(results, indicator, ids)
    notes: list[str] = []
    names = list(problem["names"])
    if method in SAMPLE_FREE:
        X = np.column_stack([X, _dummy_column(len(Y), seed)])
        problem = {"num_vars": len(names) + 1, "names": [*names, DUMMY],
                   "bounds": [*problem["bounds"], [0.0, 1.0]]}
    si = _run(method, problem, X, Y, design, resamples, seed)
    key, conf_key = _INDEX[method]
    value = np.asarray(si[key], dtype=float)
    half = np.asarray(si[conf_key], dtype=float)
    var_y = float(np.var(Y, ddof=1)) if len(Y) > 1 else float("nan")

    # ---- the noise floor
    if method in SAMPLE_FREE:
        d = problem["names"].index(DUMMY)
        floor = float(value[d] + (half[d] if np.isfinite(half[d]) else 0.0))
        source = "dummy"
    elif np.isnan(noise_var):
        floor, source = None, "unknown (one replication per point)"
        notes.append(t("one_rep", lang))
    elif method == "sobol":
        floor = float((noise_var / reps) / var_y) if var_y > 0 else float("nan")
        source = "replications"
    else:
        levels = int(design.get("num_levels", 4))
        step = levels / (2 * (levels - 1))
        floor = float(np.sqrt(2 * noise_var / reps) * np.sqrt(2 / np.pi) / step)
        source = "replications"

    table = pd.DataFrame({"parameter": problem["names"], "index": key, "value": value, "conf": half,
                          "low": value - half, "high": value + half})
    for k, v in si.items():
        table[k] = np.asarray(v, dtype=float)
    table["rank"] = table["value"].rank(ascending=False, method="first").astype(int)
    is_dummy = table["parameter"] == DUMMY
    if floor is None or not np.isfinite(floor):
        table["above_floor"] = table["low"] > 0
    elif method in SAMPLE_FREE:  # the floor is already the dummy's upper bound
        table["above_floor"] = (table["value"] > floor) & ~is_dummy
    else:  # a noise estimate: the parameter's lower bound must clear it
        table["above_floor"] = table["low"] > floor
    table = table.sort_values("rank", ignore_index=True)

    # ---- the verdict
    checks: list[tuple[str, bool]] = []
    real = table[table["parameter"] != DUMMY]
    top = real.iloc[0]
    if floor is None or not np.isfinite(floor):
        checks.append((t("chk_floor_unknown", lang), False))
    else:
        checks.append((t("chk_top", lang, name=top["parameter"], floor=f"{floor:.3g}"), bool(top["low"] > floor)))
    infl = real[real["above_floor"]]
    if len(infl):
        rel = (infl["conf"] / infl["value"].abs()).max()
        checks.append((t("chk_ci", lang, worst=f"{rel:.2f}"), bool(rel <= 0.5)))
    halves_df = None
    parts = _halves(method, problem, X, Y, design)
    if parts is None:
        checks.append((t("chk_halves_small", lang), False))
    else:
        (Xa, Ya), (Xb, Yb) = parts
        few = 0 if method == "pawn" else 10
        a = np.asarray(_run(method, problem, Xa, Ya, design, few, seed)[key], dtype=float)
        b = np.asarray(_run(method, problem, Xb, Yb, design, few, seed + 1)[key], dtype=float)
        halves_df = pd.DataFrame({"parameter": problem["names"], "first_half": a, "second_half": b})
        diff = float(np.nanmax(np.abs(a - b)))
        if method == "morris":
            scale = float(np.nanmax(np.abs(value))) or 1.0
            ok = diff <= HALF_TOL_REL * scale
            checks.append((t("chk_halves_rel", lang, diff=f"{diff:.3g}", rel=f"{diff / scale:.0%}",
                             tol=f"{HALF_TOL_REL:.0%}"), bool(ok)))
        else:
            checks.append((t("chk_halves", lang, diff=f"{diff:.3f}", tol=HALF_TOL), bool(diff <= HALF_TOL)))
    if method in SAMPLE_FREE:
        dummy_rank = int(table.loc[table["parameter"] == DUMMY, "rank"].iloc[0])
        worst_infl = int(infl["rank"].max()) if len(infl) else 0
        checks.append((t("chk_dummy", lang, rank=dummy_rank), bool(dummy_rank > worst_infl)))
    enough = all(ok for _, ok in checks)
    return SensitivityResult(method=method, indicator=indicator, table=table, index=key, noise_floor=floor,
                             floor_source=source, points=len(Y), replications=reps, enough=enough,
                             checks=checks, notes=notes, halves=halves_df)


def suitable_methods(results: Any) -> list[str]:
    """The methods this sweep's design supports, in the order a report runs them."""
    design = results.sweep.get("design") or {}
    m = design.get("method")
    if not m:
        return []
    out = [m] if m in ("sobol", "morris") else []
    return out + list(SAMPLE_FREE)
