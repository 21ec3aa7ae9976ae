"""Sweep files, designs and seeds: validation, sampling, common random numbers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from experiments.designs import design_points
from experiments.runner import plan
from experiments.seeds import design_seed, replication_seeds
from experiments.sweepfile import load_sweep, parse_sweep
from sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
CONSIM = [sys.executable, "-m", "sim.cli"]


def write(tmp_path: Path, text: str, name: str = "sweep.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


BASIC = """
base = "baseline"
seed = 7
replications = 3
years = 2
[vary]
"policy.subsidy.cost_share" = [0.0, 0.5]
"policy.governance.legal_status" = ["council", "registered_entity"]
"""


def test_basic_sweep_file(tmp_path):
    spec = load_sweep(write(tmp_path, BASIC))
    assert spec.name == "sweep" and spec.replications == 3 and spec.seed == 7
    assert spec.base.get("years") == 2 and spec.set == {"years": 2}
    assert spec.varied_keys == ["policy.subsidy.cost_share", "policy.governance.legal_status"]
    points, points_df, plan_df = plan(spec)
    assert len(points) == 4 and len(plan_df) == 12
    assert list(points_df.columns) == ["point_id", *spec.varied_keys]
    assert points[1] == {"policy.subsidy.cost_share": 0.0, "policy.governance.legal_status": "registered_entity"}


def test_common_random_numbers_and_seed_stability(tmp_path):
    spec = load_sweep(write(tmp_path, BASIC))
    _, _, plan_df = plan(spec)
    by_rep = plan_df.groupby("replication")["seed"].nunique()
    assert (by_rep == 1).all(), "replication r must use the same seed at every design point"
    seeds = plan_df.groupby("replication")["seed"].first().tolist()
    assert seeds == replication_seeds(7, 3)
    assert len(set(seeds)) == 3
    assert replication_seeds(7, 5)[:3] == seeds, "more replications must keep the earlier seeds"
    assert all(0 <= s < 2**63 for s in seeds)
    assert design_seed(7) >= 1 and design_seed(7) == design_seed(7)


@pytest.mark.parametrize("method,samples,extra,expected", [
    ("lhs", 10, "", 10),
    ("sobol", 8, "", 8 * (2 + 2)),
    ("sobol", 8, "second_order = true", 8 * (2 * 2 + 2)),
    ("morris", 5, "num_levels = 4", 5 * (2 + 1)),
    ("factorial", 0, "levels = 3", 9),
])
def test_sampled_designs(tmp_path, method, samples, extra, expected):
    text = f"""
base = "baseline"
seed = 11
[design]
method = "{method}"
samples = {samples}
{extra}
[design.ranges]
"policy.subsidy.cost_share" = [0.0, 1.0]
"population.smes" = [20, 60]
"""
    spec = load_sweep(write(tmp_path, text))
    pts = design_points(spec)
    assert len(pts) == expected
    assert pts == design_points(load_sweep(write(tmp_path, text, "again.toml"))), "same file, same points"
    shares = np.array([p["policy.subsidy.cost_share"] for p in pts])
    smes = [p["population.smes"] for p in pts]
    assert shares.min() >= 0.0 and shares.max() <= 1.0
    assert all(isinstance(s, int) and 20 <= s <= 60 for s in smes)


def test_lhs_is_latin(tmp_path):
    text = """
base = "baseline"
seed = 3
[design]
method = "lhs"
samples = 20
[design.ranges]
"policy.subsidy.cost_share" = [0.0, 1.0]
"policy.credential.mode" = ["none", "portable"]
"""
    pts = design_points(load_sweep(write(tmp_path, text)))
    strata = sorted(int(p["policy.subsidy.cost_share"] * 20) for p in pts)
    assert strata == list(range(20)), "one sample per stratum"
    assert {p["policy.credential.mode"] for p in pts} == {"none", "portable"}


def test_grid_crossed_with_design(tmp_path):
    text = BASIC.replace("replications = 3", "replications = 1") + """
[design]
method = "lhs"
samples = 3
[design.ranges]
"policy.platform.placement_matching" = [0.0, 1.0]
"""
    spec = load_sweep(write(tmp_path, text))
    assert len(design_points(spec)) == 4 * 3


@pytest.mark.parametrize("text,needle", [
    ('base = "baseline"\nseed = 1\nreplicatons = 3\n', ["'replicatons'", "replications"]),
    ('base = "baseline"\nseed = "x"\n', ["'seed'", "integer >= 0"]),
    ('base = "baseline"\n', ["'seed'", "missing"]),
    ('seed = 1\n', ["'base'", "missing"]),
    ('base = "baseline"\nseed = 1\nreplications = 0\n', ["'replications'", "from 1"]),
    ('base = "baseline"\nseed = 1\nkeep = ["nope"]\n', ["'keep'", "firm_participation_rate"]),
    ('base = "baseline"\nseed = 1\ntime_limit = -1\n', ["'time_limit'", "> 0"]),
    ('base = "baseline"\nseed = 1\n[set]\n"policy.subsidy.cost_shar" = 0.5\n', ["[set]", "policy.subsidy.cost_shar", "Did you mean"]),
    ('base = "baseline"\nseed = 1\n[set]\n"policy.subsidy.cost_share" = 2.0\n', ["[set]", "policy.subsidy.cost_share", "out of range"]),
    ('base = "baseline"\nseed = 1\n[vary]\n"policy.nope" = [1, 2]\n', ["[vary]", "policy.nope"]),
    ('base = "baseline"\nseed = 1\n[vary]\n"policy.subsidy.cost_share" = 0.5\n', ["[vary]", "non-empty list"]),
    ('base = "baseline"\nseed = 1\n[vary]\n"policy.subsidy.target" = ["all", "smes"]\n', ["[vary]", "policy.subsidy.target", "'sme'"]),
    ('base = "baseline"\nseed = 1\n[design]\nmethod = "halton"\nsamples = 4\n[design.ranges]\n"years" = [1, 5]\n',
     ["design.method", "lhs, sobol, morris, factorial"]),
    ('base = "baseline"\nseed = 1\n[design]\nmethod = "lhs"\nsamples = 4\n[design.ranges]\n"policy.bogus" = [0, 1]\n',
     ["[design.ranges]", "policy.bogus"]),
    ('base = "baseline"\nseed = 1\n[design]\nmethod = "lhs"\nsamples = 4\n[design.ranges]\n"policy.subsidy.cost_share" = [0, 3]\n',
     ["[design.ranges]", "policy.subsidy.cost_share"]),
    ('base = "baseline"\nseed = 1\n[design]\nmethod = "sobol"\nsamples = 6\n[design.ranges]\n"years" = [1, 5]\n',
     ["design.samples", "power of 2"]),
    ('base = "baseline"\nseed = 1\n[design]\nmethod = "lhs"\nsampels = 6\n', ["design.sampels", "method, samples"]),
    ('base = "no_such_preset"\nseed = 1\n', ["'base'", "no_such_preset"]),
    ('base = "baseline"\nseed = 1\n[set]\n"policy.subsidy.cost_share" = 0.1\n[vary]\n"policy.subsidy.cost_share" = [0.2]\n',
     ["policy.subsidy.cost_share", "fixed"]),
    ('base = "baseline"\nseed = 1\n[slurm]\nnodes = 3\n', ["slurm.nodes", "shards"]),
    ('base = "baseline"\nseed = 1\nthis is not toml\n', ["not valid TOML"]),
])
def test_bad_sweep_files_name_file_key_and_allowed(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_sweep(path)
    msg = str(err.value)
    assert str(path) in msg
    for n in needle:
        assert n in msg, msg


def test_cli_bad_sweep_file_exits_2_without_traceback(tmp_path):
    path = write(tmp_path, 'base = "baseline"\nseed = 1\n[vary]\n"policy.subsidy.cost_shar" = [0.1]\n')
    proc = subprocess.run([*CONSIM, "sweep", str(path), "--out", str(tmp_path / "out")], capture_output=True,
                          text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(path) in proc.stderr and "policy.subsidy.cost_shar" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_parse_sweep_from_dict():
    spec = parse_sweep({"base": "baseline", "seed": 2, "vary": {"policy": {"subsidy": {"cost_share": [0, 1]}}}})
    assert spec.vary == {"policy.subsidy.cost_share": [0.0, 1.0]}


def test_unimportable_run_function_is_an_input_error(tmp_path):
    from experiments.runner import run_sweep

    for text in ('run_function = "sim.no_such_module:run"\n',
                 'run_function = "no_such_module:run"\nallow_external_run_function = true\n'):
        spec = load_sweep(write(tmp_path, text + BASIC))
        with pytest.raises(InputError, match="run_function"):
            run_sweep(spec, tmp_path / "out", executor="inprocess", progress=False)
        assert not (tmp_path / "out").exists()


def test_status_of_a_directory_without_a_sweep_exits_2(tmp_path):
    proc = subprocess.run([*CONSIM, "status", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2 and "not a sweep result directory" in proc.stderr and "Traceback" not in proc.stderr


def test_progress_line_shows_done_failed_rate_and_time_left():
    import io

    from experiments.progress import Progress

    buf = io.StringIO()
    prog = Progress(200, done=50, stream=buf, label="levers")
    prog.t0 -= 10.0  # ten seconds in
    prog.update(70, 2, force=True)
    line = buf.getvalue()
    assert "72/200 runs" in line and "70 done, 2 failed" in line and "2.2 runs/s" in line and "left 00:58" in line


@pytest.mark.parametrize("ref", ["os:system", "subprocess:run", "simulation.run:run", "experimentsx:run",
                                 " os:system"])
def test_run_function_outside_sim_and_experiments_needs_an_opt_in(tmp_path, ref):
    path = write(tmp_path, f'run_function = "{ref}"\n' + BASIC)
    with pytest.raises(InputError, match="run_function") as err:
        load_sweep(path)
    assert "allow_external_run_function" in str(err.value) and str(path) in str(err.value)


def test_run_function_opt_in_is_explicit_and_recorded(tmp_path):
    from experiments.runner import sweep_doc

    spec = load_sweep(write(tmp_path, 'run_function = "json:dumps"\nallow_external_run_function = true\n' + BASIC))
    assert spec.run_function == "json:dumps" and spec.allow_external_run_function
    assert sweep_doc(spec, 4)["allow_external_run_function"] is True
    for value in ('"yes"', "1"):
        with pytest.raises(InputError, match="allow_external_run_function"):
            load_sweep(write(tmp_path, f"allow_external_run_function = {value}\n" + BASIC))
    trusted = load_sweep(write(tmp_path, 'run_function = "experiments.testing:synthetic_run"\n' + BASIC))
    assert not trusted.allow_external_run_function


def test_runner_refuses_an_untrusted_run_function_even_from_a_hand_built_spec(tmp_path):
    import dataclasses

    from experiments.runner import run_sweep

    spec = dataclasses.replace(load_sweep(write(tmp_path, BASIC)), run_function="os:system")
    with pytest.raises(InputError, match="run_function"):
        run_sweep(spec, tmp_path / "out", executor="inprocess", progress=False)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("design", "key"), [
    ('method = "lhs"\nsamples = 1000000000000\n[design.ranges]\n"policy.subsidy.cost_share" = [0.0, 1.0]',
     "design.samples"),
    ('method = "sobol"\nsamples = 1048576\n[design.ranges]\n"policy.subsidy.cost_share" = [0.0, 1.0]\n'
     '"labour_market.wage_compression" = [0.0, 0.5]', "design.samples"),
    ('method = "factorial"\nlevels = 100000\n[design.ranges]\n"policy.subsidy.cost_share" = [0.0, 1.0]\n'
     '"labour_market.wage_compression" = [0.0, 0.5]', "design.levels"),
])
def test_a_huge_design_fails_fast_naming_the_key(tmp_path, design, key):
    import time

    text = 'base = "baseline"\nseed = 1\nreplications = 3\n[design]\n' + design + "\n"
    t0 = time.perf_counter()
    with pytest.raises(InputError, match="at most 10,000,000 runs") as err:
        load_sweep(write(tmp_path, text))
    assert time.perf_counter() - t0 < 5
    assert f"'{key}'" in str(err.value) and "sweep.toml" in str(err.value)


def test_replications_times_grid_over_the_cap_names_replications(tmp_path):
    text = 'base = "baseline"\nseed = 1\nreplications = 1000000\n[vary]\n"policy.subsidy.cost_share" = ' \
           + str([i / 20 for i in range(20)]) + "\n"
    with pytest.raises(InputError, match="'replications'"):
        load_sweep(write(tmp_path, text))


def test_planned_points_match_the_designs(tmp_path):
    from experiments.sweepfile import planned_points

    for design in ('method = "lhs"\nsamples = 5', 'method = "sobol"\nsamples = 4', 'method = "morris"\nsamples = 3',
                   'method = "factorial"\nlevels = 3'):
        spec = load_sweep(write(tmp_path, BASIC + "[design]\n" + design + "\n[design.ranges]\n"
                                '"labour_market.wage_compression" = [0.0, 0.5]\n"population.smes" = [40, 60]\n'))
        assert planned_points(spec.vary, spec.design) == len(design_points(spec)), design


@pytest.mark.parametrize("target", ["/dev/zero", "fifo"])
def test_a_sweep_file_that_is_not_a_regular_file_is_refused(tmp_path, target):
    import os

    if target == "fifo":
        target = str(tmp_path / "pipe.toml")
        os.mkfifo(target)
    with pytest.raises(InputError, match="not a regular file"):
        load_sweep(target)
