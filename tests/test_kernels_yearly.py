"""The September, belief and indicator kernels (sim.kernels.yearly) and the faster network build give the old results.

The reference is the numpy (or networkx/scipy) formulation each replaced,
kept here and only here (apart from the public helpers of sim.schools it
calls). Both run on the same random inputs (hypothesis), bit for bit,
including the edges: no schools, one school, no ties, no demand, more sectors
than numpy's 8-wide unrolled sum, tied remainders, NaN outcomes, signed
zeros, empty graphs and a hub with a long adjacency row.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from sim import network as net
from sim import schools as sch
from sim.government import _clip01
from sim.kernels import yearly as ky
from sim.model import _dirichlet_rows
from sim.students import Enrolment, FinalYear, largest_remainder, largest_remainder_rows

SETTINGS = settings(max_examples=60, deadline=None)


def same(a, b) -> bool:
    """Same dtype, shape and values (NaN where NaN, zeros of the same sign)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True) and np.array_equal(np.signbit(a), np.signbit(b)))
    return bool(np.array_equal(a, b))


def case_rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def random_world(seed: int, n_s: int, n_k: int, n_f: int, n_t: int):
    """Schools, firms and ties with values that reach every branch (zeros, clipping, deep partners)."""
    r = case_rng(seed)
    ss = sch.SchoolState(
        tier=r.integers(0, 3, n_s), cohort_size=r.integers(0, 500, n_s),
        shares=r.dirichlet(np.full(n_k, 0.7), size=n_s) if n_k else np.zeros((n_s, 0)),
        lag=r.uniform(0.0, 4.0, (n_s, n_k)), equipment=r.uniform(0.0, 1.0, n_s), effort=r.uniform(0.0, 1.0, n_s))
    fs = SimpleNamespace(sector=r.integers(0, max(n_k, 1), n_f), engagement=r.integers(0, 3, n_f),
                         employees=np.maximum(np.round(r.lognormal(3.0, 1.5, n_f)), 3.0))
    n_t = n_t if n_s and n_f else 0
    ties = SimpleNamespace(school=r.integers(0, max(n_s, 1), n_t), firm=r.integers(0, max(n_f, 1), n_t))
    ties.active = r.random(ties.school.size) < 0.5
    return ss, fs, ties


# ----------------------------------------------------------------- schools
def ref_school_year(ss, fs, ties, n_k, per_school, entity, base, evaluation, rate, cowrite, speed, own_rate):
    """The numpy code of ConsortiumModel._start_year's school part (before the kernel)."""
    n_s = ss.n
    deep_partners = np.zeros((n_s, n_k))
    if len(ties.school):
        deep = fs.engagement[ties.firm] == 2
        np.add.at(deep_partners, (ties.school[deep], fs.sector[ties.firm[deep]]), 1.0)
    ss.equipment = np.clip(ss.equipment * 0.95 + 0.05 * np.clip(per_school / 1_000_000.0, 0, 1)
                           + (0.03 if entity else 0.01) * np.minimum(deep_partners.sum(axis=1), 3), 0.0, 1.0)
    active_partner = np.zeros(n_s)
    if len(ties.school):
        np.maximum.at(active_partner, ties.school, ties.active.astype(float))
    sch.update_effort(ss, base, evaluation, per_school, active_partner)
    demand = np.bincount(fs.sector, weights=fs.employees, minlength=n_k)
    if demand.sum() > 0 and n_s:
        sch.adjust_programmes(ss, demand / demand.sum(), rate)
    cowriting = cowrite * np.minimum(deep_partners, 2) / 2.0
    sch.update_curriculum(ss, speed, own_rate, cowriting)
    return sch.trainee_base_skill(ss)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_s=st.integers(0, 12), n_k=st.integers(1, 20), n_f=st.integers(0, 60),
       n_t=st.integers(0, 80), per_school=st.sampled_from([0.0, 3e5, 1.5e6, 5e6]), entity=st.booleans(),
       base=st.floats(0.0, 0.6), evaluation=st.floats(-0.2, 0.5), rate=st.floats(0.0, 1.0),
       cowrite=st.floats(0.0, 0.8), speed=st.floats(0.0, 0.5), own_rate=st.floats(0.0, 0.9))
def test_school_year_is_the_numpy_update(seed, n_s, n_k, n_f, n_t, per_school, entity, base, evaluation, rate,
                                         cowrite, speed, own_rate):
    ss, fs, ties = random_world(seed, n_s, n_k, n_f, n_t)
    equipment, effort, shares, adjusted, lag, base_skill = ky.school_year(
        ties.school, ties.firm, ties.active, fs.engagement, fs.sector, fs.employees, sch.TIER_SKILL[ss.tier],
        ss.equipment, ss.shares, ss.lag, per_school, 0.03 if entity else 0.01, base, evaluation, rate, cowrite,
        speed, own_rate)
    old_shares = ss.shares
    ref_base = ref_school_year(ss, fs, ties, n_k, per_school, entity, base, evaluation, rate, cowrite, speed, own_rate)
    assert same(equipment, ss.equipment) and same(effort, ss.effort) and same(lag, ss.lag)
    assert same(base_skill, ref_base)
    assert adjusted == (ss.shares is not old_shares)
    assert same(shares, ss.shares)


def test_school_year_rejects_indices_out_of_range():
    ss, fs, ties = random_world(1, 3, 4, 10, 8)
    args = [ties.school, ties.firm, ties.active, fs.engagement, fs.sector, fs.employees, sch.TIER_SKILL[ss.tier],
            ss.equipment, ss.shares, ss.lag, 0.0, 0.01, 0.3, 0.1, 0.2, 0.1, 0.2, 0.3]
    for i, bad in [(0, ties.school + 3), (1, ties.firm[:-1]), (1, ties.firm + 10), (4, fs.sector + 4)]:
        with pytest.raises(ValueError, match="out of range|same size"):
            ky.school_year(*args[:i], bad, *args[i + 1:])


# ----------------------------------------------------------------- students
def ref_largest_remainder_rows(totals, shares):
    shares = np.clip(np.asarray(shares, dtype=float), 0.0, None)
    totals = np.asarray(totals, dtype=np.int64)
    out = np.zeros(shares.shape, dtype=np.int64)
    s = shares.sum(axis=1)
    ok = (totals > 0) & (s > 0)
    if not ok.any():
        return out
    raw = shares[ok] / s[ok, None] * totals[ok, None]
    base = np.floor(raw).astype(np.int64)
    rest = totals[ok] - base.sum(axis=1)
    order = np.argsort(-(raw - base), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(shares.shape[1])[None, :], axis=1)
    base += rank < rest[:, None]
    out[ok] = base
    return out


share_rows = st.integers(1, 12).flatmap(lambda k: st.lists(
    st.lists(st.one_of(st.sampled_from([0.0, 1.0, 0.5, 0.25, 1 / 3, -0.5]), st.floats(0.0, 10.0)),
             min_size=k, max_size=k), min_size=0, max_size=8))


@SETTINGS
@given(rows=share_rows, data=st.data())
def test_largest_remainder_rows_is_the_numpy_split(rows, data):
    k = len(rows[0]) if rows else 3
    shares = np.array(rows, dtype=float).reshape(len(rows), k)
    totals = np.array(data.draw(st.lists(st.integers(-3, 600), min_size=len(rows), max_size=len(rows))),
                      dtype=np.int64)
    got = largest_remainder_rows(totals, shares)
    assert same(got, ref_largest_remainder_rows(totals, shares))
    for i in range(len(rows)):  # and each row is the scalar split
        assert same(got[i], largest_remainder(int(totals[i]), shares[i]))


def test_largest_remainder_rows_breaks_ties_to_the_lower_index():
    got = largest_remainder_rows(np.array([10, 2, 1]), np.ones((3, 3)))
    assert got.tolist() == [[4, 3, 3], [1, 1, 0], [1, 0, 0]]


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_s=st.integers(0, 10), n_k=st.integers(1, 12))
def test_advance_is_the_numpy_shift_and_intake(seed, n_s, n_k):
    r = case_rng(seed)
    cohort = r.integers(0, 400, n_s)
    shares = r.dirichlet(np.ones(n_k), size=n_s)
    e = Enrolment.start(cohort, shares)
    intake = ref_largest_remainder_rows(cohort, shares)
    assert same(e.counts[:, :, :-1], np.repeat(intake[:, :, None], 2, axis=2)) and not e.counts[:, :, -1].any()
    assert e.entered == 2 * int(intake.sum())
    counts = e.counts.copy()
    entered = e.entered
    new_shares = r.dirichlet(np.ones(n_k), size=n_s)
    e.advance(cohort, new_shares)
    ref = counts.copy()
    ref[:, :, 1:] = counts[:, :, :-1].copy()
    ref[:, :, 0] = ref_largest_remainder_rows(cohort, new_shares)
    assert same(e.counts, ref)
    assert e.entered == entered + int(ref[:, :, 0].sum())
    if ref[:, :, -1].any():
        with pytest.raises(RuntimeError, match="must graduate"):
            e.advance(cohort, new_shares)
        assert same(e.counts, ref)  # untouched


def ref_from_counts(counts, base_skill, rng, skill_sd=0.15):
    flat = counts.ravel()
    idx = np.repeat(np.arange(flat.size), flat)
    n_k = counts.shape[1]
    school, sector = idx // n_k, idx % n_k
    skill = base_skill[school, sector] + rng.normal(0.0, skill_sd, size=idx.size)
    return school.astype(np.int64), sector.astype(np.int64), np.clip(skill, 0.0, None)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_s=st.integers(0, 8), n_k=st.integers(1, 10))
def test_final_year_expansion_is_the_numpy_repeat(seed, n_s, n_k):
    r = case_rng(seed)
    counts3 = np.zeros((n_s, n_k, 3), dtype=np.int64)
    counts3[:, :, -1] = r.integers(0, 40, (n_s, n_k)) * (r.random((n_s, n_k)) < 0.7)
    base_skill = r.uniform(-0.2, 1.0, (n_s, n_k))  # below 0 so that clipping happens
    fy = FinalYear.from_counts(counts3[:, :, -1], base_skill, np.random.default_rng(seed))
    ref_rng = np.random.default_rng(seed)
    school, sector, skill = ref_from_counts(counts3[:, :, -1], base_skill, ref_rng)
    assert same(fy.school, school) and same(fy.sector, sector) and same(fy.skill, skill)
    n = school.size
    assert same(fy.host, np.full(n, -1, dtype=np.int64)) and same(fy.host_level, np.zeros(n, dtype=np.int64))
    assert same(fy.real_training, np.zeros(n, dtype=bool)) and len(fy) == n


def test_final_year_expansion_rejects_negative_counts_and_wrong_noise():
    with pytest.raises(ValueError, match="non-negative"):
        ky.expand_students(np.array([[2, -1]]), np.zeros((1, 2)), np.zeros(1))
    with pytest.raises(ValueError, match="counts.sum"):
        ky.expand_students(np.array([[2, 1]]), np.zeros((1, 2)), np.zeros(2))


# ----------------------------------------------------------------- beliefs
def ref_update_beliefs(adj, lam, omega, fs, retention, paid, decay):
    """The numpy code of ConsortiumModel._update_beliefs (before the kernel); returns the new beliefs."""
    def learn(belief, own, has_own):
        own_v = np.where(has_own, own, 0.0)
        nb_sum = adj @ own_v
        nb_n = adj @ has_own.astype(float)
        nb = np.divide(nb_sum, nb_n, out=np.zeros_like(nb_sum), where=nb_n > 0)
        has_nb = nb_n > 0
        target = np.where(has_own & has_nb, (1 - omega) * own_v + omega * nb,
                          np.where(has_own, own_v, np.where(has_nb, nb, belief)))
        return (1 - lam) * belief + lam * target

    n = fs.hosted.size
    hosted = fs.hosted > 0
    ratio = np.divide(fs.acc_output, fs.predicted_output, out=np.ones(n), where=fs.predicted_output > 0)
    productivity = np.clip(learn(fs.belief_productivity, ratio, hosted), 0.2, 3.0)
    belief_retention = fs.belief_retention
    if retention is not None:
        r, has = retention
        belief_retention = np.clip(learn(fs.belief_retention, r, has), 0.1, 3.0)
    belief_paid = (1 - lam) * fs.belief_paid + lam * paid
    had_projects = fs.project_value_year > 0
    projects = np.maximum(learn(fs.belief_projects, fs.project_value_year, fs.engagement == 2), 0.0)
    returns = (np.nan_to_num(fs.realised_net, nan=-1.0) >= 0) | had_projects
    goodwill = np.where(returns, fs.goodwill, fs.goodwill * (1.0 - decay))
    return productivity, belief_retention, belief_paid, projects, goodwill


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 80), n_edges=st.integers(0, 300), lam=st.floats(0.0, 1.0),
       omega=st.floats(0.0, 1.0), learn_retention=st.booleans(), paid=st.floats(0.0, 1.0),
       decay=st.floats(0.0, 0.5))
def test_update_beliefs_is_the_numpy_learning(seed, n, n_edges, lam, omega, learn_retention, paid, decay):
    r = case_rng(seed)
    edges = r.integers(0, max(n, 1), (n_edges if n > 1 else 0, 2))
    edges = edges[edges[:, 0] != edges[:, 1]]
    adj = net.adjacency(n, edges)
    adj.data[:] = 1.0
    fs = SimpleNamespace(
        hosted=r.integers(0, 3, n) * (r.random(n) < 0.5), acc_output=r.uniform(0, 1e5, n),
        predicted_output=r.uniform(0, 1e5, n) * (r.random(n) < 0.7), belief_productivity=r.uniform(0.1, 4.0, n),
        belief_retention=r.uniform(0.05, 4.0, n), belief_paid=r.uniform(0, 1, n), engagement=r.integers(0, 3, n),
        project_value_year=r.uniform(-1e4, 5e4, n) * (r.random(n) < 0.4), belief_projects=r.uniform(-10, 5e4, n),
        realised_net=np.where(r.random(n) < 0.3, np.nan, r.normal(0, 1e4, n)), goodwill=r.uniform(0, 1, n))
    fs.realised_net[r.random(n) < 0.05] = 0.0
    retention = (np.clip(r.uniform(0, 4, n), 0.1, 3.0), r.random(n) < 0.5) if learn_retention else None
    ref = ref_update_beliefs(adj, lam, omega, fs, retention, paid, decay)
    r_arr, has = retention if retention is not None else (fs.belief_retention, np.zeros(0, dtype=bool))
    got = ky.update_beliefs(adj.indptr.astype(np.int64), adj.indices.astype(np.int64), adj.data, lam, omega,
                            fs.hosted, fs.acc_output, fs.predicted_output, fs.belief_productivity, learn_retention,
                            r_arr, has, fs.belief_retention, fs.belief_paid, paid, fs.project_value_year,
                            fs.engagement, fs.belief_projects, fs.realised_net, fs.goodwill, 1.0 - decay)
    for g, want in zip(got, ref, strict=True):
        assert same(g, want)
    assert (got[1] is fs.belief_retention) == (not learn_retention)


# ----------------------------------------------------------------- ties
def ref_search(rng, searching, shares, sector, engagement, employees):
    """The Python loop of ConsortiumModel._update_ties' search (the model keeps it for cities with an empty sector)."""
    from sim.model import _search_partners

    return _search_partners(rng, searching, shares, sector, engagement, employees)


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_s=st.integers(1, 15), n_k=st.integers(1, 12), extra=st.integers(0, 300))
def test_search_partners_is_the_choice_loop(seed, n_s, n_k, extra):
    r = case_rng(seed)
    sector = np.concatenate([np.arange(n_k), r.integers(0, n_k, extra)])  # every sector has firms
    r.shuffle(sector)
    engagement = r.integers(0, 3, sector.size)
    employees = np.maximum(np.round(r.lognormal(3.0, 2.0, sector.size)), 3.0)
    shares = r.dirichlet(np.full(n_k, 0.5), size=n_s)
    searching = np.flatnonzero(r.random(n_s) < 0.7)
    ref_rng, rng = np.random.default_rng(seed), np.random.default_rng(seed)
    ref_s, ref_f = ref_search(ref_rng, searching, shares, sector, engagement, employees)
    got = ky.search_partners(searching, shares, rng.random(2 * searching.size), sector, engagement, employees)
    assert same(ref_s, searching.astype(np.int64)) and same(got, ref_f)
    assert rng.random() == ref_rng.random()  # the generator is where the loop left it


# ----------------------------------------------------------------- indicators
@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_s=st.integers(0, 40), n_k=st.integers(1, 12), n_t=st.integers(0, 300),
       steps=st.integers(0, 200))
def test_indicator_month_is_the_numpy_sums(seed, n_s, n_k, n_t, steps):
    r = case_rng(seed)
    lag = r.uniform(0, 5, (n_s, n_k)) * 10.0 ** r.integers(-3, 4, (n_s, n_k))
    weight = r.dirichlet(np.ones(n_k), size=n_s) * r.integers(0, 600, n_s)[:, None]
    last = np.where(r.random(n_t) < 0.3, -10**6, r.integers(0, 200, n_t))
    total, active = ky.indicator_month(lag, weight, last, steps, 12)
    assert total == (lag * weight).sum() and active == int((steps - last < 12).sum())


def test_clip01_is_numpys_clip():
    for x in [-1.0, -0.0, 0.0, 1e-300, 0.3, 1.0, 1.5, math.inf, -math.inf]:
        assert same(np.float64(_clip01(x)), np.float64(np.clip(x, 0.0, 1.0)))
    assert math.isnan(_clip01(math.nan))


# ----------------------------------------------------------------- the network build
def ref_adjacency(n, edges):
    if len(edges) == 0:
        return sparse.csr_matrix((n, n))
    r = np.concatenate([edges[:, 0], edges[:, 1]])
    c = np.concatenate([edges[:, 1], edges[:, 0]])
    a = sparse.csr_matrix((np.ones(r.size), (r, c)), shape=(n, n))
    a.data[:] = 1.0
    return a


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 60), m=st.integers(0, 200), hub=st.booleans())
def test_adjacency_is_scipys_coo_conversion(seed, n, m, hub):
    r = case_rng(seed)
    edges = r.integers(0, n, (m, 2))
    if hub:  # one node in every edge: a row longer than the insertion-sorted ones
        edges[:, 0] = 0
    edges = edges[edges[:, 0] != edges[:, 1]]
    a, b = ref_adjacency(n, edges), net.adjacency(n, edges)
    assert a.shape == b.shape and a.format == b.format
    assert same(a.indptr, b.indptr) and same(a.indices, b.indices) and same(a.data, b.data)
    assert a.has_canonical_format == b.has_canonical_format
    assert same(np.asarray(a.sum(axis=1)).ravel(), np.diff(b.indptr).astype(np.float64))


@SETTINGS
@given(n=st.integers(0, 150), p=st.sampled_from([1e-9, 1e-4, 0.003, 0.02, 0.1, 0.4, 0.8, 0.999, 1.0]),
       seed=st.integers(0, 2**31 - 2))
def test_gnp_edges_are_networkx_graphs(n, p, seed):
    g = nx.fast_gnp_random_graph(n, p, seed=seed)
    ref = sorted(g.edges(), key=lambda e: e[0])  # networkx lists an edge by its lower end
    got = net._gnp_edges(n, p, seed)
    assert got.dtype == np.int64 and got.shape == (len(ref), 2)
    assert got.tolist() == [list(e) for e in ref]


@SETTINGS
@given(n=st.integers(2, 60), p=st.sampled_from([0.01, 0.1, 0.5]), seed=st.integers(0, 2**31 - 2),
       first=st.integers(1, 5))
def test_gnp_edges_draw_more_when_the_first_draws_run_out(n, p, seed, first):
    assert net._gnp_edges(n, p, seed, first_draws=first).tolist() == net._gnp_edges(n, p, seed).tolist()


def ref_initial_ties(rng, shares, is_anchor, sector, smes_per_programme=2):
    n_s, n_k = shares.shape
    anchors_of = [np.flatnonzero(is_anchor & (sector == k)) for k in range(n_k)]
    smes_of = [np.flatnonzero(~is_anchor & (sector == k)) for k in range(n_k)]
    schools, firms = [], []
    for s in range(n_s):
        for k in range(n_k):
            if shares[s, k] < 0.12:
                continue
            anchors = anchors_of[k]  # each with chance 0.8, at most ANCHOR_TIES_MAX expected
            picked = anchors[rng.random(anchors.size) < 0.8 * min(1.0, net.ANCHOR_TIES_MAX / max(anchors.size, 1))]
            smes = smes_of[k]
            if smes.size:
                picked = np.concatenate([picked, rng.choice(smes, size=min(smes_per_programme, smes.size),
                                                            replace=False)])
            schools.append(np.full(picked.size, s, dtype=np.int64))
            firms.append(picked.astype(np.int64))
    ties = net.Ties(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    if not schools:
        return ties
    idx = ties.add(np.concatenate(schools), np.concatenate(firms), 0.0)
    ties.strength[idx] = np.where(is_anchor[ties.firm[idx]], 0.5, 0.3)
    return ties


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), n_s=st.integers(0, 10), n_k=st.integers(1, 8), n_f=st.integers(0, 80))
def test_initial_ties_are_the_per_programme_draws(seed, n_s, n_k, n_f):
    r = case_rng(seed)
    shares = r.dirichlet(np.full(n_k, 0.6), size=n_s) if n_s else np.zeros((0, n_k))
    is_anchor = r.random(n_f) < 0.2
    sector = r.integers(0, n_k, n_f)
    ref_rng, rng = np.random.default_rng(seed), np.random.default_rng(seed)
    ref = ref_initial_ties(ref_rng, shares, is_anchor, sector)
    got = net.initial_ties(rng, shares, is_anchor, sector)
    for f in ("school", "firm", "strength", "active"):
        assert same(getattr(got, f), getattr(ref, f)), f
    assert rng.random() == ref_rng.random()


@SETTINGS
@given(seed=st.integers(0, 2**32 - 1), tiers=st.lists(st.integers(0, 2), max_size=25), k=st.integers(1, 9))
def test_dirichlet_rows_are_one_call_per_row(seed, tiers, k):
    conc = np.array([[0.6, 1.0, 1.5][t] for t in sorted(tiers)] + [0.6] * (len(tiers) % 3))  # runs, then a repeat
    ref_rng, rng = np.random.default_rng(seed), np.random.default_rng(seed)
    ref = np.vstack([ref_rng.dirichlet(np.full(k, c)) for c in conc]) if conc.size else np.zeros((0, k))
    assert same(_dirichlet_rows(rng, conc, k), ref)
    assert rng.random() == ref_rng.random()
