"""Design points: the grid of ``[vary]`` crossed with a sampled ``[design]``.

Design note
-----------
A design point is one set of values for the varied keys. The ``[vary]`` grid
gives every combination of its lists (in the order written); a ``[design]``
draws points over ranges with the samplers of SALib and
:mod:`scipy.stats.qmc` (nothing here writes a sampler):

* ``lhs`` -- :class:`scipy.stats.qmc.LatinHypercube`, ``samples`` points
  (McKay, Beckman & Conover 1979).
* ``sobol`` -- :func:`SALib.sample.sobol.sample` (Saltelli's scheme for
  Sobol' indices), ``N*(D+2)`` points, or ``N*(2D+2)`` with
  ``second_order = true``; ``N = samples`` must be a power of 2 (Saltelli
  2002; Saltelli et al. 2010).
* ``morris`` -- :func:`SALib.sample.morris.sample`, ``samples`` trajectories of
  ``D+1`` points on a ``num_levels`` grid (Morris 1991; Campolongo et al. 2007).
* ``factorial`` -- every combination of ``levels`` evenly spaced values per
  numeric range (and every listed value of a choice key).

The grid and the design are crossed: each grid combination is paired with
every sampled point, grid outermost. Samplers take their seed from the
sweep's master seed (:func:`experiments.seeds.design_seed`), so a sweep file
always gives the same points. Integer keys are rounded to the nearest
integer; choice keys sampled by ``lhs`` take the value of the interval the
uniform draw falls in.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pandas as pd

from experiments.seeds import design_seed
from experiments.sweepfile import DesignSpec, SweepSpec
from sim.parameters import BY_KEY


def salib_problem(design: DesignSpec) -> dict[str, Any]:
    """SALib's problem dict for the numeric ranges of ``design``."""
    names = [k for k, v in design.ranges.items() if isinstance(v, tuple)]
    return {"num_vars": len(names), "names": names,
            "bounds": [[float(design.ranges[k][0]), float(design.ranges[k][1])] for k in names]}


def _canonical(key: str, value: Any) -> Any:
    kind = BY_KEY[key].kind
    if kind == "int":
        return int(round(float(value)))
    if kind in ("float", "share"):
        return float(value)
    return value


def sample_design(design: DesignSpec, seed: int) -> list[dict[str, Any]]:
    """The sampled points of ``design``: a list of ``{key: value}``."""
    keys = list(design.ranges)
    if design.method == "factorial":
        axes = []
        for k in keys:
            r = design.ranges[k]
            if isinstance(r, tuple):
                vals = [_canonical(k, v) for v in np.linspace(r[0], r[1], design.levels)]
                axes.append(list(dict.fromkeys(vals)))
            else:
                axes.append(list(r))
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*axes)]
    if design.method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(keys), rng=np.random.default_rng(seed)).random(design.samples)
        points = []
        for row in unit:
            point = {}
            for k, u in zip(keys, row, strict=True):
                r = design.ranges[k]
                if isinstance(r, tuple):
                    point[k] = _canonical(k, r[0] + float(u) * (r[1] - r[0]))
                else:
                    point[k] = r[min(int(u * len(r)), len(r) - 1)]
            points.append(point)
        return points
    problem = salib_problem(design)
    if design.method == "sobol":
        from SALib.sample import sobol

        X = sobol.sample(problem, design.samples, calc_second_order=design.second_order, seed=seed)
    elif design.method == "morris":
        from SALib.sample import morris

        X = morris.sample(problem, design.samples, num_levels=design.num_levels, seed=seed)
    else:  # pragma: no cover - validated in sweepfile
        raise ValueError(design.method)
    return [{k: _canonical(k, x) for k, x in zip(problem["names"], row, strict=True)} for row in X]


def design_points(spec: SweepSpec) -> list[dict[str, Any]]:
    """Every design point of ``spec`` as ``{varied key: value}``, in point-id order."""
    grid_keys = list(spec.vary)
    grid = [dict(zip(grid_keys, combo, strict=True)) for combo in itertools.product(*spec.vary.values())]
    sampled = sample_design(spec.design, design_seed(spec.seed)) if spec.design else [{}]
    return [{**g, **s} for g in grid for s in sampled]


def _cell(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value


def points_frame(spec: SweepSpec, points: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """The ``points.parquet`` table: ``point_id`` and one column per varied key.

    List-valued keys (sector lists, schedules) are stored as JSON text.
    """
    points = design_points(spec) if points is None else points
    cols: dict[str, Any] = {"point_id": np.arange(len(points), dtype="int64")}
    for k in spec.varied_keys:
        cols[k] = [_cell(p[k]) for p in points]
    return pd.DataFrame(cols)
