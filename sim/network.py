"""The consortium's network: partnership ties, the supply chain and competition.

Design note
-----------
One undirected :class:`networkx.Graph` whose nodes are the unique ids of the
schools and firms; it is wrapped in a :class:`mesa.discrete_space.Network`
(built with ``layout=None``: no unseeded spring layout). Edge attributes:

* ``partnership`` (float, 0-1): school-firm tie strength, grows with activity
  and decays without it; ties below :data:`DISSOLVE_BELOW` dissolve.
* ``supply`` (bool): SME supplies an anchor (anchor-centred supply chain).
* ``competition`` (bool): same-sector firms within commuting distance.

Every random draw uses the model's generator (networkx generators get a seed
drawn from it). The firm-firm ties are fixed for a run; their sparse adjacency
matrices serve vectorised neighbour queries. Partnership ties change yearly and
are kept as arrays (:class:`Ties`) and mirrored into the graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy import sparse

DISSOLVE_BELOW = 0.05
NEW_TIE_STRENGTH = 0.25


@dataclass
class Ties:
    """School-firm partnership ties as arrays."""

    school: np.ndarray
    firm: np.ndarray
    strength: np.ndarray
    active: np.ndarray  # activity (placements or projects) since last September

    def __len__(self) -> int:
        return int(self.school.size)

    def add(self, school: np.ndarray, firm: np.ndarray, strength: float) -> np.ndarray:
        """Add ties not already present; returns the indices of the new ones."""
        if len(school) == 0:
            return np.zeros(0, dtype=np.int64)
        key_new = school.astype(np.int64) * 10_000_000 + firm
        key_old = self.school.astype(np.int64) * 10_000_000 + self.firm
        _, first = np.unique(key_new, return_index=True)
        keep = np.zeros(len(key_new), bool)
        keep[first] = True
        keep &= ~np.isin(key_new, key_old)
        start = len(self)
        self.school = np.concatenate([self.school, school[keep]])
        self.firm = np.concatenate([self.firm, firm[keep]])
        self.strength = np.concatenate([self.strength, np.full(int(keep.sum()), strength)])
        self.active = np.concatenate([self.active, np.zeros(int(keep.sum()), bool)])
        return np.arange(start, len(self))

    def keep(self, mask: np.ndarray) -> None:
        """Keep only ``mask``-selected ties."""
        self.school, self.firm = self.school[mask], self.firm[mask]
        self.strength, self.active = self.strength[mask], self.active[mask]


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def supply_chain(rng: np.random.Generator, is_anchor: np.ndarray, sector: np.ndarray,
                 employees: np.ndarray, share: float) -> np.ndarray:
    """Anchor each SME supplies (index) or -1: same sector with probability 0.7, weighted by anchor size."""
    anchors = np.flatnonzero(is_anchor)
    out = np.full(is_anchor.size, -1, dtype=np.int64)
    if anchors.size == 0:
        return out
    smes = np.flatnonzero(~is_anchor)
    supplies = smes[rng.random(smes.size) < share]
    w_all = employees[anchors] / employees[anchors].sum()
    for f in supplies:
        same = anchors[sector[anchors] == sector[f]]
        if same.size and rng.random() < 0.7:
            w = employees[same] / employees[same].sum()
            out[f] = rng.choice(same, p=w)
        else:
            out[f] = rng.choice(anchors, p=w_all)
    return out


def competition_edges(rng: np.random.Generator, sector: np.ndarray, mean_degree: float) -> np.ndarray:
    """Same-sector competition ties: an Erdos-Renyi graph within each sector with the given mean degree."""
    edges = []
    for k in np.unique(sector):
        members = np.flatnonzero(sector == k)
        m = members.size
        if m < 2 or mean_degree <= 0:
            continue
        prob = min(1.0, mean_degree / (m - 1))
        g = nx.fast_gnp_random_graph(m, prob, seed=_seed(rng))
        e = np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
        if e.size:
            edges.append(members[e])
    return np.concatenate(edges) if edges else np.zeros((0, 2), dtype=np.int64)


def adjacency(n: int, edges: np.ndarray) -> sparse.csr_matrix:
    """Symmetric 0/1 sparse adjacency among ``n`` firms."""
    if len(edges) == 0:
        return sparse.csr_matrix((n, n))
    r = np.concatenate([edges[:, 0], edges[:, 1]])
    c = np.concatenate([edges[:, 1], edges[:, 0]])
    a = sparse.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
    a.data[:] = 1.0
    return a


def initial_ties(rng: np.random.Generator, shares: np.ndarray, is_anchor: np.ndarray,
                 sector: np.ndarray, smes_per_programme: int = 2) -> Ties:
    """Each school's programmes start tied to their sector's anchors (p = 0.8) and a few SMEs."""
    schools, firms, strengths = [], [], []
    n_s, n_k = shares.shape
    for s in range(n_s):
        for k in range(n_k):
            if shares[s, k] < 0.12:
                continue
            anchors = np.flatnonzero(is_anchor & (sector == k))
            for a in anchors[rng.random(anchors.size) < 0.8]:
                schools.append(s)
                firms.append(a)
                strengths.append(0.5)
            smes = np.flatnonzero(~is_anchor & (sector == k))
            if smes.size:
                pick = rng.choice(smes, size=min(smes_per_programme, smes.size), replace=False)
                schools.extend([s] * pick.size)
                firms.extend(pick.tolist())
                strengths.extend([0.3] * pick.size)
    ties = Ties(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    idx = ties.add(np.array(schools, dtype=np.int64), np.array(firms, dtype=np.int64), 0.0)
    strength_of = {(s, f): st for s, f, st in zip(schools, firms, strengths, strict=True)}
    ties.strength[idx] = [strength_of[(int(s), int(f))] for s, f in zip(ties.school[idx], ties.firm[idx], strict=True)]
    return ties


def build_graph(school_nodes: np.ndarray, firm_nodes: np.ndarray, ties: Ties,
                supplier_of: np.ndarray, comp_edges: np.ndarray) -> nx.Graph:
    """The networkx graph over agent ids with partnership, supply and competition attributes."""
    g = nx.Graph()
    g.add_nodes_from(int(n) for n in school_nodes)
    g.add_nodes_from(int(n) for n in firm_nodes)
    for s, f, st in zip(ties.school, ties.firm, ties.strength, strict=True):
        g.add_edge(int(school_nodes[s]), int(firm_nodes[f]), partnership=float(st), supply=False, competition=False)
    for f in np.flatnonzero(supplier_of >= 0):
        u, v = int(firm_nodes[f]), int(firm_nodes[supplier_of[f]])
        g.add_edge(u, v, partnership=0.0, supply=True, competition=False)
    for a, b in comp_edges:
        u, v = int(firm_nodes[a]), int(firm_nodes[b])
        if g.has_edge(u, v):
            g.edges[u, v]["competition"] = True
        else:
            g.add_edge(u, v, partnership=0.0, supply=False, competition=True)
    return g
