"""Kernels of the September updates, the beliefs and the monthly indicators (bit-identical to the numpy code).

Every September the schools update equipment, effort, programme mix and
curricula, the study years move up, the final year is expanded into students,
firms' beliefs learn from own and neighbours' outcomes and schools search for
new partners; every month the indicators are recomputed. On 20 schools x 6
sectors, ~250 ties and ~300 firms each of these was a chain of a dozen or more
small numpy calls (or a Python loop) whose per-call overhead was the cost;
here each chain is one compiled pass (rules in :mod:`sim.jit`). Work that
saved less per run than a kernel costs to load per process (~3-20 ms each:
tie decay, vacancies, the network build) stayed in numpy.

No kernel draws random numbers (the caller draws them with the model's
generator, in the same sizes and order, and passes them in) or computes a
transcendental function (``sqrt`` is exact). Float sums over arrays are
:func:`sim.jit.pairwise_sum` where numpy sums pairwise; ``bincount``/``add.at``
and sparse matrix-vector products accumulate sequentially, as here. The numpy
formulations each kernel replaces are in tests/test_kernels_yearly.py.
"""

from __future__ import annotations

import numpy as np

from sim.jit import clip, maximum, minimum, njit, pairwise_sum


# ---------------------------------------------------------------- schools
@njit
def school_year(tie_school: np.ndarray, tie_firm: np.ndarray, tie_active: np.ndarray, engagement: np.ndarray,
                firm_sector: np.ndarray, employees: np.ndarray, tier_skill: np.ndarray, equipment: np.ndarray,
                shares: np.ndarray, lag: np.ndarray, per_school: float, entity_weight: float, base_effort: float,
                evaluation: float, rate: float, cowrite: float, frontier_speed: float,
                own_rate: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool, np.ndarray, np.ndarray]:
    """The schools' September: equipment, effort, programme mix, curricula and final-year base skill.

    Returns new ``(equipment, effort, shares, adjusted, lag, base_skill)``;
    ``shares`` is the input array when ``adjusted`` is False (no demand or no
    schools). Replaces, in ``ConsortiumModel._start_year``::

        deep = zeros((n_s, k)); add.at(deep, (tie_school, firm_sector[tie_firm]), 1.0)  # deep-engaged (2) partners only
        equipment = clip(equipment * 0.95 + 0.05 * clip(per_school / 1e6, 0, 1)
                         + entity_weight * minimum(deep.sum(axis=1), 3), 0, 1)
        active = zeros(n_s); maximum.at(active, tie_school, tie_active.astype(float))
        schools.update_effort(...)                  # clip(base + evaluation + 0.1 funding + 0.05 active, 0, 1)
        demand = bincount(firm_sector, weights=employees, minlength=k)
        if demand.sum() > 0 and n_s: schools.adjust_programmes(ss, demand / demand.sum(), rate)
        cowriting = cowrite * minimum(deep, 2) / 2.0  # cowrite = cowriting rate x curriculum voice
        schools.update_curriculum(ss, frontier_speed, own_rate, cowriting)
        schools.trainee_base_skill(ss)              # tier_skill = TIER_SKILL[tier]
    """
    n_s, n_k = shares.shape
    n_f = firm_sector.size
    if tie_firm.size != tie_school.size or tie_active.size != tie_school.size or engagement.size != n_f \
            or employees.size != n_f:
        raise ValueError("tie arrays and firm arrays must be the same size")
    for f in range(n_f):
        if firm_sector[f] < 0 or firm_sector[f] >= n_k:
            raise ValueError("firm sector out of range")
    for i in range(tie_school.size):
        if tie_school[i] < 0 or tie_school[i] >= n_s or tie_firm[i] < 0 or tie_firm[i] >= n_f:
            raise ValueError("tie school or firm out of range")
    deep = np.zeros((n_s, n_k))
    active = np.zeros(n_s)
    for i in range(tie_school.size):
        s, f = tie_school[i], tie_firm[i]
        if engagement[f] == 2:
            deep[s, firm_sector[f]] += 1.0
        a = 1.0 if tie_active[i] else 0.0
        if not active[s] >= a:  # np.maximum.at
            active[s] = a
    equipment_push = 0.05 * clip(per_school / 1_000_000.0, 0.0, 1.0)
    funding = clip(per_school / 2_000_000.0, 0.0, 1.0)
    effort_base = base_effort + evaluation + 0.1 * funding
    new_equipment = np.empty(n_s)
    effort = np.empty(n_s)
    for s in range(n_s):
        n_deep = pairwise_sum(deep[s])
        new_equipment[s] = clip(equipment[s] * 0.95 + equipment_push + entity_weight * minimum(n_deep, 3.0), 0.0, 1.0)
        effort[s] = clip(effort_base + 0.05 * active[s], 0.0, 1.0)
    # programme mix toward local demand
    demand = np.zeros(n_k)
    for f in range(firm_sector.size):
        demand[firm_sector[f]] += employees[f]
    total = pairwise_sum(demand)
    adjusted = total > 0 and n_s > 0
    new_shares = shares
    if adjusted:
        new_shares = np.empty((n_s, n_k))
        keep = 1.0 - rate
        for s in range(n_s):
            for k in range(n_k):
                new_shares[s, k] = keep * shares[s, k] + rate * (demand[k] / total)
            row_sum = pairwise_sum(new_shares[s])
            for k in range(n_k):
                new_shares[s, k] = new_shares[s, k] / row_sum
    # curricula, then the base skill of the year's final-year students
    new_lag = np.empty((n_s, n_k))
    base_skill = np.empty((n_s, n_k))
    for s in range(n_s):
        base = 0.75 + tier_skill[s] + 0.2 * new_equipment[s] + 0.1 * effort[s]
        for k in range(n_k):
            close = clip(own_rate * effort[s] + cowrite * minimum(deep[s, k], 2.0) / 2.0, 0.0, 0.95)
            new_lag[s, k] = (lag[s, k] + frontier_speed) * (1.0 - close)
            base_skill[s, k] = maximum(base - 0.04 * new_lag[s, k], 0.2)
    return new_equipment, effort, new_shares, adjusted, new_lag, base_skill


# ---------------------------------------------------------------- students
@njit
def remainder_rows(totals: np.ndarray, shares: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = largest_remainder(totals[i], shares[i])`` for every row (see :func:`sim.students.largest_remainder_rows`).

    Each row: shares clipped at 0, ``raw = shares / shares.sum() * total``,
    ``floor(raw)``, then one more for the ``total - sum(floor)`` elements with
    the largest remainders ``raw - floor(raw)`` (ties to the lower index, as
    numpy's stable argsort of ``-(raw - floor)``); rows with ``total <= 0`` or
    no positive share are zeros.
    """
    n_s, n_k = shares.shape
    row = np.empty(n_k)
    raw = np.empty(n_k)
    rem = np.empty(n_k)
    for s in range(n_s):
        for k in range(n_k):
            row[k] = maximum(shares[s, k], 0.0)
        total = totals[s]
        row_sum = pairwise_sum(row)
        if not (total > 0 and row_sum > 0):
            for k in range(n_k):
                out[s, k] = 0
            continue
        given = 0
        for k in range(n_k):
            raw[k] = row[k] / row_sum * total
            b = np.int64(np.floor(raw[k]))
            out[s, k] = b
            given += b
            rem[k] = -(raw[k] - b)
        rest = total - given
        if rest <= 0:
            continue
        for k in range(n_k):  # rank of element k in the stable ascending order of rem
            rank = 0
            for j in range(n_k):
                if rem[j] < rem[k] or (rem[j] == rem[k] and j < k):
                    rank += 1
            if rank < rest:
                out[s, k] += 1


@njit
def advance_counts(counts: np.ndarray, totals: np.ndarray, shares: np.ndarray) -> int:
    """Move every study year up and fill the first with the intake; returns the intake (-1: final year not empty).

    Replaces ``Enrolment.advance``'s ``counts[:, :, -1].any()`` check,
    ``counts[:, :, 1:] = counts[:, :, :-1].copy()``,
    ``counts[:, :, 0] = largest_remainder_rows(totals, shares)`` and
    ``counts[:, :, 0].sum()``.
    """
    n_s, n_k, n_y = counts.shape
    for s in range(n_s):
        for k in range(n_k):
            if counts[s, k, n_y - 1] != 0:
                return -1
    for s in range(n_s):
        for k in range(n_k):
            for y in range(n_y - 1, 0, -1):
                counts[s, k, y] = counts[s, k, y - 1]
    intake = np.empty((n_s, n_k), dtype=np.int64)
    remainder_rows(totals, shares, intake)
    entered = 0
    for s in range(n_s):
        for k in range(n_k):
            counts[s, k, 0] = intake[s, k]
            entered += intake[s, k]
    return entered


@njit
def expand_students(counts: np.ndarray, base_skill: np.ndarray,
                    noise: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One element per student of ``counts[school, sector]``: school, sector, ``max(base_skill + noise, 0)``.

    Replaces ``FinalYear.from_counts``'s ``idx = repeat(arange(counts.size),
    counts.ravel())``, ``idx // n_k``, ``idx % n_k`` and
    ``clip(base_skill[school, sector] + noise, 0, None)``; ``noise`` has
    ``counts.sum()`` elements, in that order.
    """
    n_s, n_k = counts.shape
    n = noise.size
    total = 0
    for s in range(n_s):
        for k in range(n_k):
            if counts[s, k] < 0:
                raise ValueError("counts must be non-negative")
            total += counts[s, k]
    if total != n:
        raise ValueError("noise must have counts.sum() elements")
    school = np.empty(n, dtype=np.int64)
    sector = np.empty(n, dtype=np.int64)
    skill = np.empty(n)
    i = 0
    for s in range(n_s):
        for k in range(n_k):
            for _ in range(counts[s, k]):
                school[i] = s
                sector[i] = k
                skill[i] = maximum(base_skill[s, k] + noise[i], 0.0)
                i += 1
    return school, sector, skill


# ---------------------------------------------------------------- beliefs
@njit
def _learnt(belief: float, own_v: float, has_own: bool, nb_sum: float, nb_n: float, lam: float,
            omega: float) -> float:
    """One firm's belief after ``ConsortiumModel._update_beliefs``' ``learn`` (adaptive expectations).

    The target mixes the firm's own outcome ``own_v`` with its neighbours'
    mean ``nb_sum / nb_n`` (weight ``omega``), from whichever exists, else
    keeps the belief; the belief moves a share ``lam`` toward it.
    """
    has_nb = nb_n > 0
    nb = nb_sum / nb_n if has_nb else 0.0
    if has_own and has_nb:
        target = (1 - omega) * own_v + omega * nb
    elif has_own:
        target = own_v
    elif has_nb:
        target = nb
    else:
        target = belief
    return (1 - lam) * belief + lam * target


@njit
def update_beliefs(indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, lam: float, omega: float,
                   hosted: np.ndarray, acc_output: np.ndarray, predicted_output: np.ndarray,
                   belief_productivity: np.ndarray, learn_retention: bool, retention_ratio: np.ndarray,
                   has_retention: np.ndarray, belief_retention: np.ndarray, belief_paid: np.ndarray, paid: float,
                   project_value: np.ndarray, engagement: np.ndarray, belief_projects: np.ndarray,
                   realised_net: np.ndarray, goodwill: np.ndarray, goodwill_keep: float) -> tuple:
    """The September belief update of ``ConsortiumModel._update_beliefs``, one pass over the firm network.

    Returns new ``(belief_productivity, belief_retention, belief_paid,
    belief_projects, goodwill)``; ``belief_retention`` is the input array when
    ``learn_retention`` is False. Replaces::

        def learn(belief, own, has_own):
            own_v = where(has_own, own, 0.0)
            nb_sum, nb_n = A @ own_v, A @ has_own.astype(float)   # scipy CSR products: a sequential sum per row
            nb = divide(nb_sum, nb_n, out=zeros(n), where=nb_n > 0)
            target = where(has_own & (nb_n > 0), (1 - omega) * own_v + omega * nb,
                           where(has_own, own_v, where(nb_n > 0, nb, belief)))
            return (1 - lam) * belief + lam * target

        ratio = divide(acc_output, predicted_output, out=ones(n), where=predicted_output > 0)
        belief_productivity = clip(learn(belief_productivity, ratio, hosted > 0), 0.2, 3.0)
        belief_retention = clip(learn(belief_retention, retention_ratio, has_retention), 0.1, 3.0)
        belief_paid = (1 - lam) * belief_paid + lam * paid
        belief_projects = maximum(learn(belief_projects, project_value, engagement == 2), 0.0)
        returns = (nan_to_num(realised_net, nan=-1.0) >= 0) | (project_value > 0)
        goodwill = where(returns, goodwill, goodwill * goodwill_keep)   # goodwill_keep = 1 - decay

    The three products' row sums are accumulated side by side, each in its own order.
    """
    n = hosted.size
    # own outcome (0 where none) and whether there is one, per belief: productivity, retention, projects
    own = np.zeros((n, 3))
    has = np.zeros((n, 3))
    for i in range(n):
        if hosted[i] > 0:
            own[i, 0] = acc_output[i] / predicted_output[i] if predicted_output[i] > 0 else 1.0
            has[i, 0] = 1.0
        if learn_retention and has_retention[i]:
            own[i, 1] = retention_ratio[i]
            has[i, 1] = 1.0
        if engagement[i] == 2:
            own[i, 2] = project_value[i]
            has[i, 2] = 1.0
    productivity = np.empty(n)
    retention = np.empty(n) if learn_retention else belief_retention
    projects = np.empty(n)
    new_goodwill = np.empty(n)
    for i in range(n):
        s0 = s1 = s2 = 0.0
        c0 = c1 = c2 = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            j, d = indices[jj], data[jj]
            s0 += d * own[j, 0]
            c0 += d * has[j, 0]
            s1 += d * own[j, 1]
            c1 += d * has[j, 1]
            s2 += d * own[j, 2]
            c2 += d * has[j, 2]
        productivity[i] = clip(_learnt(belief_productivity[i], own[i, 0], has[i, 0] > 0, s0, c0, lam, omega),
                                0.2, 3.0)
        if learn_retention:
            retention[i] = clip(_learnt(belief_retention[i], own[i, 1], has[i, 1] > 0, s1, c1, lam, omega), 0.1, 3.0)
        projects[i] = maximum(_learnt(belief_projects[i], own[i, 2], has[i, 2] > 0, s2, c2, lam, omega), 0.0)
        r = realised_net[i]
        returns = (r >= 0 and r == r) or project_value[i] > 0
        new_goodwill[i] = goodwill[i] if returns else goodwill[i] * goodwill_keep
    paid_belief = np.empty(belief_paid.size)
    for i in range(belief_paid.size):
        paid_belief[i] = (1 - lam) * belief_paid[i] + lam * paid
    return productivity, retention, paid_belief, projects, new_goodwill


# ---------------------------------------------------------------- ties
@njit
def search_partners(searching: np.ndarray, shares: np.ndarray, u: np.ndarray, firm_sector: np.ndarray,
                    engagement: np.ndarray, employees: np.ndarray) -> np.ndarray:
    """The firm each searching school finds, given two uniforms per school (every sector has firms).

    School ``searching[i]`` draws a sector with ``u[2 i]`` from its programme mix
    and then a firm of that sector with ``u[2 i + 1]``, weighted by
    ``(1 + 2 engagement) sqrt(employees)``: the draws of
    ``Generator.choice(p=w / w.sum())``, i.e. a right-side binary search of the
    uniform in ``cumsum(w / w.sum())`` divided by its last element. Replaces the
    loop in ``ConsortiumModel._update_ties`` for the case every sector has firms.
    """
    n_k = shares.shape[1]
    n_f = firm_sector.size
    if u.size != 2 * searching.size or engagement.size != n_f or employees.size != n_f:
        raise ValueError("two uniforms per search and one engagement and size per firm")
    for f in range(n_f):
        if firm_sector[f] < 0 or firm_sector[f] >= n_k:
            raise ValueError("firm sector out of range")
    # firms grouped by sector, in increasing index order within each (a stable counting sort)
    start = np.zeros(n_k + 1, dtype=np.int64)
    for f in range(n_f):
        start[firm_sector[f] + 1] += 1
    for k in range(n_k):
        start[k + 1] += start[k]
    fill = start[:n_k].copy()
    members = np.empty(n_f, dtype=np.int64)
    for f in range(n_f):
        k = firm_sector[f]
        members[fill[k]] = f
        fill[k] += 1
    cdf = np.empty(n_f)
    ready = np.zeros(n_k, dtype=np.bool_)
    sector_cdf = np.empty(n_k)
    out = np.empty(searching.size, dtype=np.int64)
    for i in range(searching.size):
        s = searching[i]
        if s < 0 or s >= shares.shape[0]:
            raise ValueError("searching school out of range")
        acc = 0.0
        for k in range(n_k):
            acc += shares[s, k]
            sector_cdf[k] = acc
        last = sector_cdf[n_k - 1]
        x = u[2 * i]
        k = 0
        while k < n_k and sector_cdf[k] / last <= x:
            k += 1
        if k == n_k or start[k] == start[k + 1]:
            raise ValueError("every sector drawn must have firms")
        lo, hi = start[k], start[k + 1]
        if not ready[k]:
            w = np.empty(hi - lo)
            for j in range(lo, hi):
                f = members[j]
                w[j - lo] = (1.0 + 2.0 * engagement[f]) * np.sqrt(employees[f])
            w_sum = pairwise_sum(w)
            acc = 0.0
            for j in range(lo, hi):
                acc += w[j - lo] / w_sum
                cdf[j] = acc
            for j in range(lo, hi):
                cdf[j] = cdf[j] / acc
            ready[k] = True
        x = u[2 * i + 1]
        j = lo
        while j < hi and cdf[j] <= x:
            j += 1
        out[i] = members[j]
    return out


# ---------------------------------------------------------------- indicators
@njit
def indicator_month(lag: np.ndarray, weight: np.ndarray, last_active: np.ndarray, steps: int,
                    months: int) -> tuple[float, int]:
    """``((lag * weight).sum(), (steps - last_active < months).sum())`` for the monthly indicators."""
    prod = np.empty(lag.size)
    flat_lag, flat_w = lag.ravel(), weight.ravel()
    for i in range(lag.size):
        prod[i] = flat_lag[i] * flat_w[i]
    n_active = 0
    for i in range(last_active.size):
        if steps - last_active[i] < months:
            n_active += 1
    return pairwise_sum(prod), n_active
