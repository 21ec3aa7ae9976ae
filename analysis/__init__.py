"""Making sense of stored sweep results: tables, figures, sensitivity, scenario discovery, reports.

Everything here reads a result directory written by ``consim sweep`` (through
:func:`experiments.load`) and never runs the model. Public API::

    import experiments
    from analysis import sweep_design, paired_runs, effects, cost_effectiveness
    res = experiments.load("results/levers")
    design = sweep_design(res)                 # levers, uncertainties, reference point
    pairs = paired_runs(res.summary, design)   # policy run vs reference run, same seed
    effects(pairs, design)                     # mean paired difference, 95% CI, d_z
    cost_effectiveness(pairs, design)          # yuan per additional firm, deadweight (approx.)
    sensitivity(res, "sme_participation_rate", "rbd_fast")   # SALib, with a noise floor
    discover(res, design, "sme_participation_rate", min_gain=0.05)  # PRIM boxes
    build_report("results/levers", lang="zh")  # or: consim report results/levers --lang zh

Modules: :mod:`~analysis.design`, :mod:`~analysis.stats`, :mod:`~analysis.costs`,
:mod:`~analysis.headline`, :mod:`~analysis.sensitivity`, :mod:`~analysis.discovery`,
:mod:`~analysis.figures`, :mod:`~analysis.network`, :mod:`~analysis.fonts`,
:mod:`~analysis.labels`, :mod:`~analysis.report`, :mod:`~analysis.cli`. See
``docs/analysis.md``.
"""

from analysis.costs import cost_effectiveness
from analysis.design import SweepDesign, sweep_design
from analysis.discovery import Discovery, discover
from analysis.headline import headline_numbers, headline_table
from analysis.report import Report, build_report
from analysis.sensitivity import SensitivityResult, sensitivity
from analysis.stats import effects, group_table, paired_runs, point_table

__all__ = ["Discovery", "Report", "SensitivityResult", "SweepDesign", "build_report", "cost_effectiveness",
           "discover", "effects", "group_table", "headline_numbers", "headline_table", "paired_runs",
           "point_table", "sensitivity", "sweep_design"]
