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
are kept as arrays (:class:`Ties`, looked up by sorted key, never by scanning
pairs). The graph and the Mesa network are views for people: the model builds
them from the arrays on first access (``model.G``, ``model.network`` or an
agent's ``cell``) and mirrors every later change into them, so a batch run
that never looks at them does not pay for them (at 100x the partnership graph
has some 800,000 edges).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from mesa.discrete_space.cell_agent import FixedCell
from scipy import sparse

from sim.kernels import placement as kp
from sim.sorting import argsort_stable

DISSOLVE_BELOW = 0.05
NEW_TIE_STRENGTH = 0.25
#: Anchors a school programme starts tied to, at most on average: each of its sector's A anchors with
#: chance 0.8 x min(1, ANCHOR_TIES_MAX / A) (assumption: a programme works with a handful of chain
#: leaders whatever the city's size; the presets have at most 2 anchors a sector, where it never binds)
ANCHOR_TIES_MAX = 4


#: Multiplier that packs a (school, firm) pair into one int64 key (firm indices < 2**32).
_KEY = np.int64(1) << np.int64(32)


def tie_key(school: np.ndarray, firm: np.ndarray) -> np.ndarray:
    """One int64 key per (school, firm) pair."""
    return np.asarray(school, dtype=np.int64) * _KEY + np.asarray(firm, dtype=np.int64)


@dataclass
class Ties:
    """School-firm partnership ties as arrays."""

    school: np.ndarray
    firm: np.ndarray
    strength: np.ndarray
    active: np.ndarray  # activity (placements or projects) since last September
    #: sorted keys, the tie index of each, and the school and firm arrays they index (rebuilt if those are replaced)
    _sorted: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return int(self.school.size)

    def _lookup(self) -> tuple[np.ndarray, np.ndarray]:
        """The ties' keys sorted, and the tie index of each (built on first use after a change)."""
        cached = self._sorted
        if cached is None or cached[2] is not self.school or cached[3] is not self.firm:
            key = tie_key(self.school, self.firm)
            order = argsort_stable(key)
            cached = self._sorted = (key[order], order, self.school, self.firm)
        return cached[0], cached[1]

    def find(self, school: np.ndarray, firm: np.ndarray) -> np.ndarray:
        """Index of the tie of each (school, firm) pair, -1 where there is none (a sorted-key lookup, no scan)."""
        school, firm = np.broadcast_arrays(np.asarray(school, dtype=np.int64), np.asarray(firm, dtype=np.int64))
        if len(self) == 0 or school.size == 0:
            return np.full(school.size, -1, dtype=np.int64)
        skey, order = self._lookup()
        return kp.find_sorted(skey, order, school.ravel(), firm.ravel())

    def mark_active(self, school: np.ndarray, firm: np.ndarray, last_active: np.ndarray, step: int) -> None:
        """Set ``active`` and ``last_active[tie] = step`` for the ties of the given int64 (school, firm) pairs."""
        if len(self) and school.size:
            skey, order = self._lookup()
            kp.mark_active(skey, order, school, firm, self.active, last_active, step)

    def add(self, school: np.ndarray, firm: np.ndarray, strength: float) -> np.ndarray:
        """Add ties not already present; returns the indices of the new ones."""
        if len(school) == 0:
            return np.zeros(0, dtype=np.int64)
        skey, order = self._lookup()
        start = len(self)
        self.school, self.firm, self.strength, self.active, skey, order = kp.add_ties(
            skey, order, self.school, self.firm, np.asarray(self.strength, dtype=np.float64), self.active,
            np.ascontiguousarray(school, dtype=np.int64), np.ascontiguousarray(firm, dtype=np.int64), float(strength))
        self._sorted = (skey, order, self.school, self.firm)
        return np.arange(start, len(self))

    def keep(self, mask: np.ndarray) -> None:
        """Keep only ``mask``-selected ties."""
        self.school, self.firm = self.school[mask], self.firm[mask]
        self.strength, self.active = self.strength[mask], self.active[mask]
        self._sorted = None


class OnNetwork:
    """Mixin for a model's fixed agents: ``cell`` is the agent's cell on ``model.network``.

    The network is built on first access (of ``model.network`` or of any such
    agent's ``cell``), so runs that never look at it do not pay for it.
    """

    @property
    def node(self) -> int:
        """Node id in the network (the agent's unique_id)."""
        return self.unique_id

    @property
    def cell(self):
        """The agent's cell on the model's network (building the network if needed)."""
        if self._mesa_cell is None:
            _ = self.model.network
        return self._mesa_cell

    @cell.setter
    def cell(self, cell) -> None:
        FixedCell.cell.fset(self, cell)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def _choice_cdf(weights: np.ndarray) -> np.ndarray:
    """The cumulative distribution ``Generator.choice(a, p=weights / weights.sum())`` draws from.

    ``choice`` with ``p`` takes one uniform ``u`` and returns
    ``a[cdf.searchsorted(u, side="right")]``: computing the same ``cdf`` once
    and drawing the uniforms in one call gives the same picks and leaves the
    generator in the same state, without re-scanning the population per draw.
    """
    p = weights / weights.sum()
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf


def supply_chain(rng: np.random.Generator, is_anchor: np.ndarray, sector: np.ndarray,
                 employees: np.ndarray, share: float) -> np.ndarray:
    """Anchor each SME supplies (index) or -1: same sector with probability 0.7, weighted by anchor size.

    Per supplier the draws are: a uniform for "same sector?" (only when its
    sector has anchors), then one uniform for the weighted pick; they are
    taken in one call, in that order, and the picks are binary searches.
    """
    anchors = np.flatnonzero(is_anchor)
    out = np.full(is_anchor.size, -1, dtype=np.int64)
    if anchors.size == 0:
        return out
    smes = np.flatnonzero(~is_anchor)
    supplies = smes[rng.random(smes.size) < share]
    if supplies.size == 0:
        return out
    n_k = int(max(sector.max(), 0)) + 1
    has_same = np.bincount(sector[anchors], minlength=n_k)[sector[supplies]] > 0
    n_draws = 1 + has_same.astype(np.int64)
    u = rng.random(int(n_draws.sum()))
    pos = np.cumsum(n_draws) - n_draws  # first draw of each supplier
    pick_u = u[pos + n_draws - 1]
    use_same = np.zeros(supplies.size, dtype=bool)
    use_same[has_same] = u[pos[has_same]] < 0.7
    cdf_all = _choice_cdf(employees[anchors])
    out[supplies[~use_same]] = anchors[cdf_all.searchsorted(pick_u[~use_same], side="right")]
    for k in np.unique(sector[supplies[use_same]]):
        same = anchors[sector[anchors] == k]
        sel = use_same & (sector[supplies] == k)
        out[supplies[sel]] = same[_choice_cdf(employees[same]).searchsorted(pick_u[sel], side="right")]
    return out


def _gnp_edges(n: int, p: float, seed: int, first_draws: int | None = None) -> np.ndarray:
    """Edges of ``networkx.fast_gnp_random_graph(n, p, seed=seed)``, in the order its ``edges()`` lists them.

    The same geometric skipping with the same ``random.Random(seed)`` draws,
    without building a networkx graph: each edge ``(w, v)``, ``w < v``, is
    listed by its lower end, and for one lower end in increasing ``v``.
    networkx walks the pairs ``w < v`` in the order of ``L = v (v - 1) / 2 + w``
    and skips ``int(log(1 - r) / log(1 - p))`` of them after each edge, so the
    ``i``-th draw lands on ``L_i = cumsum(1 + skip) - 1`` and the edges are the
    draws with ``L_i`` below ``n (n - 1) / 2``. The draws and their
    ``math.log`` are taken in Python (``first_draws``, by default a few more
    than expected; twice as many while they run out: the generator is this
    call's own), the rest in numpy.
    """
    if p >= 1.0:
        g = nx.fast_gnp_random_graph(n, p, seed=seed)
        return np.array(g.edges(), dtype=np.int64).reshape(-1, 2)
    pairs = n * (n - 1) // 2
    if pairs == 0:
        return np.zeros((0, 2), dtype=np.int64)
    draw, log = random.Random(seed).random, math.log
    lp = log(1.0 - p)
    expected = p * pairs
    size = int(expected + 4.0 * math.sqrt(expected) + 16) if first_draws is None else max(int(first_draws), 1)
    log_r: list[float] = []
    while True:
        log_r.extend([log(1.0 - draw()) for _ in range(size - len(log_r))])
        # a skip past every pair ends the walk as a longer one does: cap it so the sums stay exact
        skip = np.minimum(np.array(log_r) / lp, float(pairs))
        pos = np.cumsum(1 + np.trunc(skip).astype(np.int64)) - 1
        if pos[-1] >= pairs:
            break
        size *= 2
    pos = pos[:int(np.searchsorted(pos, pairs))]
    v = np.floor((1.0 + np.sqrt(1.0 + 8.0 * pos)) / 2.0).astype(np.int64)
    v -= v * (v - 1) // 2 > pos  # correct the float square root by one where it erred
    v += (v + 1) * v // 2 <= pos
    w = pos - v * (v - 1) // 2
    order = np.argsort(w, kind="stable")
    return np.column_stack([w[order], v[order]]).reshape(-1, 2)


def competition_edges(rng: np.random.Generator, sector: np.ndarray, mean_degree: float) -> np.ndarray:
    """Same-sector competition ties: an Erdos-Renyi graph within each sector with the given mean degree."""
    edges = []
    for k in np.unique(sector):
        members = np.flatnonzero(sector == k)
        m = members.size
        if m < 2 or mean_degree <= 0:
            continue
        prob = min(1.0, mean_degree / (m - 1))
        seed = _seed(rng)
        if prob < 1e-12:  # no edge expected; the G(n, p) skip formula would divide by log(1 - p) = 0
            continue
        e = _gnp_edges(m, prob, seed)
        if e.size:
            edges.append(members[e])
    return np.concatenate(edges) if edges else np.zeros((0, 2), dtype=np.int64)


def adjacency(n: int, edges: np.ndarray) -> sparse.csr_matrix:
    """Symmetric 0/1 sparse adjacency among ``n`` firms.

    Built in CSR form directly (sorted columns, duplicates merged): the matrix
    scipy makes from ``(ones, (rows, cols))``, with the same index dtype.
    """
    if len(edges) == 0:
        return sparse.csr_matrix((n, n))
    edges = np.asarray(edges, dtype=np.int64)
    key = np.concatenate([edges[:, 0] * n + edges[:, 1], edges[:, 1] * n + edges[:, 0]])  # row-major cell
    key.sort()
    first = np.empty(key.size, dtype=bool)
    first[0] = True
    np.not_equal(key[1:], key[:-1], out=first[1:])
    key = key[first]
    idx = np.int32 if max(n, 2 * len(edges)) <= np.iinfo(np.int32).max else np.int64
    indptr = np.searchsorted(key, np.arange(n + 1, dtype=np.int64) * n).astype(idx)
    return sparse.csr_matrix((np.ones(key.size), (key % n).astype(idx), indptr), shape=(n, n))


def initial_ties(rng: np.random.Generator, shares: np.ndarray, is_anchor: np.ndarray,
                 sector: np.ndarray, smes_per_programme: int = 2) -> Ties:
    """Each school's programmes start tied to their sector's anchors (p = 0.8, at most ``ANCHOR_TIES_MAX`` expected) and a few SMEs.

    Without the cap, the initial ties would grow with schools x anchors (quadratic in the city's size).
    """
    n_s, n_k = shares.shape
    anchors_of = [np.flatnonzero(is_anchor & (sector == k)) for k in range(n_k)]
    smes_of = [np.flatnonzero(~is_anchor & (sector == k)) for k in range(n_k)]
    offered = (~(shares < 0.12)).tolist()  # programmes a school teaches
    anchor_chance = [0.8 * min(1.0, ANCHOR_TIES_MAX / max(a.size, 1)) for a in anchors_of]
    firms, counts = [], []
    for s in range(n_s):
        for k in range(n_k):
            if not offered[s][k]:
                continue
            anchors = anchors_of[k]
            picked = anchors[rng.random(anchors.size) < anchor_chance[k]]
            firms.append(picked)
            n_picked = picked.size
            smes = smes_of[k]
            if smes.size:
                chosen = rng.choice(smes, size=min(smes_per_programme, smes.size), replace=False)
                firms.append(chosen)
                n_picked += chosen.size
            counts.append((s, n_picked))
    ties = Ties(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    if not counts:
        return ties
    school, n_picked = np.array(counts, dtype=np.int64).T
    idx = ties.add(np.repeat(school, n_picked), np.concatenate(firms).astype(np.int64), 0.0)
    # anchors start at 0.5, SMEs at 0.3 (a (school, firm) pair occurs once: firms belong to one sector)
    ties.strength[idx] = np.where(is_anchor[ties.firm[idx]], 0.5, 0.3)
    return ties


def build_graph(school_nodes: np.ndarray, firm_nodes: np.ndarray, ties: Ties,
                supplier_of: np.ndarray, comp_edges: np.ndarray, *,
                partnership: np.ndarray | None = None, later_ties_from: int | None = None) -> nx.Graph:
    """The networkx graph over agent ids with partnership, supply and competition attributes.

    ``partnership`` (default ``ties.strength``) is the strength each tie edge
    carries. Ties from index ``later_ties_from`` on are added after the
    firm-firm edges, so that a graph built late has the same node and edge
    order as one built at the start and updated as ties formed.
    """
    strength = ties.strength if partnership is None else partnership
    split = len(ties) if later_ties_from is None else int(later_ties_from)
    g = nx.Graph()
    g.add_nodes_from(int(n) for n in school_nodes)
    g.add_nodes_from(int(n) for n in firm_nodes)
    s_node = school_nodes[ties.school].tolist()
    f_node = firm_nodes[ties.firm].tolist()
    st = np.asarray(strength, dtype=float).tolist()

    def add_ties(lo: int, hi: int) -> None:
        g.add_edges_from((s_node[i], f_node[i], {"partnership": st[i], "supply": False, "competition": False})
                         for i in range(lo, hi))

    add_ties(0, split)
    chain = np.flatnonzero(supplier_of >= 0)
    g.add_edges_from((u, v, {"partnership": 0.0, "supply": True, "competition": False})
                     for u, v in zip(firm_nodes[chain].tolist(), firm_nodes[supplier_of[chain]].tolist(), strict=True))
    for u, v in zip(firm_nodes[comp_edges[:, 0]].tolist(), firm_nodes[comp_edges[:, 1]].tolist(), strict=True):
        if g.has_edge(u, v):
            g.edges[u, v]["competition"] = True
        else:
            g.add_edge(u, v, partnership=0.0, supply=False, competition=True)
    add_ties(split, len(ties))
    return g
