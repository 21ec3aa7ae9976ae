"""Kernels of the placement round and the monthly joint projects (bit-identical to the numpy code they replace).

The placement round matches ~5,000 final-year students to ~300 firms' slots
once a year, and joint projects draw bottlenecks every month. In numpy both
are chains of small array calls; here each chain is one compiled pass. No
kernel draws random numbers: the caller draws them with the model's generator,
in the same sizes and order as before, and passes them in. No kernel computes a
transcendental function. Reference formulations (the numpy code each replaces)
are in tests/test_kernels_placement.py.
"""

from __future__ import annotations

import numpy as np

from sim.jit import maximum, minimum, njit, pairwise_sum

_KEY = np.int64(1) << np.int64(32)  # as sim.network.tie_key


@njit
def along_ties(need_flat: np.ndarray, left: np.ndarray, tie_school: np.ndarray, tie_firm: np.ndarray,
               tie_strength: np.ndarray, tiebreak: np.ndarray, firm_sector: np.ndarray,
               n_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pass 1 of :func:`sim.placement.allocate`: students sent along ties, strongest first.

    Ranks the ties whose firm has slots left and whose school has students of
    the firm's sector by strength (descending), then ``tiebreak`` (the order of
    ``lexsort2(tiebreak, -strength)`` on them), and lets each take
    ``min(need, slots left)`` in turn, one tie after the other. ``need_flat`` and
    ``left`` are updated in place. Returns ``(school, firm, students)`` of the
    ties that took students, in rank order.
    """
    n = tie_school.size
    able = np.empty(n, np.int64)
    m = 0
    for t in range(n):
        if left[tie_firm[t]] > 0 and need_flat[tie_school[t] * n_k + firm_sector[tie_firm[t]]] > 0:
            able[m] = t
            m += 1
    able = able[:m]
    minor = np.empty(m, np.float64)
    for i in range(m):
        minor[i] = tiebreak[able[i]]
    o1 = np.argsort(minor, kind="mergesort")
    major = np.empty(m, np.float64)
    for i in range(m):
        major[i] = -tie_strength[able[o1[i]]]
    o2 = np.argsort(major, kind="mergesort")
    out_s = np.empty(m, np.int64)
    out_f = np.empty(m, np.int64)
    out_m = np.empty(m, np.int64)
    c = 0
    for i in range(m):
        t = able[o1[o2[i]]]
        f = tie_firm[t]
        r = tie_school[t] * n_k + firm_sector[f]
        a, b = need_flat[r], left[f]
        take = a if a < b else b
        need_flat[r] = a - take
        left[f] = b - take
        if take > 0:
            out_s[c], out_f[c], out_m[c] = tie_school[t], f, take
            c += 1
    return out_s[:c], out_f[:c], out_m[:c]


@njit
def search_sizes(need_flat: np.ndarray, left: np.ndarray, u: np.ndarray, reach: float, firm_sector: np.ndarray,
                 n_k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who searches beyond ties in pass 2 of :func:`sim.placement.allocate`, and how many per sector.

    Returns the searching firms (``((left > 0) & (u < reach)).nonzero()[0]``),
    the number of them in each sector and the number of schools with students
    left in each sector (``(need_flat[k::n_k] > 0).sum()``): the sizes of the
    permutations pass 2 draws.
    """
    n = left.size
    searching = np.empty(n, np.int64)
    n_firms = np.zeros(n_k, np.int64)
    m = 0
    for f in range(n):
        if left[f] > 0 and u[f] < reach:
            searching[m] = f
            m += 1
            n_firms[firm_sector[f]] += 1
    n_schools = np.zeros(n_k, np.int64)
    for r in range(need_flat.size):
        if need_flat[r] > 0:
            n_schools[r % n_k] += 1
    return searching[:m], n_firms, n_schools


@njit
def search_match(need_flat: np.ndarray, left: np.ndarray, searching: np.ndarray, firm_sector: np.ndarray, n_k: int,
                 perms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pass 2 of :func:`sim.placement.allocate`: firms with slots left reach schools with students left, by sector.

    For each sector ``k`` (ascending) with searching firms: the firms in the
    order of their permutation, the schools (those with students of ``k``
    left) in the order of theirs, matched greedily (:func:`interval_match`).
    ``perms`` holds the permutations back to back, as drawn: per sector the
    firms' and then, if any school has students left, the schools'.
    ``need_flat`` and ``left`` are updated in place. Returns
    ``(school, firm, students)`` of each match, in order.
    """
    n_s = need_flat.size // n_k
    cap = searching.size + n_s * n_k + 1
    out_s = np.empty(cap, np.int64)
    out_f = np.empty(cap, np.int64)
    out_m = np.empty(cap, np.int64)
    c = 0
    pos = 0
    firms_k = np.empty(searching.size, np.int64)
    schools_k = np.empty(n_s, np.int64)
    for k in range(n_k):
        nf = 0
        for f in searching:
            if firm_sector[f] == k:
                firms_k[nf] = f
                nf += 1
        if nf == 0:
            continue
        pf = pos
        pos += nf
        ns = 0
        for s in range(n_s):
            if need_flat[s * n_k + k] > 0:
                schools_k[ns] = s
                ns += 1
        if ns == 0:
            continue
        ps = pos
        pos += ns
        i, j = 0, 0
        while i < nf and j < ns:
            f = firms_k[perms[pf + i]]
            s = schools_k[perms[ps + j]]
            a, b = left[f], need_flat[s * n_k + k]
            take = a if a < b else b
            if take > 0:
                out_s[c], out_f[c], out_m[c] = s, f, take
                c += 1
            left[f] = a - take
            need_flat[s * n_k + k] = b - take
            if a - take <= 0:
                i += 1
            if b - take <= 0:
                j += 1
    return out_s[:c], out_f[:c], out_m[:c]


@njit
def assign_students(alloc_school: np.ndarray, alloc_firm: np.ndarray, alloc_students: np.ndarray,
                    school: np.ndarray, sector: np.ndarray, firm_sector: np.ndarray, n_k: int) -> np.ndarray:
    """:func:`sim.placement.assign_students`: host firm per student (-1 if unplaced).

    Students are sorted by group ``school * n_k + sector``. Each allocation
    fills the next unfilled students of its (school, sector) group, in
    allocation order.
    """
    n_groups = 0
    for i in range(school.size):
        n_groups = max(n_groups, school[i] * n_k + sector[i] + 1)
    for a in range(alloc_school.size):
        n_groups = max(n_groups, alloc_school[a] * n_k + firm_sector[alloc_firm[a]] + 1)
    ptr = np.zeros(n_groups + 1, np.int64)
    for i in range(school.size):
        ptr[school[i] * n_k + sector[i] + 1] += 1
    for g in range(n_groups):
        ptr[g + 1] += ptr[g]
    host = np.full(school.size, -1, np.int64)
    for a in range(alloc_school.size):
        f = alloc_firm[a]
        g = alloc_school[a] * n_k + firm_sector[f]
        p = ptr[g]
        for _ in range(alloc_students[a]):
            host[p] = f
            p += 1
        ptr[g] = p
    return host


@njit
def realism_of(level: int, mentor_days: float, equipment: float, lag: float, production_motive: bool,
               school_effort: float) -> float:
    """:func:`sim.placement.realism` for one placement, in the same order of operations."""
    r = 0.2 + 0.35 * (1.0 if level == 2 else 0.0)
    r = r + 0.1 * minimum(mentor_days, 2.0) / 2.0
    r = r + 0.15 * equipment
    r = r + 0.15 * (1.0 - minimum(lag, 6.0) / 6.0)
    r = r - 0.2 * (1.0 if (production_motive and level == 1) else 0.0)
    r = r + 0.1 * (school_effort - 0.5)
    return minimum(maximum(r, 0.02), 0.98)


@njit
def realism(level: np.ndarray, mentor_days: np.ndarray, equipment: np.ndarray, lag: np.ndarray,
            production_motive: np.ndarray, school_effort: np.ndarray) -> np.ndarray:
    """:func:`sim.placement.realism` over arrays (one pass)."""
    out = np.empty(level.size, np.float64)
    for i in range(level.size):
        out[i] = realism_of(level[i], mentor_days[i], equipment[i], lag[i], production_motive[i], school_effort[i])
    return out


@njit
def placement_outcomes(host: np.ndarray, school: np.ndarray, sector: np.ndarray, skill: np.ndarray,
                       u: np.ndarray, engagement: np.ndarray, mentor_days: np.ndarray, equipment: np.ndarray,
                       lag: np.ndarray, production_motive: np.ndarray, effort: np.ndarray,
                       prep_quality: np.ndarray, gain_real: float, gain_odd: float, odd_job_output: float,
                       n_firms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int]:
    """What the placement round makes of each student's host (the chain in ``ConsortiumModel._placement_round``).

    Per student: the host's level (0 if unplaced), real training (placed and
    ``u < realism``), skill plus the gain of real training or odd jobs; per
    firm: trainees hosted and mean trainee quality (preparation quality, times
    ``odd_job_output`` for odd jobs; 1 where none), summed in student order as
    ``np.bincount(..., weights=...)`` does. Returns ``(host_level,
    real_training, skill, hosted, host_quality, placed, real)``, the last two
    counts.
    """
    n = host.size
    host_level = np.zeros(n, np.int64)
    real = np.zeros(n, np.bool_)
    new_skill = np.empty(n, np.float64)
    hosted = np.zeros(n_firms, np.int64)
    qsum = np.zeros(n_firms, np.float64)
    n_placed, n_real = 0, 0
    for i in range(n):
        h = host[i]
        if h < 0:
            new_skill[i] = skill[i] + 0.0
            continue
        lvl = engagement[h]
        host_level[i] = lvl
        s, k = school[i], sector[i]
        r = realism_of(lvl, mentor_days[lvl], equipment[s], lag[s, k], production_motive[h], effort[s])
        rt = u[i] < r
        real[i] = rt
        new_skill[i] = skill[i] + (gain_real if rt else gain_odd)
        hosted[h] += 1
        qsum[h] += prep_quality[s, k] * (1.0 if rt else odd_job_output)
        n_placed += 1
        n_real += rt
    quality = np.ones(n_firms, np.float64)
    for f in range(n_firms):
        if hosted[f] > 0:
            quality[f] = qsum[f] / hosted[f]
    return host_level, real, new_skill, hosted, quality, n_placed, n_real


@njit
def find_sorted(skey: np.ndarray, order: np.ndarray, school: np.ndarray, firm: np.ndarray) -> np.ndarray:
    """:meth:`sim.network.Ties.find` given the sorted tie keys and their order: tie index per pair, -1 if none."""
    out = np.full(school.size, -1, np.int64)
    n = skey.size
    if n == 0:
        return out
    for i in range(school.size):
        q = school[i] * _KEY + firm[i]
        pos = np.searchsorted(skey, q)
        if pos >= n:
            pos = n - 1
        if skey[pos] == q:
            out[i] = order[pos]
    return out


@njit
def mark_active(skey: np.ndarray, order: np.ndarray, school: np.ndarray, firm: np.ndarray, active: np.ndarray,
                last_active: np.ndarray, step: int) -> None:
    """Mark the ties of the (school, firm) pairs active at ``step`` (pairs without a tie are skipped)."""
    hit = find_sorted(skey, order, school, firm)
    for t in hit:
        if t >= 0:
            active[t] = True
            last_active[t] = step


@njit
def project_results(firm: np.ndarray, school: np.ndarray, value: np.ndarray, share: float, firm_sector: np.ndarray,
                    project_value_year: np.ndarray, lag: np.ndarray, refresh: float, extra_offers: np.ndarray) -> None:
    """Book succeeded projects in order, in place: the firm's value (``value * share``), the school's curriculum.

    Replaces ``np.add.at(project_value_year, firm, value * share)``, the loop
    ``lag[s, k] = max(0.0, lag[s, k] - refresh)`` and
    ``np.add.at(extra_offers, firm, 1)``.
    """
    for i in range(firm.size):
        f = firm[i]
        project_value_year[f] += value[i] * share
        k = firm_sector[f]
        x = lag[school[i], k] - refresh
        lag[school[i], k] = x if x > 0.0 else 0.0
        extra_offers[f] += 1


@njit
def add_placement_month(acc_output: np.ndarray, acc_cost: np.ndarray, hosted: np.ndarray, output: np.ndarray,
                        cost: np.ndarray) -> None:
    """``acc_output += hosted * output; acc_cost += hosted * cost``, in place, in one pass."""
    for f in range(hosted.size):
        h = float(hosted[f])
        acc_output[f] += h * output[f]
        acc_cost[f] += h * cost[f]


@njit
def split_book(firm: np.ndarray, school: np.ndarray, due: np.ndarray, success: np.ndarray, value: np.ndarray,
               clock: int) -> tuple:
    """Split the project book at the projects due (``due <= clock``), as :meth:`sim.projects.Projects.finish`.

    Replaces ``done = months_left <= 0`` and the selections by ``done &
    success`` and ``~done``. Returns ``(firm, school, value)`` of the due
    projects that succeeded, the book without the due ones (``firm, school,
    due, success, value``), the counts succeeded and failed, and the earliest
    due month among those kept (``2**62`` if none).
    """
    n = firm.size
    n_ok, n_fail = 0, 0
    for i in range(n):
        if due[i] <= clock:
            if success[i]:
                n_ok += 1
            else:
                n_fail += 1
    n_keep = n - n_ok - n_fail
    ok_f, ok_s, ok_v = np.empty(n_ok, np.int64), np.empty(n_ok, np.int64), np.empty(n_ok, np.float64)
    k_f, k_s, k_d = np.empty(n_keep, np.int64), np.empty(n_keep, np.int64), np.empty(n_keep, np.int64)
    k_ok, k_v = np.empty(n_keep, np.bool_), np.empty(n_keep, np.float64)
    a, b = 0, 0
    soonest = np.int64(1) << np.int64(62)
    for i in range(n):
        d = due[i]
        if d <= clock:
            if success[i]:
                ok_f[a], ok_s[a], ok_v[a] = firm[i], school[i], value[i]
                a += 1
        else:
            k_f[b], k_s[b], k_d[b], k_ok[b], k_v[b] = firm[i], school[i], d, success[i], value[i]
            b += 1
            if d < soonest:
                soonest = d
    return ok_f, ok_s, ok_v, k_f, k_s, k_d, k_ok, k_v, n_ok, n_fail, soonest

@njit
def starters(hit: np.ndarray, u: np.ndarray, prob: np.ndarray, strongest: np.ndarray, firm_sector: np.ndarray,
             has_cdf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """The firms with a bottleneck that start a project (``hit[u < prob[hit]]``) and their partner schools.

    Returns the starting firms, each one's strongest partner school
    (``strongest[firm]``, -1 if none) and sector, how many lack a partner and
    how many of those get a school drawn (those whose sector has a CDF).
    """
    n = hit.size
    go, school, sector = np.empty(n, np.int64), np.empty(n, np.int64), np.empty(n, np.int64)
    m, n_missing, n_draw = 0, 0, 0
    for i in range(n):
        f = hit[i]
        if u[i] < prob[f]:
            go[m], school[m], sector[m] = f, strongest[f], firm_sector[f]
            if school[m] < 0:
                n_missing += 1
                if has_cdf[sector[m]]:
                    n_draw += 1
            m += 1
    return go[:m], school[:m], sector[:m], n_missing, n_draw


@njit
def draw_schools(firm: np.ndarray, school: np.ndarray, sector: np.ndarray, has_cdf: np.ndarray, cdfs: np.ndarray,
                 u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Schools for firms without one, drawn from their sector's CDF; returns the firms and schools that have one.

    Where ``school < 0`` and the sector has a CDF the school is
    ``cdfs[sector].searchsorted(u[j], side="right")``, ``j`` counting such
    firms in order (as ``Generator.choice(n, p=...)`` draws); firms still
    without a school are dropped (``firm[school >= 0], school[school >= 0]``).
    """
    f_out, s_out = np.empty(firm.size, np.int64), np.empty(firm.size, np.int64)
    j, m = 0, 0
    for i in range(firm.size):
        s = school[i]
        k = sector[i]
        if s < 0 and has_cdf[k]:
            s = np.searchsorted(cdfs[k], u[j], side="right")
            j += 1
        if s >= 0:
            f_out[m], s_out[m] = firm[i], s
            m += 1
    return f_out[:m], s_out[:m]


@njit
def append_projects(firm0: np.ndarray, school0: np.ndarray, due0: np.ndarray, success0: np.ndarray,
                    value0: np.ndarray, firm: np.ndarray, school: np.ndarray, months: np.ndarray, clock: int,
                    u: np.ndarray, base: float, slope: float, equipment: np.ndarray, median_value: float,
                    shock: np.ndarray) -> tuple:
    """The project book with new projects appended (due at ``clock + months``), and the earliest new due month.

    A new project succeeds if ``u < base + slope * equipment[school]`` and is
    worth ``median_value * shock``: replaces those two array expressions and
    the five ``np.concatenate`` of the book's columns.
    """
    n0, n = firm0.size, firm.size
    f_out, s_out, m_out = np.empty(n0 + n, np.int64), np.empty(n0 + n, np.int64), np.empty(n0 + n, np.int64)
    ok_out, v_out = np.empty(n0 + n, np.bool_), np.empty(n0 + n, np.float64)
    f_out[:n0], s_out[:n0], m_out[:n0], ok_out[:n0], v_out[:n0] = firm0, school0, due0, success0, value0
    soonest = np.int64(1) << np.int64(62)
    for i in range(n):
        j = n0 + i
        f_out[j], s_out[j], m_out[j] = firm[i], school[i], clock + months[i]
        ok_out[j] = u[i] < base + slope * equipment[school[i]]
        v_out[j] = median_value * shock[i]
        if m_out[j] < soonest:
            soonest = m_out[j]
    return f_out, s_out, m_out, ok_out, v_out, soonest


@njit
def share_cdfs(shares_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per sector ``k`` the CDF of the schools' programme shares ``shares_t[k]`` (rows: sectors, C-contiguous).

    Where the shares sum to more than 0: ``p = w / w.sum(); cdf = p.cumsum();
    cdf /= cdf[-1]`` (numpy's pairwise sum, sequential cumsum); elsewhere
    ``has_cdf`` is False and the row is 0.
    """
    n_k, n_s = shares_t.shape
    cdfs = np.zeros((n_k, n_s), np.float64)
    has_cdf = np.zeros(n_k, np.bool_)
    for k in range(n_k):
        w = shares_t[k]
        total = pairwise_sum(w)
        if total > 0:
            has_cdf[k] = True
            acc = 0.0
            for i in range(n_s):
                acc += w[i] / total
                cdfs[k, i] = acc
            last = cdfs[k, n_s - 1]
            for i in range(n_s):
                cdfs[k, i] /= last
    return cdfs, has_cdf


@njit
def add_ties(skey: np.ndarray, order: np.ndarray, tie_school: np.ndarray, tie_firm: np.ndarray,
             tie_strength: np.ndarray, tie_active: np.ndarray, school: np.ndarray, firm: np.ndarray,
             strength: float) -> tuple:
    """:meth:`sim.network.Ties.add`: append the (school, firm) pairs not already tied, each once (first occurrence).

    New ties get ``strength`` and are inactive. Returns the four tie columns
    and the sorted keys with the tie index of each, kept up to date by a merge
    (the same as re-sorting stably: keys are unique).
    """
    n_old, n = tie_school.size, school.size
    key = np.empty(n, np.int64)
    for i in range(n):
        key[i] = school[i] * _KEY + firm[i]
    by_key = np.argsort(key, kind="mergesort")  # stable: the first of equal keys is the earliest
    keep = np.zeros(n, np.bool_)
    for r in range(n):
        i = by_key[r]
        if r > 0 and key[by_key[r - 1]] == key[i]:
            continue
        pos = np.searchsorted(skey, key[i])
        if pos < skey.size and skey[pos] == key[i]:
            continue
        keep[i] = True
    n_new = 0
    for i in range(n):
        n_new += keep[i]
    m = n_old + n_new
    s_out, f_out = np.empty(m, np.int64), np.empty(m, np.int64)
    st_out, act_out = np.empty(m, np.float64), np.zeros(m, np.bool_)
    s_out[:n_old], f_out[:n_old], st_out[:n_old], act_out[:n_old] = tie_school, tie_firm, tie_strength, tie_active
    j = n_old
    for i in range(n):
        if keep[i]:
            s_out[j], f_out[j], st_out[j] = school[i], firm[i], strength
            j += 1
    # merge the new keys (sorted, each with its new tie index) into the sorted old ones
    new_key, new_idx = np.empty(n_new, np.int64), np.empty(n_new, np.int64)
    c = 0
    for r in range(n):
        i = by_key[r]
        if keep[i]:
            new_key[c] = key[i]
            c += 1
    # tie index of each kept pair, in key order
    idx_of = np.empty(n, np.int64)
    j = n_old
    for i in range(n):
        if keep[i]:
            idx_of[i] = j
            j += 1
    c = 0
    for r in range(n):
        i = by_key[r]
        if keep[i]:
            new_idx[c] = idx_of[i]
            c += 1
    skey_out, order_out = np.empty(m, np.int64), np.empty(m, np.int64)
    a, b = 0, 0
    for r in range(m):
        if b >= n_new or (a < n_old and skey[a] < new_key[b]):
            skey_out[r], order_out[r] = skey[a], order[a]
            a += 1
        else:
            skey_out[r], order_out[r] = new_key[b], new_idx[b]
            b += 1
    return s_out, f_out, st_out, act_out, skey_out, order_out


@njit
def sector_quality(quality, shares, cohort_size, sector):
    """Intake-weighted mean of ``quality[school, sector]`` over the schools, read for each firm's sector.

    Replaces :meth:`sim.model.ConsortiumModel.expected_trainee_quality`'s
    ``weight = shares x cohort_size[:, None]``, ``(quality x weight).sum(axis=0) /
    np.maximum(weight.sum(axis=0), 1e-12)``, 1 where the weights sum to 0 or less,
    ``[sector]``, for C-contiguous (schools, sectors) arrays. numpy adds such an
    axis-0 sum school by school, except with a single sector, where the column
    is one contiguous vector and its sum pairwise (:func:`sim.jit.pairwise_sum`).
    """
    n_schools, n_sectors = quality.shape
    weighted = np.zeros(n_sectors)
    total = np.zeros(n_sectors)
    column_qw = np.empty(n_schools)
    column_w = np.empty(n_schools)
    for r in range(n_schools):
        for c in range(n_sectors):
            w = shares[r, c] * cohort_size[r]
            x = quality[r, c] * w
            if r == 0:
                weighted[c] = x
                total[c] = w
            else:
                weighted[c] += x
                total[c] += w
            if n_sectors == 1:
                column_qw[r] = x
                column_w[r] = w
    if n_sectors == 1:
        weighted[0] = pairwise_sum(column_qw)
        total[0] = pairwise_sum(column_w)
    by_sector = np.empty(n_sectors)
    for c in range(n_sectors):
        by_sector[c] = 1.0 if total[c] <= 0 else weighted[c] / maximum(total[c], 1e-12)
    out = np.empty(sector.size)
    for i in range(sector.size):
        out[i] = by_sector[sector[i]]
    return out


@njit
def round_flows(hosted: np.ndarray, engagement: np.ndarray, production_motive: np.ndarray, wage: np.ndarray,
                productivity: np.ndarray, realised_productivity: np.ndarray, host_quality: np.ndarray,
                belief_productivity: np.ndarray, acc_cost: np.ndarray, prep_quality: np.ndarray, shares: np.ndarray,
                cohort_size: np.ndarray, firm_sector: np.ndarray, months: int, productivity_start: float,
                productivity_gain: float, task_share: float, skilled_wage_ratio: float, nonwage_share: float,
                upfront: float, mentor_days: np.ndarray, mentor_wage_ratio: float, trainees_per_mentor: float,
                pay_floor: float, equipment_per_month: float, weeks_per_month: float,
                workdays_per_month: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The money side of the placement round, per firm, in one pass (``ConsortiumModel._placement_round``).

    Replaces, bit for bit: ``expected_trainee_quality()`` (the intake-weighted
    mean of ``prep_quality`` over the schools, by the firm's sector:
    :func:`sector_quality`); ``placement_net_benefit(...)[0]``
    (``monthly_output`` at ``productivity`` and that quality, summed over the
    months row by row); ``predicted_output = where(hosted > 0, out * hosted *
    belief_productivity, 0)``; ``acc_cost += hosted * upfront``; and the
    placement months' flows: ``monthly_output`` at ``realised_productivity``
    and ``host_quality`` (months x firms) and ``monthly_cost`` (per firm).
    Returns ``(predicted_output, output, cost)``; ``acc_cost`` is updated in place.
    """
    quality = sector_quality(prep_quality, shares, cohort_size, firm_sector)
    n = hosted.size
    ramp = np.empty(months)
    for m in range(months):
        ramp[m] = productivity_start + productivity_gain * float(m)
    predicted = np.empty(n)
    output = np.empty((months, n))
    cost = np.empty(n)
    for f in range(n):
        lvl = engagement[f]
        s = task_share + (0.10 if production_motive[f] else -0.10) - (0.05 if lvl == 2 else 0.0)
        ts = minimum(maximum(s, 0.05), 0.98)
        slc = wage[f] * skilled_wage_ratio * (1.0 + nonwage_share)
        inner = ts * slc * productivity[f]
        q = quality[f]
        out = 0.0
        for m in range(months):
            x = minimum(0.95, ramp[m] * q) * inner
            out = x if m == 0 else out + x
        h = hosted[f]
        predicted[f] = out * h * belief_productivity[f] if h > 0 else 0.0
        acc_cost[f] += h * upfront
        inner_r = ts * slc * realised_productivity[f]
        for m in range(months):
            output[m, f] = minimum(0.95, ramp[m] * host_quality[f]) * inner_r
        mentor_daily = wage[f] * mentor_wage_ratio * (1.0 + nonwage_share) / workdays_per_month
        mentor = mentor_days[lvl] * weeks_per_month * mentor_daily / trainees_per_mentor
        cost[f] = pay_floor * wage[f] + mentor + equipment_per_month
    return predicted, output, cost


@njit
def tie_partners(order: np.ndarray, tie_school: np.ndarray, tie_firm: np.ndarray, tie_strength: np.ndarray,
                 n_firms: int, strong_from: float) -> tuple[np.ndarray, np.ndarray]:
    """Per firm: has it a tie of strength >= ``strong_from``, and its strongest partner school (-1 if none).

    Replaces ``strong[tie_firm[tie_strength >= strong_from]] = True`` and
    ``best[tie_firm[order]] = tie_school[order]`` (later entries overwrite
    earlier ones), where ``order = np.argsort(tie_strength)`` is computed by
    the caller with numpy (its order among equal strengths decides).
    """
    strong = np.zeros(n_firms, np.bool_)
    best = np.full(n_firms, -1, np.int64)
    for t in range(tie_firm.size):
        if tie_strength[t] >= strong_from:
            strong[tie_firm[t]] = True
    for i in range(order.size):
        t = order[i]
        best[tie_firm[t]] = tie_school[t]
    return strong, best


@njit
def finish_in_place(firm: np.ndarray, school: np.ndarray, due: np.ndarray, success: np.ndarray, value: np.ndarray,
                    n: int, clock: int, share: float, firm_sector: np.ndarray, project_value_year: np.ndarray,
                    lag: np.ndarray, refresh: float, extra_offers: np.ndarray, skey: np.ndarray, order: np.ndarray,
                    active: np.ndarray, last_active: np.ndarray, step: int) -> tuple[int, int, int, int]:
    """:func:`split_book` on the first ``n`` projects, in place, then :func:`project_results` and :func:`mark_active`.

    The book's columns are buffers whose first ``n`` entries are the
    projects: the due ones (``due <= clock``) are removed, keeping the order
    of the rest; each due success books the firm's share of its value and the
    school's curriculum refresh (in book order, as ``project_results``) and
    marks its tie active at ``step``. Returns the projects kept, the counts
    succeeded and failed and the earliest due month kept (``2**62`` if none).
    """
    soonest = np.int64(1) << np.int64(62)
    kept, n_ok, n_fail = 0, 0, 0
    for i in range(n):
        d = due[i]
        if d <= clock:
            if success[i]:
                n_ok += 1
                f, sc = firm[i], school[i]
                project_value_year[f] += value[i] * share
                k = firm_sector[f]
                x = lag[sc, k] - refresh
                lag[sc, k] = x if x > 0.0 else 0.0
                extra_offers[f] += 1
                if skey.size:
                    q = sc * _KEY + f
                    pos = np.searchsorted(skey, q)
                    if pos < skey.size and skey[pos] == q:
                        active[order[pos]] = True
                        last_active[order[pos]] = step
            else:
                n_fail += 1
        else:
            firm[kept], school[kept], due[kept], success[kept], value[kept] = firm[i], school[i], d, success[i], value[i]
            kept += 1
            if d < soonest:
                soonest = d
    return kept, n_ok, n_fail, soonest


@njit
def start_in_place(firm: np.ndarray, school: np.ndarray, due: np.ndarray, success: np.ndarray, value: np.ndarray,
                   n: int, go: np.ndarray, go_school: np.ndarray, sector: np.ndarray, has_cdf: np.ndarray,
                   cdfs: np.ndarray, u: np.ndarray, n_draw: int, months: np.ndarray, clock: int, base: float,
                   slope: float, equipment: np.ndarray, median_value: float, shock: np.ndarray) -> tuple[int, int]:
    """:func:`draw_schools` with ``u[:n_draw]``, then :func:`append_projects` with ``u[n_draw:]``, in place.

    The new projects are written after the first ``n`` entries of the book's
    column buffers (the caller makes room). Returns how many started and the
    earliest new due month (``2**62`` if none).
    """
    f, s = draw_schools(go, go_school, sector, has_cdf, cdfs, u[:n_draw])
    soonest = np.int64(1) << np.int64(62)
    for i in range(f.size):
        j = n + i
        firm[j], school[j], due[j] = f[i], s[i], clock + months[i]
        success[j] = u[n_draw + i] < base + slope * equipment[s[i]]
        value[j] = median_value * shock[i]
        if due[j] < soonest:
            soonest = due[j]
    return f.size, soonest


@njit
def ties_pass(need_flat: np.ndarray, left: np.ndarray, tie_school: np.ndarray, tie_firm: np.ndarray,
              tie_strength: np.ndarray, u: np.ndarray, reach: float, firm_sector: np.ndarray, n_k: int) -> tuple:
    """:func:`along_ties` with the tiebreaks ``u[:ties]``, then :func:`search_sizes` with the rest of ``u``.

    Returns ``(school, firm, students)`` of pass 1 and the searching firms and
    the sizes per sector of pass 2's permutations.
    """
    n_t = tie_school.size
    s1, f1, m1 = along_ties(need_flat, left, tie_school, tie_firm, tie_strength, u[:n_t], firm_sector, n_k)
    searching, n_firms, n_schools = search_sizes(need_flat, left, u[n_t:], reach, firm_sector, n_k)
    return s1, f1, m1, searching, n_firms, n_schools


@njit
def search_pass(need_flat: np.ndarray, left: np.ndarray, searching: np.ndarray, firm_sector: np.ndarray, n_k: int,
                perms: np.ndarray, s1: np.ndarray, f1: np.ndarray, m1: np.ndarray) -> tuple:
    """:func:`search_match`, its matches appended to pass 1's ``(s1, f1, m1)``; also its ``(school, firm)`` rows."""
    s2, f2, m2 = search_match(need_flat, left, searching, firm_sector, n_k, perms)
    n1, n2 = s1.size, s2.size
    school, firm, students = np.empty(n1 + n2, np.int64), np.empty(n1 + n2, np.int64), np.empty(n1 + n2, np.int64)
    school[:n1], firm[:n1], students[:n1] = s1, f1, m1
    school[n1:], firm[n1:], students[n1:] = s2, f2, m2
    new = np.empty((n2, 2), np.int64)
    for i in range(n2):
        new[i, 0], new[i, 1] = s2[i], f2[i]
    return school, firm, students, new


@njit
def preparation_quality(tier_skill: np.ndarray, equipment: np.ndarray, effort: np.ndarray,
                        lag: np.ndarray) -> np.ndarray:
    """:func:`sim.schools.preparation_quality` by school and sector, in the same order of operations.

    ``clip(max(0.75 + tier_skill + 0.2 equipment + 0.1 effort - 0.04 lag, 0.2) / 0.85, 0.5, 1.4)``.
    """
    n_s, n_k = lag.shape
    out = np.empty((n_s, n_k))
    for s in range(n_s):
        base = 0.75 + tier_skill[s] + 0.2 * equipment[s] + 0.1 * effort[s]
        for k in range(n_k):
            x = maximum(base - 0.04 * lag[s, k], 0.2) / 0.85
            out[s, k] = minimum(maximum(x, 0.5), 1.4)
    return out


@njit
def settle_round(alloc_school: np.ndarray, alloc_firm: np.ndarray, alloc_students: np.ndarray, school: np.ndarray,
                 sector: np.ndarray, skill: np.ndarray, u: np.ndarray, n_k: int, firm_sector: np.ndarray,
                 engagement: np.ndarray, mentor_days: np.ndarray, tier_skill: np.ndarray, equipment: np.ndarray,
                 effort: np.ndarray, lag: np.ndarray, production_motive: np.ndarray, gain_real: float,
                 gain_odd: float, odd_job_output: float, wage: np.ndarray, productivity: np.ndarray,
                 realised_productivity: np.ndarray, belief_productivity: np.ndarray, acc_cost: np.ndarray,
                 shares: np.ndarray, cohort_size: np.ndarray, terms: np.ndarray, months: int, skey: np.ndarray,
                 order: np.ndarray, active: np.ndarray, last_active: np.ndarray, step: int) -> tuple:
    """The placement round after the match, in one call (``ConsortiumModel._placement_round``).

    :func:`assign_students`, :func:`preparation_quality`,
    :func:`placement_outcomes`, :func:`round_flows` and :func:`mark_active`
    of the allocations' ties, in that order. ``terms`` holds the slot terms
    ``round_flows`` reads: productivity start and gain, task share, skilled
    wage ratio, non-wage share, upfront cost, mentor wage ratio, trainees per
    mentor, pay floor, equipment per month, weeks and workdays per month.
    Returns ``(host, host_level, real_training, skill, hosted, host_quality,
    predicted_output, output, cost, placed, real)``.
    """
    n_firms = firm_sector.size
    host = assign_students(alloc_school, alloc_firm, alloc_students, school, sector, firm_sector, n_k)
    prep = preparation_quality(tier_skill, equipment, effort, lag)
    host_level, real, new_skill, hosted, quality, n_placed, n_real = placement_outcomes(
        host, school, sector, skill, u, engagement, mentor_days, equipment, lag, production_motive, effort, prep,
        gain_real, gain_odd, odd_job_output, n_firms)
    predicted, output, cost = round_flows(
        hosted, engagement, production_motive, wage, productivity, realised_productivity, quality,
        belief_productivity, acc_cost, prep, shares, cohort_size, firm_sector, months, terms[0], terms[1], terms[2],
        terms[3], terms[4], terms[5], mentor_days, terms[6], terms[7], terms[8], terms[9], terms[10], terms[11])
    if skey.size:
        mark_active(skey, order, alloc_school, alloc_firm, active, last_active, step)
    return host, host_level, real, new_skill, hosted, quality, predicted, output, cost, n_placed, n_real
