"""Network snapshots: the file format the report reads, and a deterministic layout.

Design note
-----------
Sweep workers write one snapshot per design point (replication 0) unless the
sweep file sets ``network_snapshots = false``. The report draws one when the result
directory has ``DIR/networks/<run_id>.json``: networkx's node-link JSON
(``networkx.node_link_data(G, edges="links")``) with, per node, ``id``,
``kind`` (``school``, ``anchor`` or ``sme``), ``engagement`` (``none``,
``shallow`` or ``deep``; firms), ``effort`` (0-1; schools) and optionally
``sector``; per link, ``source``, ``target``, ``kind`` (``partnership``,
``supply`` or ``competition``) and ``strength`` (partnership ties, 0-1).
Top-level ``run_id`` and ``step`` say which run and month it shows.

The layout is deterministic (never an unseeded spring layout): schools on an
inner ring, anchor firms on a middle ring, SMEs on the outer ring grouped by
the anchor they supply (else by sector), positions spread by the golden
angle.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

ENGAGEMENT_COLOURS = {"none": "#b8b8b8", "shallow": "#f0a030", "deep": "#1a8f4a"}
GOLDEN = (math.sqrt(5) - 1) / 2


def snapshot_paths(directory: str | Path) -> list[Path]:
    """Snapshot files in ``DIR/networks`` sorted by run id."""
    d = Path(directory) / "networks"
    if not d.is_dir():
        return []

    def run_key(p: Path) -> tuple[int, str]:
        return (int(p.stem), p.stem) if p.stem.isdigit() else (1 << 62, p.stem)

    return sorted(d.glob("*.json"), key=run_key)


def read_snapshot(path: str | Path) -> dict[str, Any]:
    """Read and check one snapshot; raises ``ValueError`` on a malformed file."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable JSON network snapshot ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("nodes"), list):
        raise ValueError(f"{path}: expected node-link JSON with a 'nodes' list")
    for n in doc["nodes"]:
        if not isinstance(n, dict) or "id" not in n or n.get("kind") not in ("school", "anchor", "sme"):
            raise ValueError(f"{path}: every node needs 'id' and 'kind' (school, anchor or sme)")
    doc.setdefault("links", doc.get("edges", []))
    return doc


def layout(snapshot: dict[str, Any]) -> dict[Any, tuple[float, float]]:
    """Positions of every node: schools inside, anchors on a ring, SMEs outside by anchor or sector."""
    nodes = snapshot["nodes"]
    schools = [n["id"] for n in nodes if n["kind"] == "school"]
    anchors = [n["id"] for n in nodes if n["kind"] == "anchor"]
    smes = [n for n in nodes if n["kind"] == "sme"]
    pos: dict[Any, tuple[float, float]] = {}
    for i, s in enumerate(schools):
        a = math.pi / 2 + 2 * math.pi * i / max(len(schools), 1)
        pos[s] = (0.3 * math.cos(a), 0.3 * math.sin(a))
    angle = {}
    for i, a_id in enumerate(anchors):
        a = math.pi / 2 + 2 * math.pi * i / max(len(anchors), 1)
        angle[a_id] = a
        pos[a_id] = (0.65 * math.cos(a), 0.65 * math.sin(a))
    supplier = {}
    anchor_set = set(anchors)
    for e in snapshot.get("links", []):
        if e.get("kind") == "supply":
            if e["target"] in anchor_set:
                supplier[e["source"]] = e["target"]
            elif e["source"] in anchor_set:
                supplier[e["target"]] = e["source"]
    groups: dict[Any, list[Any]] = {}
    loose = []
    for n in smes:
        host = supplier.get(n["id"])
        if host is not None:
            groups.setdefault(host, []).append(n["id"])
        else:
            loose.append(n)
    wedge = 2 * math.pi / max(len(anchors), 1)
    for host, members in groups.items():
        for j, s in enumerate(members):
            a = angle[host] + 0.8 * wedge * ((j * GOLDEN) % 1.0 - 0.5)
            r = 0.95 + 0.35 * (j + 0.5) / max(len(members), 1)
            pos[s] = (r * math.cos(a), r * math.sin(a))
    loose.sort(key=lambda n: (str(n.get("sector", "")), str(n["id"])))
    for j, n in enumerate(loose):
        a = 2 * math.pi * j / max(len(loose), 1)
        pos[n["id"]] = (1.45 * math.cos(a), 1.45 * math.sin(a))
    return pos
