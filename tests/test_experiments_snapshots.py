"""Network snapshots written by sweep workers (``DIR/networks/<run_id>.json``).

A tiny real sweep (2 design points x 2 replications, one year, a small city)
must leave exactly one snapshot per design point (replication 0), each in
the format :mod:`analysis.network` reads, equal to the snapshot of the same
run made directly, and ``consim report`` must then draw the network figure,
which it skips for the same sweep run with ``network_snapshots = false``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import pytest

import sim
from analysis.network import read_snapshot, snapshot_paths
from experiments import snapshots
from experiments.runner import plan
from experiments.store import Store
from experiments.sweepfile import load_sweep
from sim.cli import main as consim_main
from sim.errors import InputError

SWEEP = """
base = "baseline"
seed = 11
replications = 2
years = 1
warmup_years = 1
keep = ["firm_participation_rate"]
{extra}
[set]
"population.smes" = 40
"population.anchor_firms" = 3
"population.schools.secondary" = 2
"population.schools.higher" = 1
"population.schools.undergraduate" = 1

[vary]
"policy.subsidy.cost_share" = [0.0, 0.5]
"""
N_NODES = 2 + 1 + 1 + 3 + 40
CAPTION = "<figcaption>Network snapshot coloured by engagement</figcaption>"


def write_sweep(folder: Path, extra: str = "") -> Path:
    path = folder / "sweep.toml"
    path.write_text(SWEEP.format(extra=extra), encoding="utf-8")
    return path


def consim(capsys, *argv: str) -> tuple[int, str, str]:
    """Run ``consim`` in this process; return (exit status, stdout, stderr)."""
    capsys.readouterr()
    rc = consim_main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def sweep(capsys, path: Path, out: Path, *more: str) -> None:
    rc, _, err = consim(capsys, "sweep", str(path), "--out", str(out), "--executor", "inprocess", "--no-progress",
                        *more)
    assert rc == 0, err


def report_html(capsys, out: Path) -> str:
    rc, _, err = consim(capsys, "report", str(out))
    assert rc == 0, err
    return (out / "report.en.html").read_text(encoding="utf-8")


def test_one_snapshot_per_point_in_the_report_format(tmp_path, capsys):
    path = write_sweep(tmp_path)
    out = tmp_path / "with"
    sweep(capsys, path, out)

    files = snapshot_paths(out)
    assert [p.name for p in files] == ["0.json", "2.json"], "replication 0 of each of the 2 points"
    assert not list(out.rglob("*.tmp"))
    assert json.loads((out / "sweep.json").read_text())["network_snapshots"] is True
    for p, point in zip(files, (0, 1), strict=True):
        snap = read_snapshot(p)
        assert (snap["run_id"], snap["point_id"], snap["replication"]) == (int(p.stem), point, 0)
        kinds = [n["kind"] for n in snap["nodes"]]
        assert (kinds.count("school"), kinds.count("anchor"), kinds.count("sme")) == (4, 3, 40)
        firms = [n for n in snap["nodes"] if n["kind"] != "school"]
        assert {n["engagement"] for n in firms} <= set(snapshots.ENGAGEMENT_NAMES)  # the model's 0 / 1 / 2
        assert all(0 <= n["effort"] <= 1 for n in snap["nodes"] if n["kind"] == "school")
        link_kinds = {e["kind"] for e in snap["links"]}
        assert link_kinds <= {"partnership", "supply", "competition"} and "partnership" in link_kinds
        assert all(0 <= e["strength"] <= 1 for e in snap["links"] if e["kind"] == "partnership")
        g = nx.node_link_graph(snap, edges="links")  # networkx reads it back
        assert g.number_of_nodes() == N_NODES and g.number_of_edges() == len(snap["links"])

    # the snapshot is the finished model of that run: equal to one made from a direct run
    spec = load_sweep(path)
    points, _, plan_df = plan(spec)
    row = plan_df.loc[plan_df["run_id"] == 2].iloc[0]
    res = sim.run(spec.base.with_overrides(points[int(row.point_id)]), int(row.seed))
    direct = snapshots.build_snapshot(res.model, run_id=2, point_id=1, replication=0, seed=int(row.seed))
    assert json.loads(files[1].read_text()) == json.loads(snapshots.encode(direct))
    assert any(n["engagement"] != "none" for n in direct["nodes"] if n["kind"] != "school")

    # the report draws the network figure; without snapshots it skips it with a note
    (tmp_path / "off").mkdir()
    off = tmp_path / "without"
    sweep(capsys, write_sweep(tmp_path / "off", "network_snapshots = false\n"), off)
    assert not (off / "networks").exists()
    assert json.loads((off / "sweep.json").read_text())["network_snapshots"] is False
    with_html, without_html = report_html(capsys, out), report_html(capsys, off)
    assert CAPTION in with_html and CAPTION not in without_html
    assert "No network snapshot" in without_html and "No network snapshot" not in with_html
    imgs = re.compile(r"<img ")
    assert len(imgs.findall(with_html)) == len(imgs.findall(without_html)) + 1

    # resume removes a temporary file a killed worker left and rewrites nothing
    stale = out / "networks" / ".0.json.k1ll3d.tmp"
    stale.write_text('{"nodes": [', encoding="utf-8")
    before = {p.name: p.read_bytes() for p in files}
    sweep(capsys, path, out, "--resume")
    assert not stale.exists()
    assert {p.name: p.read_bytes() for p in snapshot_paths(out)} == before


def test_run_function_without_a_model_writes_no_snapshot(tmp_path, capsys):
    path = write_sweep(tmp_path, 'run_function = "experiments.testing:synthetic_run"\n')
    out = tmp_path / "out"
    sweep(capsys, path, out)
    assert Store(out).counts()["done"] == 4
    assert not (out / "networks").exists()


def test_network_snapshots_must_be_a_boolean(tmp_path):
    path = write_sweep(tmp_path, 'network_snapshots = "yes"\n')
    with pytest.raises(InputError, match=r"network_snapshots.*true or false") as err:
        load_sweep(path)
    assert str(path) in str(err.value)


def test_clean_snapshot_temps_of_a_shard_leaves_other_shards_files(tmp_path):
    folder = tmp_path / snapshots.NETWORKS_DIR
    folder.mkdir()
    names = [".0.json.a.tmp", ".1.json.b.tmp", "0.json", "1.json", ".2.json.c.tmp"]
    for n in names:
        (folder / n).write_text("{}", encoding="utf-8")
    removed = snapshots.clean_snapshot_temps(tmp_path, shard=(0, 2))
    assert sorted(p.name for p in removed) == [".0.json.a.tmp", ".2.json.c.tmp"]
    assert sorted(p.name for p in folder.iterdir()) == [".1.json.b.tmp", "0.json", "1.json"]
