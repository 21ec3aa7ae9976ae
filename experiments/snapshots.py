"""Network snapshots written by sweep workers: ``DIR/networks/<run_id>.json``.

Design note
-----------
The report (:mod:`analysis.report`) draws a network coloured by engagement
when the sweep directory holds a snapshot in the format
:mod:`analysis.network` defines and reads: networkx node-link JSON (links
under ``"links"``, so ``networkx.node_link_graph(doc, edges="links")`` reads
it back) with top-level ``run_id``, ``step``, ``point_id``, ``replication``
and ``seed``; per node ``id`` (the agent's unique id), ``kind`` (``school``,
``anchor`` or ``sme``), ``effort`` (schools, 0-1) or ``engagement``
(firms: ``none``, ``shallow`` or ``deep``, the model's 0 / 1 / 2) and
``sector`` (firms); per link ``source``, ``target``, ``kind``
(``partnership``, ``supply`` or ``competition``) and ``strength``
(partnership ties, 0-1). A firm-firm edge that is both a supply and a
competition edge is one link of kind ``supply`` with ``"competition": true``.
Floats are rounded to 3 decimals and the JSON is compact (about 80 kB for
the baseline city).

Workers (:func:`experiments.worker.run_chunk`) build one snapshot per design
point, from replication 0 only, from the finished model of a run that
succeeded (``res.model``; a run function without a model writes none), and
write them just before the chunk's batch is committed. Each file is written
atomically (:func:`experiments.store.atomic_write_bytes`: a temporary file
in ``DIR/networks`` renamed into place), so a killed worker leaves no half
file that reads as data; a restarted sweep removes stale temporary files
(:func:`clean_snapshot_temps`). A run that is redone (a chunk whose batch
was not committed, a resumed sweep) writes the same file again: the same
seed gives the same model. Snapshots are extra files: the run table,
summaries and time series do not depend on them. The sweep file's
``network_snapshots = false`` turns them off.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from experiments import store as store_mod

#: Folder of a sweep directory that holds the snapshots.
NETWORKS_DIR = "networks"
#: The model's engagement levels 0 / 1 / 2 as the snapshot format names them.
ENGAGEMENT_NAMES = ("none", "shallow", "deep")
#: Decimals kept for strengths and efforts.
DECIMALS = 3
_TEMP = re.compile(r"^\.(\d+)\.json\..*\.tmp$")


def snapshot_path(store_dir: str | Path, run_id: int) -> Path:
    """Where the snapshot of run ``run_id`` lives: ``DIR/networks/<run_id>.json``."""
    return Path(store_dir) / NETWORKS_DIR / f"{int(run_id)}.json"


def wanted(replication: int) -> bool:
    """Whether a run of replication ``replication`` gets a snapshot (replication 0 only)."""
    return int(replication) == 0


def build_snapshot(model: Any, *, run_id: int, point_id: int | None = None, replication: int | None = None,
                   seed: int | None = None) -> dict[str, Any]:
    """The node-link snapshot of a finished :class:`sim.model.ConsortiumModel` (see the module note)."""
    fs, ss = model.firm_state, model.school_state
    sectors = list(model.p["population.sectors"])
    school_nodes = [int(x) for x in np.asarray(model.school_nodes).tolist()]
    firm_nodes = [int(x) for x in np.asarray(model.firm_nodes).tolist()]
    effort = np.asarray(ss.effort, dtype=float)
    engagement = np.asarray(fs.engagement).astype(int)
    is_anchor = np.asarray(fs.is_anchor, dtype=bool)
    sector = np.asarray(fs.sector).astype(int)
    if len(effort) != len(school_nodes) or not len(engagement) == len(is_anchor) == len(sector) == len(firm_nodes):
        raise ValueError("the model's node arrays and agent states differ in length")
    nodes: list[dict[str, Any]] = [{"id": n, "kind": "school", "effort": round(float(e), DECIMALS)}
                                   for n, e in zip(school_nodes, effort.tolist(), strict=True)]
    for n, eng, anchor, sec in zip(firm_nodes, engagement.tolist(), is_anchor.tolist(), sector.tolist(), strict=True):
        if not 0 <= eng < len(ENGAGEMENT_NAMES):
            raise ValueError(f"firm {n}: engagement {eng} is not 0, 1 or 2")
        nodes.append({"id": n, "kind": "anchor" if anchor else "sme", "engagement": ENGAGEMENT_NAMES[eng],
                      "sector": sectors[sec] if 0 <= sec < len(sectors) else str(sec)})
    links: list[dict[str, Any]] = []
    for u, v, d in model.G.edges(data=True):
        link: dict[str, Any] = {"source": int(u), "target": int(v)}
        if d.get("supply"):
            link["kind"] = "supply"
            if d.get("competition"):
                link["competition"] = True
        elif d.get("competition"):
            link["kind"] = "competition"
        else:
            link["kind"] = "partnership"
            link["strength"] = round(float(d.get("partnership", 0.0)), DECIMALS)
        links.append(link)
    doc: dict[str, Any] = {"directed": False, "multigraph": False, "graph": {}, "run_id": int(run_id),
                           "step": int(getattr(model, "steps", 0))}
    for key, value in (("point_id", point_id), ("replication", replication), ("seed", seed)):
        if value is not None:
            doc[key] = int(value)
    doc["nodes"] = nodes
    doc["links"] = links
    return doc


def encode(doc: dict[str, Any]) -> bytes:
    """A snapshot as compact UTF-8 JSON bytes."""
    return (json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def write_snapshot(store_dir: str | Path, run_id: int, data: bytes) -> Path:
    """Write encoded snapshot ``data`` of run ``run_id`` atomically; returns its path."""
    path = snapshot_path(store_dir, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    store_mod.atomic_write_bytes(path, data)  # positional: fault-injection wrappers take (path, data)
    return path


def clean_snapshot_temps(store_dir: str | Path, shard: tuple[int, int] | None = None) -> list[Path]:
    """Delete temporary snapshot files a killed worker left (of this shard's runs only, for a shard).

    Call only while holding the lock that owns those runs.
    """
    folder = Path(store_dir) / NETWORKS_DIR
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        m = _TEMP.match(p.name)
        if m is None or (shard is not None and int(m.group(1)) % shard[1] != shard[0]):
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed


__all__ = ["ENGAGEMENT_NAMES", "NETWORKS_DIR", "build_snapshot", "clean_snapshot_temps", "encode",
           "snapshot_path", "wanted", "write_snapshot"]
