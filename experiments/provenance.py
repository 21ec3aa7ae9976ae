"""Provenance: which code, packages, machine and command produced a sweep.

Design note
-----------
``provenance.json`` records the code version (package version, git commit
and whether the working tree had changes), the versions of the packages that
shape results, Python and platform, the sweep file's SHA-256, and one entry
per session (each ``consim sweep`` invocation, resume or shard) with its
command line, host, executor, start and end times and counts. The top-level
``command``, ``started`` and ``finished`` are the first session's command, its
start and the latest end.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shlex
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

#: Distributions whose versions are recorded.
PACKAGES = ("consortium-sim", "mesa", "numpy", "pandas", "pyarrow", "scipy", "networkx", "SALib",
            "dask", "distributed")


def now_iso() -> str:
    """Current UTC time, ISO 8601 with seconds."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    """Installed versions of :data:`PACKAGES` (None when missing)."""
    out: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def code_version() -> dict[str, Any]:
    """Package version, git commit and dirty flag of the checkout holding ``sim``."""
    import sim

    root = Path(sim.__file__).resolve().parent.parent
    info: dict[str, Any] = {"version": getattr(sim, "__version__", None), "git_commit": None, "git_dirty": None}
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5, check=True).stdout.strip()
        info["git_commit"] = commit or None
        info["git_dirty"] = bool(dirty)
    except (OSError, subprocess.SubprocessError):
        pass
    return info


_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """SHA-256 (16 hex digits) of the model's source (``sim/**/*.py`` but the dashboard), once per process.

    Computed when first asked and then cached, so a forked worker inherits its
    driver's value; a Dask worker computes its own. A sweep stores it per
    session, and a worker whose value differs from the driver's refuses to
    run (its results would come from other code).
    """
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import hashlib

        import sim

        root = Path(sim.__file__).resolve().parent
        digest = hashlib.sha256()
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith("dashboard/"):
                continue
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
        _FINGERPRINT = digest.hexdigest()[:16]
    return _FINGERPRINT


def command_line(argv: list[str] | None = None) -> str:
    """The command line of this process, shell-quoted."""
    argv = sys.argv if argv is None else argv
    prog = Path(argv[0]).name if argv else "python"
    return shlex.join([prog, *argv[1:]])


def new_provenance(sweep_name: str, sweep_file: str, sweep_sha256: str, command: str) -> dict[str, Any]:
    """The provenance record of a new sweep directory."""
    return {
        "sweep": sweep_name,
        "sweep_file": str(sweep_file),
        "sweep_sha256": sweep_sha256,
        "code": {**code_version(), "fingerprint": code_fingerprint()},
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "command": command,
        "started": now_iso(),
        "finished": None,
        "sessions": [],
    }


def session_record(command: str, executor: str, workers: int | None, shard: str | None) -> dict[str, Any]:
    """One session's entry (completed by the runner when it ends)."""
    return {"command": command, "host": socket.gethostname(), "pid": os.getpid(), "executor": executor,
            "workers": workers, "shard": shard, "started": now_iso(), "finished": None,
            "code": {**code_version(), "fingerprint": code_fingerprint()},
            "runs_attempted": 0, "done": 0, "failed": 0}
