"""The placement and project kernels give bit for bit what the numpy code they replace gave.

Each reference below is the numpy formulation the kernel replaced (kept here,
not in sim/). Inputs are random (hypothesis) and include empty arrays, single
elements and ties (equal strengths, equal keys, zero supplies).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import placement as plc
from sim import projects as prj
from sim.kernels import placement as kp
from sim.network import Ties, tie_key
from sim.sorting import lexsort2

SETTINGS = settings(max_examples=150, deadline=None)


# ---------------------------------------------------------------- references (the replaced numpy code)
def ref_allocate(rng, need, slots, firm_sector, tie_school, tie_firm, tie_strength, reach):
    n_k = need.shape[1]
    need_flat = need.astype(np.int64).ravel()
    left = slots.astype(np.int64).copy()
    tiebreak = rng.random(tie_school.size)
    res = tie_school * n_k + firm_sector[tie_firm]
    able = ((left[tie_firm] > 0) & (need_flat[res] > 0)).nonzero()[0]
    order = able[lexsort2(tiebreak[able], -np.asarray(tie_strength)[able])]
    t_school, t_firm, r_order = tie_school[order], tie_firm[order], res[order]
    take = np.zeros(order.size, dtype=np.int64)
    for n, (r, f) in enumerate(zip(r_order, t_firm, strict=True)):
        take[n] = min(need_flat[r], left[f])
        need_flat[r] -= take[n]
        left[f] -= take[n]
    got = take > 0
    parts = [(t_school[got], t_firm[got], take[got])]
    new_parts = []
    searching = ((left > 0) & (rng.random(left.size) < reach)).nonzero()[0]
    for k in np.unique(firm_sector[searching]) if searching.size else []:
        firms = searching[firm_sector[searching] == k]
        firms = firms[rng.permutation(firms.size)]
        schools = (need_flat[k::n_k] > 0).nonzero()[0]
        if schools.size == 0:
            continue
        schools = schools[rng.permutation(schools.size)]
        fi, sj, amount = plc.interval_match(left[firms], need_flat[schools * n_k + k])
        a, b = firms[fi], schools[sj]
        parts.append((b, a, amount))
        new_parts.append(np.column_stack([b, a]))
        np.subtract.at(need_flat, b * n_k + k, amount)
        np.subtract.at(left, a, amount)
    alloc = [np.concatenate([p[i] for p in parts]).astype(np.int64) for i in range(3)]
    new = np.concatenate(new_parts).astype(np.int64) if new_parts else np.zeros((0, 2), dtype=np.int64)
    return alloc, new


def ref_assign(s, f, m, school, sector, n_k, firm_sector):
    host = np.full(school.size, -1, dtype=np.int64)
    if s.size == 0:
        return host
    group = school * n_k + sector
    g = s * n_k + firm_sector[f]
    start = np.searchsorted(group, g)
    order = np.argsort(g, kind="stable")
    m_sorted = m[order]
    before = np.cumsum(m_sorted) - m_sorted
    g_sorted = g[order]
    first = np.concatenate([[True], g_sorted[1:] != g_sorted[:-1]])
    base = before[first.nonzero()[0][np.cumsum(first) - 1]]
    used = np.empty_like(m)
    used[order] = before - base
    total = int(m.sum())
    seq = np.arange(total) - np.repeat(np.cumsum(m) - m, m)
    host[np.repeat(start + used, m) + seq] = np.repeat(f, m)
    return host


def ref_realism(level, mentor_days, equipment, lag, production_motive, school_effort):
    r = (0.2 + 0.35 * (level == 2) + 0.1 * np.minimum(mentor_days, 2.0) / 2.0 + 0.15 * equipment
         + 0.15 * (1.0 - np.minimum(lag, 6.0) / 6.0) - 0.2 * (production_motive & (level == 1))
         + 0.1 * (school_effort - 0.5))
    return np.clip(r, 0.02, 0.98)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.uint8), b.view(np.uint8))


# ---------------------------------------------------------------- placement round
@st.composite
def markets(draw):
    n_s, n_k, n_f = draw(st.integers(1, 6)), draw(st.integers(1, 4)), draw(st.integers(0, 12))
    need = np.array(draw(st.lists(st.integers(0, 5), min_size=n_s * n_k, max_size=n_s * n_k))).reshape(n_s, n_k)
    slots = np.array(draw(st.lists(st.integers(0, 4), min_size=n_f, max_size=n_f)), dtype=np.int64)
    sector = np.array(draw(st.lists(st.integers(0, n_k - 1), min_size=n_f, max_size=n_f)), dtype=np.int64)
    n_t = draw(st.integers(0, 15)) if n_f else 0
    ts = np.array(draw(st.lists(st.integers(0, n_s - 1), min_size=n_t, max_size=n_t)), dtype=np.int64)
    tf = np.array(draw(st.lists(st.integers(0, max(n_f - 1, 0)), min_size=n_t, max_size=n_t)), dtype=np.int64)
    strength = np.array(draw(st.lists(st.sampled_from([0.1, 0.25, 0.5, 0.9]), min_size=n_t, max_size=n_t)))
    reach = draw(st.sampled_from([0.0, 0.3, 1.0]))
    return need.astype(np.int64), slots, sector, ts, tf, strength, reach, draw(st.integers(0, 2**32))


@SETTINGS
@given(markets())
def test_allocate_equals_numpy_allocation_and_draws(market):
    need, slots, sector, ts, tf, strength, reach, seed = market
    r1, r2 = np.random.default_rng(seed), np.random.default_rng(seed)
    alloc, new = plc.allocate(r1, need, slots, sector, ts, tf, strength, reach)
    (s, f, m), new_ref = ref_allocate(r2, need, slots, sector, ts, tf, strength, reach)
    assert same(alloc.school, s) and same(alloc.firm, f) and same(alloc.students, m)
    assert same(new, new_ref)
    assert r1.random() == r2.random()  # the same draws, in the same sizes


def test_allocate_walks_ties_strongest_first_then_searches():
    rng = np.random.default_rng(0)
    need = np.array([[3], [2]])
    alloc, new = plc.allocate(rng, need, np.array([2, 2, 5]), np.zeros(3, np.int64), np.array([0, 0]),
                              np.array([0, 1]), np.array([0.2, 0.9]), 1.0)
    assert alloc.as_list()[:2] == [(0, 1, 2), (0, 0, 1)]  # the stronger tie (firm 1) first
    assert sum(alloc.students.tolist()) == 5 and len(new) >= 1


@SETTINGS
@given(markets())
def test_assign_students_equals_numpy_assignment(market):
    need, slots, sector, ts, tf, strength, reach, seed = market
    alloc, _ = plc.allocate(np.random.default_rng(seed), need, slots, sector, ts, tf, strength, reach)
    n_k = need.shape[1]
    idx = np.repeat(np.arange(need.size), need.ravel())
    school, stud_sector = idx // n_k, idx % n_k
    host = plc.assign_students(alloc, school, stud_sector, n_k, sector)
    assert same(host, ref_assign(alloc.school, alloc.firm, alloc.students, school, stud_sector, n_k, sector))
    assert same(plc.assign_students(alloc.as_list(), school, stud_sector, n_k, sector), host)


finite = st.floats(-3, 9, allow_nan=False)


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from([0.0, 0.5, 2.0, 3.0]), finite, finite,
                          st.booleans(), finite), max_size=40))
def test_realism_equals_numpy_formula(rows):
    cols = [np.array(c) for c in zip(*rows, strict=True)] if rows else [
        np.zeros(0, np.int64), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0, bool), np.zeros(0)]
    level, mentor, eq, lag, pm, effort = cols
    level, pm = level.astype(np.int64), pm.astype(bool)
    got = plc.realism(level, mentor, eq, lag, pm, effort)
    assert same(got, ref_realism(level, mentor, eq, lag, pm, effort))


@SETTINGS
@given(st.integers(0, 2**32), st.integers(0, 60), st.integers(1, 8), st.integers(1, 4))
def test_placement_outcomes_equal_the_numpy_chain(seed, n, n_f, n_s):
    rng = np.random.default_rng(seed)
    n_k = 3
    school, sector = np.sort(rng.integers(0, n_s, n)), rng.integers(0, n_k, n)
    host = np.where(rng.random(n) < 0.3, -1, rng.integers(0, n_f, n))
    skill, u = rng.random(n), rng.random(n)
    engagement, pm = rng.integers(0, 3, n_f), rng.random(n_f) < 0.5
    mentor = np.array([0.0, 0.5, 2.0])
    equipment, effort = rng.random(n_s), rng.random(n_s)
    lag, prep = rng.random((n_s, n_k)) * 8, rng.random((n_s, n_k)) + 0.5
    out = kp.placement_outcomes(host, school, sector, skill, u, engagement, mentor, equipment, lag, pm, effort, prep,
                                0.1, 0.03, 0.9, n_f)
    placed = host >= 0
    level = np.where(placed, engagement[np.maximum(host, 0)], 0)
    h = np.maximum(host, 0)
    r = ref_realism(level, mentor[level], equipment[school], lag[school, sector], pm[h], effort[school])
    real = placed & (u < r)
    new_skill = skill + np.where(placed, np.where(real, 0.1, 0.03), 0.0)
    hosted = np.bincount(host[placed], minlength=n_f).astype(np.int64)
    q = prep[school, sector] * np.where(real, 1.0, 0.9)
    qsum = np.bincount(host[placed], weights=q[placed], minlength=n_f)
    quality = np.divide(qsum, hosted, out=np.ones(n_f), where=hosted > 0)
    for a, b in zip(out[:5], (level, real, new_skill, hosted, quality), strict=True):
        assert same(a, b)
    assert out[5] == placed.sum() and out[6] == real.sum()


def test_add_placement_month_is_the_two_numpy_updates():
    rng = np.random.default_rng(2)
    hosted, output, cost = rng.integers(0, 4, 50), rng.random(50) * 3e3, rng.random(50) * 2e3
    acc_o, acc_c = rng.random(50) * 1e4, rng.random(50) * 1e4
    ref_o, ref_c = acc_o + hosted * output, acc_c + hosted * cost
    plc.add_placement_month(acc_o, acc_c, hosted, output, cost)
    assert same(acc_o, ref_o) and same(acc_c, ref_c)


# ---------------------------------------------------------------- ties
def ref_find(school, firm, q_school, q_firm):
    q = tie_key(q_school, q_firm)
    out = np.full(q.size, -1, dtype=np.int64)
    if school.size == 0 or q.size == 0:
        return out
    key = tie_key(school, firm)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    pos = np.minimum(np.searchsorted(skey, q), skey.size - 1)
    hit = skey[pos] == q
    out[hit] = order[pos[hit]]
    return out


pairs = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6)), max_size=25)


@SETTINGS
@given(pairs, st.lists(st.tuples(pairs, st.lists(st.booleans(), min_size=60, max_size=60)), max_size=4), pairs)
def test_ties_add_keep_find_equal_the_numpy_versions(first, rounds, queries):
    ties = Ties(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    ref_s, ref_f = np.zeros(0, np.int64), np.zeros(0, np.int64)
    for new, mask in [(first, None), *rounds]:
        s = np.array([p[0] for p in new], dtype=np.int64)
        f = np.array([p[1] for p in new], dtype=np.int64)
        start = len(ties)
        idx = ties.add(s, f, 0.25)
        # reference: first occurrence of each pair not already tied, in input order
        key = tie_key(s, f)
        keep = np.zeros(s.size, bool)
        keep[np.unique(key, return_index=True)[1]] = True
        keep &= ref_find(ref_s, ref_f, s, f) < 0
        ref_s, ref_f = np.concatenate([ref_s, s[keep]]), np.concatenate([ref_f, f[keep]])
        assert same(idx, np.arange(start, ref_s.size))
        assert same(ties.school, ref_s) and same(ties.firm, ref_f) and ties.strength.size == ref_s.size
        assert not ties.active[start:].any() and (ties.strength[start:] == 0.25).all()
        q_s = np.array([p[0] for p in queries], dtype=np.int64)
        q_f = np.array([p[1] for p in queries], dtype=np.int64)
        assert same(ties.find(q_s, q_f), ref_find(ref_s, ref_f, q_s, q_f))
        if mask is not None:
            m = np.array(mask[:len(ties)], dtype=bool)
            ties.keep(m)
            ref_s, ref_f = ref_s[m], ref_f[m]
            assert same(ties.find(q_s, q_f), ref_find(ref_s, ref_f, q_s, q_f))
    # marking: ties of the pairs become active, pairs without a tie are skipped
    last = np.full(len(ties), -1, dtype=np.int64)
    q_s = np.array([p[0] for p in queries], dtype=np.int64)
    q_f = np.array([p[1] for p in queries], dtype=np.int64)
    ties.active[:] = False
    ties.mark_active(q_s, q_f, last, 7)
    hit = ref_find(ref_s, ref_f, q_s, q_f)
    hit = hit[hit >= 0]
    expect = np.zeros(len(ties), bool)
    expect[hit] = True
    assert same(ties.active, expect) and same(last == 7, expect)


# ---------------------------------------------------------------- projects
def ref_finish(p):
    months_left = p.months_left - 1
    done = months_left <= 0
    ok = done & p.success
    keep = ~done
    return ((p.firm[ok], p.school[ok], p.value[ok]), int(ok.sum()), int((done & ~p.success).sum()),
            (p.firm[keep], p.school[keep], months_left[keep], p.success[keep], p.value[keep]))


@SETTINGS
@given(st.integers(0, 2**32), st.lists(st.integers(0, 5), max_size=6))
def test_project_book_equals_the_numpy_book(seed, batches):
    rng = np.random.default_rng(seed)
    book, ref = prj.Projects(), prj.Projects()
    equipment = rng.random(4)
    for n in batches + [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]:
        firm, school = rng.integers(0, 9, n), rng.integers(0, 4, n)
        months = rng.geometric(0.4, size=n).astype(np.int64)
        u, shock = rng.random(n), np.exp(rng.standard_normal(n))
        book.start(firm, school, months, u, equipment, 1000.0, shock)
        ref.add(firm, school, months, u < prj.SUCCESS_BASE + prj.SUCCESS_EQUIPMENT * equipment[school], 1000.0 * shock)
        assert same(book.success, ref.success) and same(book.value, ref.value)
        expect, n_ok, n_fail, kept = ref_finish(ref)
        ref.firm, ref.school, ref.months_left, ref.success, ref.value = kept
        got = book.finish()
        for a, b in zip(got, expect, strict=True):
            assert same(a, b)
        for a, b in zip((book.firm, book.school, book.months_left, book.success, book.value), kept, strict=True):
            assert same(a, b)
        ref.completed += n_ok
        ref.failed += n_fail
        assert (book.started, book.completed, book.failed) == (ref.started, ref.completed, ref.failed)
    assert book.completed + book.failed + book.firm.size == book.started


def test_projects_finish_reports_due_successes_only():
    p = prj.Projects(np.array([1, 2, 3]), np.array([0, 1, 0]), np.array([1, 2, 1]), np.array([True, True, False]),
                     np.array([5.0, 6.0, 7.0]))
    firm, school, value = p.finish()
    assert firm.tolist() == [1] and value.tolist() == [5.0] and (p.completed, p.failed) == (1, 1)
    assert p.firm.tolist() == [2] and p.months_left.tolist() == [1]
    assert p.finish()[0].tolist() == [2] and p.finish()[0].size == 0


@SETTINGS
@given(st.integers(0, 2**32), st.integers(0, 30), st.integers(1, 6), st.integers(1, 5))
def test_starters_and_school_draws_equal_the_numpy_partner_rule(seed, n_f, n_s, n_k):
    rng = np.random.default_rng(seed)
    shares = rng.dirichlet(np.ones(n_k), size=n_s) * (rng.random((n_s, n_k)) < 0.6)
    firm_sector = rng.integers(0, n_k, n_f)
    strongest = np.where(rng.random(n_f) < 0.5, -1, rng.integers(0, n_s, n_f))
    prob = rng.random(n_f)
    hit = np.sort(rng.choice(n_f, size=rng.integers(0, n_f + 1), replace=False)).astype(np.int64)
    u = rng.random(hit.size)
    cdfs, has_cdf = prj.share_cdfs(np.ascontiguousarray(shares.T))
    go, school, sector, n_missing, n_draw = prj.starters(hit, u, prob, strongest, firm_sector, has_cdf)
    ref_go = hit[u < prob[hit]]
    assert same(go, ref_go) and same(school, strongest[ref_go]) and same(sector, firm_sector[ref_go])
    # reference: the per-sector CDFs and the draws of the replaced _partner_school
    out = strongest[ref_go].copy()
    missing = (out < 0).nonzero()[0]
    assert n_missing == missing.size
    cdf_of = {}
    for k in range(n_k):
        w = shares[:, k]
        if w.sum() > 0:
            p_k = w / w.sum()
            cdf = p_k.cumsum()
            cdf /= cdf[-1]
            cdf_of[k] = cdf
            assert has_cdf[k] and same(cdfs[k], cdf)
        else:
            assert not has_cdf[k]
    sec = firm_sector[ref_go[missing]]
    drawn = np.array([k in cdf_of for k in sec.tolist()], dtype=bool)
    assert n_draw == drawn.sum()
    v = rng.random(n_draw)
    for k, cdf in cdf_of.items():
        sel = sec[drawn] == k
        out[missing[drawn][sel]] = cdf.searchsorted(v[sel], side="right")
    f2, s2 = prj.draw_schools(go, school, sector, has_cdf, cdfs, v)
    assert same(f2, ref_go[out >= 0]) and same(s2, out[out >= 0])


def test_share_cdfs_match_numpy_columns_at_large_sizes():
    """Column sums of ~2,000 schools (the 100x city): pairwise sums past numpy's 128 block, in numpy's order."""
    rng = np.random.default_rng(5)
    shares = rng.dirichlet(np.full(6, 0.4), size=2000)
    cdfs, has_cdf = prj.share_cdfs(np.ascontiguousarray(shares.T))
    for k in range(6):
        w = shares[:, k]
        cdf = (w / w.sum()).cumsum()
        cdf /= cdf[-1]
        assert same(cdfs[k], cdf)


@SETTINGS
@given(st.integers(0, 2**32), st.integers(0, 20))
def test_book_results_equal_add_at_and_the_lag_loop(seed, n):
    rng = np.random.default_rng(seed)
    firm, school, value = rng.integers(0, 5, n), rng.integers(0, 3, n), rng.random(n) * 1e4
    sector = rng.integers(0, 2, 5)
    pv, lag, extra = rng.random(5), rng.random((3, 2)) * 0.4, rng.integers(0, 3, 5)
    ref_pv, ref_lag, ref_extra = pv.copy(), lag.copy(), extra.copy()
    np.add.at(ref_pv, firm, value * 0.84)
    for s, f in zip(school, firm, strict=True):
        ref_lag[s, sector[f]] = max(0.0, ref_lag[s, sector[f]] - prj.CURRICULUM_REFRESH_YEARS)
    np.add.at(ref_extra, firm, 1)
    prj.book_results(firm, school, value, 0.84, sector, pv, lag, extra)
    assert same(pv, ref_pv) and same(lag, ref_lag) and same(extra, ref_extra)


def test_ties_lookup_follows_replaced_arrays():
    ties = Ties(np.array([0, 1]), np.array([5, 6]), np.array([0.5, 0.5]), np.zeros(2, bool))
    assert ties.find(np.array([1]), np.array([6])).tolist() == [1]
    ties.school, ties.firm = np.array([1, 0]), np.array([6, 5])  # replaced from outside: the index must follow
    assert ties.find(np.array([1, 2]), np.array([6, 6])).tolist() == [0, -1]
    assert ties.add(np.array([1, 3, 3]), np.array([6, 7, 7]), 0.25).tolist() == [2]
    assert ties.find(np.array([3, 0]), np.array([7, 5])).tolist() == [2, 1]


# ---------------------------------------------------------------- second pass: the fused round, partners, in-place book
def ref_expected_quality(prep, shares, cohort_size, firm_sector):
    """ConsortiumModel.expected_trainee_quality's numpy formulation."""
    weight = shares * cohort_size[:, None]
    by_sector = (prep * weight).sum(axis=0) / np.maximum(weight.sum(axis=0), 1e-12)
    by_sector[weight.sum(axis=0) <= 0] = 1.0
    return by_sector[firm_sector]


def slot_terms(rng, months):
    from sim import economics as eco

    return eco.SlotTerms(months=months, pay_floor=0.3 + rng.random(), task_share=rng.random(),
                         productivity_start=rng.random(), productivity_gain=rng.random() * 0.2,
                         mentor_days=(0.0, float(rng.random()), 2.0 * float(rng.random())), trainees_per_mentor=3,
                         mentor_wage_ratio=1.0 + rng.random(), equipment_per_month=100 * rng.random(),
                         admin_per_trainee=50 * rng.random(), transaction_per_match=30 * rng.random(),
                         skilled_wage_ratio=1.0 + rng.random(), nonwage_share=rng.random(), hiring_cost_weeks=12.0,
                         wage_compression=0.5, discount_rate=0.05)


@SETTINGS
@given(markets(), st.integers(0, 7), st.booleans())
def test_settle_round_equals_the_numpy_chain(market, months, with_ties):
    from sim import economics as eco
    from sim import schools as sch

    need, slots, sector, ts, tf, strength, reach, seed = market
    rng = np.random.default_rng(seed)
    n_s, n_k = need.shape
    n_f = slots.size
    alloc, _ = plc.allocate(np.random.default_rng(seed), need, slots, sector, ts, tf, strength, reach)
    idx = np.repeat(np.arange(need.size), need.ravel())
    school, stud_sector = idx // n_k, idx % n_k
    skill, u = rng.random(school.size), rng.random(school.size)
    engagement, pm = rng.integers(0, 3, n_f), rng.random(n_f) < 0.5
    wage, prod, realised, belief = (rng.random(n_f) * 5e3 for _ in range(4))
    acc_cost = rng.random(n_f) * 1e3
    ss = sch.SchoolState(tier=rng.integers(0, 3, n_s), cohort_size=rng.integers(0, 90, n_s),
                         shares=rng.dirichlet(np.ones(n_k), size=n_s) * (rng.random((n_s, n_k)) < 0.8),
                         lag=rng.random((n_s, n_k)) * 9, equipment=rng.random(n_s), effort=rng.random(n_s))
    terms = slot_terms(rng, months)
    mentor = np.asarray(terms.mentor_days, dtype=np.float64)
    ties = Ties(ts.copy(), tf.copy(), strength.copy(), np.zeros(ts.size, bool)) if with_ties else \
        Ties(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    skey, order = ties._lookup()
    last = np.full(len(ties), -5, dtype=np.int64)
    vec = np.array([terms.productivity_start, terms.productivity_gain, terms.task_share, terms.skilled_wage_ratio,
                    terms.nonwage_share, eco.upfront_cost(terms), terms.mentor_wage_ratio, terms.trainees_per_mentor,
                    terms.pay_floor, terms.equipment_per_month, eco.WEEKS_PER_MONTH, eco.WORKDAYS_PER_MONTH])
    got_cost = acc_cost.copy()
    out = kp.settle_round(alloc.school, alloc.firm, alloc.students, school, stud_sector, skill, u, n_k, sector,
                          engagement, mentor, sch.TIER_SKILL[ss.tier].astype(np.float64), ss.equipment, ss.effort,
                          ss.lag, pm, 0.1, 0.03, 0.9, wage, prod, realised, belief, got_cost, ss.shares,
                          ss.cohort_size.astype(np.float64), vec, months, skey, order, ties.active, last, 11)
    # reference: the numpy chain the kernel replaced
    host = ref_assign(alloc.school, alloc.firm, alloc.students, school, stud_sector, n_k, sector)
    prep = sch.preparation_quality(ss)
    ref = kp.placement_outcomes(host, school, stud_sector, skill, u, engagement, mentor, ss.equipment, ss.lag,
                                pm, ss.effort, prep, 0.1, 0.03, 0.9, n_f)
    hosted, quality = ref[3], ref[4]
    etq = ref_expected_quality(prep, ss.shares, ss.cohort_size, sector)
    expected_out, _ = eco.placement_net_benefit(terms, wage, pm, engagement, prod, etq)
    predicted = np.where(hosted > 0, expected_out * hosted * belief, 0.0)
    ref_cost = acc_cost + hosted * eco.upfront_cost(terms)
    output = eco.monthly_output(terms, wage, pm, engagement, realised, quality)
    cost = eco.monthly_cost(terms, wage, engagement)
    assert same(out[0], host)
    for a, b in zip(out[1:6], ref[:5], strict=True):
        assert same(a, b)
    assert same(out[6], predicted) and same(got_cost, ref_cost)
    assert same(out[7], output) and same(out[8], cost)
    assert out[9] == ref[5] and out[10] == ref[6]
    hit = ref_find(ties.school, ties.firm, alloc.school, alloc.firm)
    hit = hit[hit >= 0]
    expect = np.zeros(len(ties), bool)
    expect[hit] = True
    assert same(ties.active, expect) and same(last == 11, expect)


@SETTINGS
@given(st.lists(st.one_of(st.floats(-1, 2), st.just(float("nan"))), min_size=1, max_size=30), st.integers(0, 2**32))
def test_preparation_quality_equals_the_numpy_formula(lags, seed):
    from sim import schools as sch

    rng = np.random.default_rng(seed)
    lag = np.array(lags).reshape(-1, 1) * 20
    n_s = lag.shape[0]
    ss = sch.SchoolState(tier=rng.integers(0, 3, n_s), cohort_size=np.ones(n_s, np.int64), shares=np.ones((n_s, 1)),
                         lag=lag, equipment=rng.random(n_s) * 3 - 1, effort=rng.random(n_s))
    got = kp.preparation_quality(sch.TIER_SKILL[ss.tier].astype(np.float64), ss.equipment, ss.effort, ss.lag)
    assert same(got, sch.preparation_quality(ss))


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 9), st.sampled_from([0.05, 0.25, 0.3, 0.5, 0.7, 1.0])),
                max_size=40), st.integers(0, 12))
def test_tie_partners_equal_the_numpy_rules(rows, n_firms):
    rows = [r for r in rows if r[1] < n_firms]
    school = np.array([r[0] for r in rows], dtype=np.int64)
    firm = np.array([r[1] for r in rows], dtype=np.int64)
    strength = np.array([r[2] for r in rows], dtype=np.float64)
    order = np.argsort(strength)
    strong, best = kp.tie_partners(order, school, firm, strength, n_firms, 0.3)
    ref_strong = np.zeros(n_firms, dtype=bool)
    ref_strong[firm[strength >= 0.3]] = True
    ref_best = np.full(n_firms, -1, dtype=np.int64)
    ref_best[firm[order]] = school[order]
    assert same(strong, ref_strong) and same(best, ref_best)


@SETTINGS
@given(st.integers(0, 2**32), st.lists(st.integers(0, 6), max_size=8))
def test_in_place_book_equals_finish_book_and_mark(seed, batches):
    rng = np.random.default_rng(seed)
    n_f, n_s, n_k = 9, 4, 2
    book, ref = prj.Projects(), prj.Projects()
    equipment = rng.random(n_s)
    sector = rng.integers(0, n_k, n_f)
    pv, lag, extra = rng.random(n_f), rng.random((n_s, n_k)) * 0.4, rng.integers(0, 3, n_f)
    ref_pv, ref_lag, ref_extra = pv.copy(), lag.copy(), extra.copy()
    ties = Ties(rng.integers(0, n_s, 12), rng.integers(0, n_f, 12), rng.random(12), np.zeros(12, bool))
    ties.add(np.zeros(0, np.int64), np.zeros(0, np.int64), 0.25)
    skey, order = ties._lookup()
    active, last = np.zeros(len(ties), bool), np.full(len(ties), -1, np.int64)
    ref_active, ref_last = active.copy(), last.copy()
    shares = rng.dirichlet(np.ones(n_s), size=n_k) * (rng.random((n_k, n_s)) < 0.7)
    cdfs, has_cdf = prj.share_cdfs(np.ascontiguousarray(shares))
    for step, n in enumerate(batches + [0] * 12):
        # finish the month
        n_ok = book.finish_and_book(0.7, sector, pv, lag, extra, (skey, order, active, last), step)
        f, s, v = ref.finish()
        prj.book_results(f, s, v, 0.7, sector, ref_pv, ref_lag, ref_extra)
        kp.mark_active(skey, order, s, f, ref_active, ref_last, step)
        assert n_ok == f.size and (book.completed, book.failed) == (ref.completed, ref.failed)
        assert same(pv, ref_pv) and same(lag, ref_lag) and same(extra, ref_extra)
        assert same(active, ref_active) and same(last, ref_last)
        # start projects: firms without a school get one drawn, or drop out
        go = np.sort(rng.choice(n_f, size=min(n, n_f), replace=False)).astype(np.int64)
        school = np.where(rng.random(go.size) < 0.5, -1, rng.integers(0, n_s, go.size))
        sec = sector[go]
        missing = school < 0
        n_draw = int((missing & has_cdf[sec]).sum())
        n_start = int(go.size - missing.sum() + n_draw)
        u = rng.random(n_draw + n_start)
        months, shock = rng.geometric(0.4, size=n_start).astype(np.int64), np.exp(rng.standard_normal(n_start))
        book.start_drawn(go, school, sec, has_cdf, cdfs, u, n_draw, months, equipment, 1000.0, shock)
        f2, s2 = prj.draw_schools(go, school, sec, has_cdf, cdfs, u[:n_draw])
        ref.start(f2, s2, months, u[n_draw:], equipment, 1000.0, shock)
        for a, b in zip((book.firm, book.school, book.months_left, book.success, book.value),
                        (ref.firm, ref.school, ref.months_left, ref.success, ref.value), strict=True):
            assert same(a, b)
        assert book.started == ref.started
    assert book.completed + book.failed + book.firm.size == book.started
