"""Slurm job arrays: a generated sbatch script, one shard per array task.

Design note
-----------
``consim sweep FILE --out DIR --write-sbatch job.sh`` writes a script whose
array task ``I`` (``$SLURM_ARRAY_TASK_ID``, from 0) runs ``consim sweep FILE
--out DIR --shard I/N``: the runs with ``run_id % N == I``, with the task's
CPUs as local worker processes. Shards write their own batch files into DIR
(which must be on a file system all nodes share), so no driver has to stay
alive; a shard that was killed or timed out is simply submitted again
(``sbatch --array=I job.sh``) and runs only what it is missing. The first
shard to start creates DIR; every shard refreshes ``runs.parquet`` when it
ends. Defaults come from the sweep file's ``[slurm]`` table.
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from experiments.store import atomic_write_bytes
from experiments.sweepfile import SweepSpec

DEFAULT_CPUS = 4
DEFAULT_TIME = "04:00:00"
DEFAULT_MEM_PER_CPU = "2G"


def sbatch_script(spec: SweepSpec, sweep_file: str | os.PathLike[str], out: str | os.PathLike[str], shards: int,
                  cpus: int | None = None, retries: int | None = None, log_dir: str | os.PathLike[str] | None = None,
                  script_path: str | os.PathLike[str] = "job.sh") -> str:
    """Text of a Slurm job-array script running ``spec`` as ``shards`` shards."""
    sl = spec.slurm
    cpus = cpus or sl.get("cpus_per_task", DEFAULT_CPUS)
    sweep_file = Path(sweep_file).resolve()
    out = Path(out).resolve()
    log_dir = Path(log_dir).resolve() if log_dir else out.parent / f"{out.name}.slurm-logs"
    lines = [
        "#!/bin/bash",
        f"# Slurm job array for the sweep {spec.name!r} (written by `consim sweep --write-sbatch`).",
        f"#   submit:  sbatch {shlex.quote(str(script_path))}",
        f"#   watch:   consim status {shlex.quote(str(out))}",
        f"#   re-run a lost shard I:  sbatch --array=I {shlex.quote(str(script_path))}   (runs only what it misses)",
        f"# Shard I runs the runs with run_id % {shards} == I and writes its own files into",
        "# the result directory, which must be on a file system every node sees.",
        f"#SBATCH --job-name=consim-{spec.name}",
        f"#SBATCH --array=0-{shards - 1}",
        "#SBATCH --ntasks=1",
        f"#SBATCH --cpus-per-task={cpus}",
        f"#SBATCH --time={sl.get('time', DEFAULT_TIME)}",
        f"#SBATCH --mem={sl['mem']}" if "mem" in sl else f"#SBATCH --mem-per-cpu={DEFAULT_MEM_PER_CPU}",
        f"#SBATCH --output={log_dir}/%x-%A_%a.out",
    ]
    if "partition" in sl:
        lines.append(f"#SBATCH --partition={sl['partition']}")
    if "account" in sl:
        lines.append(f"#SBATCH --account={sl['account']}")
    lines += [f"#SBATCH {x}" for x in sl.get("extra", [])]
    lines += ["", "set -euo pipefail"]
    lines += sl.get("setup", [])
    lines += [
        "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1",
        f"cd {shlex.quote(os.getcwd())}",
        "",
        " ".join([shlex.quote(sys.executable), "-m", "sim.cli", "sweep", shlex.quote(str(sweep_file)),
                  "--out", shlex.quote(str(out)), "--shard", f"\"${{SLURM_ARRAY_TASK_ID}}/{shards}\"",
                  "--workers", f"\"${{SLURM_CPUS_PER_TASK:-{cpus}}}\"", "--no-progress"]
                 + (["--retries", str(retries)] if retries is not None else [])),
    ]
    return "\n".join(lines) + "\n"


def write_sbatch(path: str | os.PathLike[str], spec: SweepSpec, sweep_file: str | os.PathLike[str],
                 out: str | os.PathLike[str], shards: int, cpus: int | None = None,
                 retries: int | None = None) -> Path:
    """Write the job-array script to ``path`` (executable) and create its log folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    log_dir = path.resolve().parent / f"{Path(out).name}.slurm-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    text = sbatch_script(spec, sweep_file, out, shards, cpus=cpus, retries=retries, log_dir=log_dir,
                         script_path=path.resolve())
    atomic_write_bytes(path, text.encode("utf-8"))
    os.chmod(path, 0o755)
    return path
