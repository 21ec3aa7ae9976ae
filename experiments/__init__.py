"""Running many models: durable, resumable sweeps from a laptop to a cluster.

Public API::

    import experiments
    sw = experiments.Sweep("experiments/examples/levers.toml")   # a sweep file
    res = sw.run("results/levers", workers=4)                     # or: consim sweep FILE --out DIR
    res = experiments.load("results/levers")                     # finished or partial
    res.summary            # one row per finished run: ids, seed, varied values, every indicator
    res.runs               # every run's status (pending / done / failed), error, seconds
    problem, X, Y = res.to_salib("firm_participation_rate")
    experiments_df, outcomes = res.to_ema()

Modules: :mod:`~experiments.sweepfile` (the file format), :mod:`~experiments.designs`
(grids and sampled designs), :mod:`~experiments.seeds`, :mod:`~experiments.store`
(the result directory), :mod:`~experiments.snapshots` (network snapshots),
:mod:`~experiments.executors`, :mod:`~experiments.worker`,
:mod:`~experiments.runner`, :mod:`~experiments.progress`, :mod:`~experiments.slurm`,
:mod:`~experiments.results`, :mod:`~experiments.export`, :mod:`~experiments.cli`.
See ``docs/sweeps.md``.
"""

from experiments.api import Sweep
from experiments.results import SweepResults, load
from experiments.sweepfile import SweepSpec, load_sweep

__all__ = ["Sweep", "SweepResults", "SweepSpec", "load", "load_sweep"]
