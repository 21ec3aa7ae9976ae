"""The notebook API: :class:`Sweep`.

Design note
-----------
:class:`Sweep` is a planned sweep (a sweep file, a parsed table or a
:class:`~experiments.sweepfile.SweepSpec`); :meth:`Sweep.run` executes it
into a result directory with the same machinery as ``consim sweep`` and
returns :class:`~experiments.results.SweepResults`. Example::

    import experiments
    sw = experiments.Sweep("experiments/examples/levers.toml")
    sw.points                       # the design points, before anything runs
    res = sw.run("results/levers", workers=2)
    res.summary                     # one row per finished run
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.results import SweepResults
from experiments.runner import default_out, plan, run_sweep
from experiments.sweepfile import SweepSpec, load_sweep, parse_sweep


class Sweep:
    """A planned sweep; :meth:`run` runs it, :attr:`points` and :attr:`plan` show it."""

    def __init__(self, source: str | os.PathLike[str] | SweepSpec | Mapping[str, Any]) -> None:
        if isinstance(source, SweepSpec):
            self.spec = source
        elif isinstance(source, Mapping):
            self.spec = parse_sweep(source, where="<dict>", relative_to=Path.cwd())
        else:
            self.spec = load_sweep(source)
        self._plan: tuple[Any, pd.DataFrame, pd.DataFrame] | None = None

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> Sweep:
        """Load a sweep file."""
        return cls(load_sweep(path))

    def _planned(self) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
        if self._plan is None:
            self._plan = plan(self.spec)
        return self._plan

    @property
    def name(self) -> str:
        """The sweep's name (default result directory: ``results/<name>``)."""
        return self.spec.name

    @property
    def points(self) -> pd.DataFrame:
        """The design points: ``point_id`` and the varied keys' values."""
        return self._planned()[1]

    @property
    def plan(self) -> pd.DataFrame:
        """Every run: ``run_id``, ``point_id``, ``replication``, ``seed``."""
        return self._planned()[2]

    def __len__(self) -> int:
        return len(self.plan)

    def run(self, out: str | os.PathLike[str] | None = None, *, executor: str = "local", workers: int | None = None,
            scheduler: str | None = None, resume: bool = False, retries: int | None = None, progress: bool = True,
            chunk_size: int | None = None, shard: tuple[int, int] | None = None,
            run_function: Callable[..., Any] | None = None) -> SweepResults:
        """Run the sweep into ``out`` (default ``results/<name>``) and return its results.

        ``executor`` is ``local`` (processes, default), ``inprocess`` or ``dask``
        (a LocalCluster, or the cluster at ``scheduler``). ``resume=True``
        continues a sweep in a non-empty ``out``. ``run_function`` replaces
        ``sim.run`` (it must be picklable for process and Dask executors).
        """
        out = Path(out) if out is not None else default_out(self.spec)
        run_sweep(self.spec, out, executor=executor, workers=workers, scheduler=scheduler, resume=resume,
                  shard=shard, retries=retries, progress=progress, chunk_size=chunk_size,
                  command=f"experiments.Sweep({self.spec.path!r}).run({str(out)!r}, executor={executor!r})",
                  run_callable=run_function)
        return SweepResults(out)

    def __repr__(self) -> str:
        return f"Sweep({self.spec.name!r}: {len(self.points)} points x {self.spec.replications} replications)"
