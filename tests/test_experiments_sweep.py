"""Sweeps that do not lose work: kill and resume, failures as data, workers, Dask, shards, exports."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import experiments
from experiments.executors import make_executor
from experiments.runner import run_sweep
from experiments.store import Store
from experiments.sweepfile import load_sweep
from sim.errors import InputError
from sim.indicators import NAMES

ROOT = Path(__file__).resolve().parent.parent
CONSIM = [sys.executable, "-m", "sim.cli"]
SMALL_CITY = """
years = 2
"population.smes" = 30
"population.anchor_firms" = 2
"population.schools.secondary" = 2
"population.schools.higher" = 1
"population.schools.undergraduate" = 1
"""


def sweep_file(tmp_path: Path, *, replications: int = 2, shares=(0.0, 0.5, 1.0), matching=(0.0, 1.0),
               extra: str = "", name: str = "sweep.toml") -> Path:
    text = f"""
base = "baseline"
seed = 2024
replications = {replications}
keep = ["firm_participation_rate", "engagement_gap"]
{extra}
{SMALL_CITY}
[vary]
"policy.subsidy.cost_share" = {list(shares)}
"policy.platform.placement_matching" = {list(matching)}
"""
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def summary_of(out: Path) -> pd.DataFrame:
    return experiments.load(out).summary.sort_values("run_id", ignore_index=True)


def assert_same_results(a: Path, b: Path) -> None:
    sa, sb = summary_of(a), summary_of(b)
    pd.testing.assert_frame_equal(sa, sb)
    ta, tb = Store(a).read_timeseries(), Store(b).read_timeseries()
    pd.testing.assert_frame_equal(ta, tb)


def raw_summary_rows(out: Path) -> int:
    return sum(pq.read_metadata(p).num_rows for p in (out / "summary").glob("part-*.parquet"))


# ---------------------------------------------------------------- layout and API
def test_layout_and_load(tmp_path):
    spec = load_sweep(sweep_file(tmp_path))
    out = tmp_path / "out"
    res = experiments.Sweep(spec).run(out, executor="inprocess", progress=False)
    for name in ("points.parquet", "runs.parquet", "provenance.json"):
        assert (out / name).is_file()
    assert list((out / "summary").glob("part-*.parquet")) and list((out / "timeseries").glob("part-*.parquet"))
    runs = pd.read_parquet(out / "runs.parquet")
    for col in ("run_id", "point_id", "replication", "seed", "status", "error", "seconds"):
        assert col in runs.columns
    assert (runs["status"] == "done").all() and len(runs) == 12
    summ = pd.concat(pd.read_parquet(p) for p in sorted((out / "summary").glob("part-*.parquet")))
    assert {"run_id", *NAMES} <= set(summ.columns)
    ts = pd.concat(pd.read_parquet(p) for p in sorted((out / "timeseries").glob("part-*.parquet")))
    assert list(ts.columns) == ["run_id", "step", "year", "firm_participation_rate", "engagement_gap"]
    assert len(ts) == 12 * 24
    points = pd.read_parquet(out / "points.parquet")
    assert list(points.columns) == ["point_id", "policy.subsidy.cost_share", "policy.platform.placement_matching"]
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["packages"]["numpy"] and prov["code"]["version"] and prov["command"] and prov["started"]
    assert prov["finished"] and prov["sessions"][0]["finished"]
    s = res.summary
    assert len(s) == 12
    assert {"run_id", "point_id", "replication", "seed", "policy.subsidy.cost_share",
            "policy.platform.placement_matching", *NAMES} <= set(s.columns)
    # paired comparisons: replication r has one seed at every point
    assert (s.groupby("replication")["seed"].nunique() == 1).all()
    # the model's own run with the stored seed reproduces the stored summary
    from sim import run

    row = s.iloc[5]
    sc = spec.base.with_overrides({"policy.subsidy.cost_share": row["policy.subsidy.cost_share"],
                                   "policy.platform.placement_matching": row["policy.platform.placement_matching"]})
    again = run(sc, seed=int(s["seed"].iloc[5]))  # not row["seed"]: a mixed row is float64
    assert all(again.summary[n] == row[n] or (np.isnan(again.summary[n]) and np.isnan(row[n])) for n in NAMES)


def test_exports(tmp_path):
    text = f"""
base = "baseline"
seed = 5
replications = 2
keep = ["firm_participation_rate"]
run_function = "experiments.testing:synthetic_run"
{SMALL_CITY}
[design]
method = "sobol"
samples = 4
[design.ranges]
"policy.subsidy.cost_share" = [0.0, 1.0]
"policy.platform.placement_matching" = [0.0, 1.0]
"""
    path = tmp_path / "sobol.toml"
    path.write_text(text)
    res = experiments.Sweep(path).run(tmp_path / "out", executor="inprocess", progress=False)
    problem, X, Y = res.to_salib("firm_participation_rate")
    assert problem["names"] == ["policy.subsidy.cost_share", "policy.platform.placement_matching"]
    assert X.shape == (16, 2) and Y.shape == (16,)
    from SALib.analyze import sobol

    Si = sobol.analyze(problem, Y, calc_second_order=False, seed=1)
    assert len(Si["S1"]) == 2
    _, _, Yall = res.to_salib()
    assert Yall.shape == (16, len(NAMES))
    exp, outcomes = res.to_ema(timeseries=True)
    assert len(exp) == 32 and {"scenario", "policy", "model", "policy.subsidy.cost_share"} <= set(exp.columns)
    assert outcomes["firm_participation_rate"].shape == (32,)
    assert outcomes["firm_participation_rate_series"].shape == (32, 24)
    feature_scoring = pytest.importorskip("ema_workbench.analysis.feature_scoring")
    levers = exp[["policy.subsidy.cost_share", "policy.platform.placement_matching"]]
    scores = feature_scoring.get_feature_scores_all(levers, {"firm_participation_rate": outcomes["firm_participation_rate"]})
    assert scores.shape == (2, 1)


# ---------------------------------------------------------------- failures are data
def test_failing_runs_are_recorded_and_the_rest_finish(tmp_path):
    path = sweep_file(tmp_path, extra='run_function = "experiments.testing:failing_run"\nretries = 2')
    out = tmp_path / "out"
    outcome = run_sweep(load_sweep(path), out, executor="local", workers=2, progress=False)
    assert outcome.failed == 4 and outcome.done == 8 and outcome.pending == 0
    runs = pd.read_parquet(out / "runs.parquet")
    failed = runs[runs["status"] == "failed"]
    assert len(failed) == 4
    assert failed["error"].str.contains("RuntimeError: synthetic failure at cost_share 0.5").all()
    assert failed["traceback"].str.contains("Traceback").all()
    assert (failed["attempts"] == 3).all(), "1 attempt + 2 retries"
    assert (runs.loc[runs["status"] == "done", "error"] == "").all()
    assert len(experiments.load(out).summary) == 8
    status = subprocess.run([*CONSIM, "status", str(out), "--json"], capture_output=True, text=True, cwd=ROOT,
                            timeout=60)
    assert status.returncode == 0
    info = json.loads(status.stdout)
    assert (info["done"], info["failed"], info["pending"]) == (8, 4, 0)
    assert "synthetic failure" in info["failures"][0]["error"]


def test_a_run_that_kills_its_worker_is_recorded_and_the_pool_recovers(tmp_path):
    path = sweep_file(tmp_path, replications=1, extra='run_function = "experiments.testing:crashing_run"\nretries = 1')
    out = tmp_path / "out"
    outcome = run_sweep(load_sweep(path), out, executor="local", workers=2, progress=False, chunk_size=2)
    assert (outcome.done, outcome.failed, outcome.pending) == (4, 2, 0)
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs.loc[runs["status"] == "failed", "error"].str.contains("worker died").all()
    assert raw_summary_rows(out) == 4


def test_time_limit(tmp_path):
    path = sweep_file(tmp_path, replications=1, shares=(0.0, 0.5), matching=(0.0,),
                      extra='run_function = "experiments.testing:hanging_run"\ntime_limit = 0.5')
    out = tmp_path / "out"
    t0 = time.perf_counter()
    outcome = run_sweep(load_sweep(path), out, executor="inprocess", progress=False)
    assert time.perf_counter() - t0 < 10
    assert (outcome.done, outcome.failed) == (1, 1)
    runs = pd.read_parquet(out / "runs.parquet")
    assert "RunTimeout" in runs.loc[runs["status"] == "failed", "error"].iloc[0]


# ---------------------------------------------------------------- determinism across executors
def test_one_and_two_workers_give_identical_results(tmp_path):
    spec = load_sweep(sweep_file(tmp_path))
    run_sweep(spec, tmp_path / "w1", executor="local", workers=1, progress=False)
    run_sweep(spec, tmp_path / "w2", executor="local", workers=2, progress=False, chunk_size=1)
    assert_same_results(tmp_path / "w1", tmp_path / "w2")
    assert len(summary_of(tmp_path / "w1")) == 12


# ---------------------------------------------------------------- kill -9 and resume
def test_kill_9_midway_then_resume_equals_uninterrupted(tmp_path):
    path = sweep_file(tmp_path, replications=5, shares=(0.0, 0.25, 0.5, 0.75, 1.0), extra="chunk_size = 2")
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = subprocess.Popen([*CONSIM, "sweep", str(path), "--out", str(killed), "--workers", "2", "--no-progress"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(list((killed / "summary").glob("part-*.parquet"))) >= 3 if (killed / "summary").is_dir() else False:
            break
        assert proc.poll() is None, proc.stderr.read().decode()
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # the driver only; its forked workers die with it
    proc.wait(timeout=10)
    proc.stderr.close()

    before = experiments.load(killed).counts()
    assert 0 < before["done"] < before["total"] == 50, before
    # without --resume the directory is refused
    refused = subprocess.run([*CONSIM, "sweep", str(path), "--out", str(killed)], capture_output=True, text=True,
                             cwd=ROOT, timeout=60)
    assert refused.returncode == 2 and "--resume" in refused.stderr and "Traceback" not in refused.stderr
    done_before = summary_of(killed)
    resumed = subprocess.run([*CONSIM, "sweep", str(path), "--out", str(killed), "--resume", "--workers", "2",
                              "--no-progress"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    run_sweep(load_sweep(path), clean, executor="local", workers=2, progress=False)
    after = experiments.load(killed).counts()
    assert after["done"] == 50 and after["pending"] == 0
    assert_same_results(killed, clean)
    assert raw_summary_rows(killed) == 50, "no run is stored twice"
    # finished results did not change on resume
    pd.testing.assert_frame_equal(done_before, summary_of(killed)[summary_of(killed)["run_id"].isin(done_before["run_id"])].reset_index(drop=True))
    assert not list(killed.rglob("*.tmp")), "no temporary file left"
    prov = json.loads((killed / "provenance.json").read_text())
    assert len(prov["sessions"]) == 2


def test_second_sweep_in_same_directory_is_refused(tmp_path):
    path = sweep_file(tmp_path, extra='run_function = "experiments.testing:synthetic_run"')
    out = tmp_path / "out"
    store = Store(out)
    with store.sweep_lock():
        with pytest.raises(InputError, match="already running"):
            run_sweep(load_sweep(path), out, resume=True, executor="inprocess", progress=False)


def test_resume_with_a_changed_sweep_file_is_refused(tmp_path):
    path = sweep_file(tmp_path, extra='run_function = "experiments.testing:synthetic_run"')
    out = tmp_path / "out"
    run_sweep(load_sweep(path), out, executor="inprocess", progress=False)
    changed = sweep_file(tmp_path, replications=3, extra='run_function = "experiments.testing:synthetic_run"',
                         name="changed.toml")
    with pytest.raises(InputError, match="different sweep"):
        run_sweep(load_sweep(changed), out, resume=True, executor="inprocess", progress=False)


# ---------------------------------------------------------------- Dask
def test_dask_killed_worker_loses_nothing(tmp_path):
    from distributed import Client, LocalCluster

    path = sweep_file(tmp_path, replications=4, extra='run_function = "experiments.testing:slow_synthetic_run"\nchunk_size = 2')
    spec = load_sweep(path)
    out = tmp_path / "dask"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        pids = client.run(os.getpid)
        errors: list[BaseException] = []

        def go() -> None:
            try:
                run_sweep(spec, out, executor="dask", scheduler=cluster.scheduler_address, progress=False)
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        th = threading.Thread(target=go)
        th.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (
                (out / "summary").is_dir() and len(list((out / "summary").glob("part-*.parquet"))) >= 2):
            time.sleep(0.01)
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        assert th.is_alive() and len(list((out / "summary").glob("part-*.parquet"))) < 12, "killed midway"
        th.join(timeout=120)
        assert not th.is_alive() and not errors, errors
    counts = experiments.load(out).counts()
    assert counts["done"] == counts["total"] == 24
    assert raw_summary_rows(out) == 24
    ref = tmp_path / "ref"
    run_sweep(spec, ref, executor="inprocess", progress=False,
              run_callable=__import__("experiments.testing", fromlist=["synthetic_run"]).synthetic_run)
    pd.testing.assert_frame_equal(summary_of(out), summary_of(ref))


def test_dask_local_cluster_matches_local_processes(tmp_path):
    path = sweep_file(tmp_path, replications=1, matching=(0.0,))
    proc = subprocess.run([*CONSIM, "sweep", str(path), "--out", str(tmp_path / "dask"), "--executor", "dask",
                           "--workers", "2", "--no-progress"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    run_sweep(load_sweep(path), tmp_path / "local", executor="local", workers=2, progress=False)
    assert_same_results(tmp_path / "dask", tmp_path / "local")
    prov = json.loads((tmp_path / "dask" / "provenance.json").read_text())
    assert prov["sessions"][0]["executor"] == "dask"


# ---------------------------------------------------------------- Slurm job arrays
def test_shards_together_equal_one_sweep_and_sbatch_script(tmp_path):
    path = sweep_file(tmp_path, extra='run_function = "experiments.testing:synthetic_run"')
    out, whole = tmp_path / "sharded", tmp_path / "whole"
    script = tmp_path / "job.sh"
    proc = subprocess.run([*CONSIM, "sweep", str(path), "--out", str(out), "--write-sbatch", str(script),
                           "--shard", "3"], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 0, proc.stderr
    text = script.read_text()
    assert "#SBATCH --array=0-2" in text and '--shard "${SLURM_ARRAY_TASK_ID}/3"' in text
    assert str(out.resolve()) in text and os.access(script, os.X_OK)
    assert not out.exists(), "writing the script starts nothing"
    # run the array's tasks as Slurm would (here one after another, two of them at once)
    procs = [subprocess.Popen([*CONSIM, "sweep", str(path), "--out", str(out), "--shard", f"{i}/3", "--workers", "1",
                               "--no-progress"], cwd=ROOT, stderr=subprocess.PIPE, text=True) for i in (0, 1)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert experiments.load(out).counts()["pending"] == 4
    last = subprocess.run([*CONSIM, "sweep", str(path), "--out", str(out), "--shard", "2/3", "--workers", "1",
                           "--no-progress"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert last.returncode == 0, last.stderr
    run_sweep(load_sweep(path), whole, executor="inprocess", progress=False)
    assert_same_results(out, whole)
    runs = pd.read_parquet(out / "runs.parquet")
    assert (runs["status"] == "done").all()


def test_in_process_executor_interface():
    with make_executor("inprocess") as handle:
        assert handle.executor.submit(pow, 2, 5).result() == 32


def test_ctrl_c_stops_cleanly_and_resume_finishes(tmp_path):
    path = sweep_file(tmp_path, replications=8, extra="chunk_size = 2")
    out = tmp_path / "out"
    proc = subprocess.Popen([*CONSIM, "sweep", str(path), "--out", str(out), "--workers", "2", "--no-progress"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
            (out / "summary").is_dir() and len(list((out / "summary").glob("part-*.parquet"))) >= 2):
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    counts = experiments.load(out).counts()
    assert 0 < counts["done"] < counts["total"] == 48
    assert json.loads((out / "provenance.json").read_text())["sessions"][0]["interrupted"] is True
    run_sweep(load_sweep(path), out, resume=True, executor="local", workers=2, progress=False)
    assert experiments.load(out).complete and raw_summary_rows(out) == 48


def test_a_damaged_file_is_an_input_error_for_readers_and_resume_moves_it_aside(tmp_path):
    path = sweep_file(tmp_path, replications=1, extra='run_function = "experiments.testing:synthetic_run"')
    out = tmp_path / "out"
    run_sweep(load_sweep(path), out, executor="inprocess", progress=False, chunk_size=2)
    reference = summary_of(out)
    store = Store(out)
    assert store.damaged_batches() == [] and store.quarantine_unreadable() == []
    victim = sorted((out / "timeseries").glob("part-*.parquet"))[1]
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.raises(InputError, match=victim.name) as err:
        _ = experiments.load(out).timeseries
    assert "--resume" in str(err.value) and "damaged" in str(err.value)
    (batch, bad, _), = store.damaged_batches()
    assert bad == victim and store.damaged_batches(prefix="part-s0of2-") == []
    done_before = store.counts(store.run_table(exclude={batch}))["done"]
    assert done_before == len(reference) - 2  # the batch held two runs
    outcome = run_sweep(load_sweep(path), out, executor="inprocess", progress=False, resume=True)
    assert outcome.ran == 2 and outcome.done == len(reference)
    pd.testing.assert_frame_equal(summary_of(out), reference)
    assert sorted(p.name for p in (out / "damaged").iterdir()) == sorted(
        f"{d}-{batch}.parquet" for d in ("attempts", "summary", "timeseries"))
    assert Store(out).damaged_batches() == []
