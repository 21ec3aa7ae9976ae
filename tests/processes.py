"""Helpers for tests that run ``consim`` as a separate process: the command, a free port, a running dashboard."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def consim_command() -> list[str]:
    """The ``consim`` entry point beside this interpreter, else ``python -m sim.cli``."""
    exe = Path(sys.executable).parent / "consim"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "sim.cli"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_dashboard(port: int, args: Sequence[str], log: Path, *, ready: Callable[[int], bool],
                      timeout: float, poll: float, env: Mapping[str, str], stop_wait: float) -> Iterator[int]:
    """``consim dashboard --port PORT *args`` in its own session, until ``ready(port)``; yields the port.

    Fails the test (with the end of the server's log) if the server exits or
    does not become ready within ``timeout`` seconds; on leaving, stops the
    whole process group (SIGTERM, then SIGKILL after ``stop_wait`` seconds).
    """
    with open(log, "wb") as out:
        proc = subprocess.Popen([*consim_command(), "dashboard", "--port", str(port), *args], cwd=ROOT, env=dict(env),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"consim dashboard exited with {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if ready(port):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"consim dashboard did not answer within {timeout:g} s: {log.read_text()[-2000:]}")
            time.sleep(poll)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=stop_wait)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
