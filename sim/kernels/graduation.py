"""Kernels of the June graduation: credentials, offers, acceptance, the open-market fill, the cohort one year out.

Design note
-----------
Each kernel replaces a chain of numpy calls in
:meth:`sim.model.ConsortiumModel._hire_graduates` or
:meth:`~sim.model.ConsortiumModel._measure_one_year_out` over the ~5,000
graduates of a cohort and the city's firms, with the same bits (rules in
:mod:`sim.jit`): only comparisons, integer counts and the elementwise ``+ - *
/`` of the code they replace, in its order. No kernel draws random numbers or
evaluates a transcendental function: the model draws with its numpy generator,
and the wage and probability formulas of :mod:`sim.labour_market` run in numpy;
their results are passed in. Sorting stays numpy's too
(:func:`sim.sorting.argsort_stable`): a kernel walks a given order, so "the
first ``k`` of each group in that order" needs no per-group rank.

Every kernel is O(number of graduates + number of firms). The loops over
graduates are written without data-dependent branches (a flag is added to a
count, an index is always written and advanced by the flag): the conditions are
coin flips, and mispredicted branches cost more than the work (4x on the
visible-seekers loop).
"""

from __future__ import annotations

import numpy as np

from sim.jit import njit

#: ``policy.credential.mode`` as the integer code :func:`credentials` takes
CREDENTIAL_MODE = {"none": 0, "portable": 1, "employer_ladder": 2}


@njit
def credentials(mode: int, skill: np.ndarray, host: np.ndarray, host_level: np.ndarray, on_ladder: np.ndarray,
                threshold: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Who earns a credential, the certified share of trainees by host level, and how many were hosted.

    Returns ``(credential, share, n_hosted)``. ``credential`` is ``skill >=
    threshold`` (mode 1, portable), ``hosted & on_ladder[host] & (skill >=
    threshold)`` (mode 2, employer ladder) or all False (mode 0). ``share[0]``
    is ``credential[hosted].mean()`` (0 if nobody was hosted), ``share[l]`` the
    mean over trainees hosted at level ``l`` (1, 2), or ``share[0]`` where there
    were none: the means of the model's numpy code, as count / count.
    """
    n = skill.size
    cred = np.zeros(n, dtype=np.bool_)
    n_hosted = n_cred = n_hosted_1 = n_cred_1 = n_hosted_2 = n_cred_2 = 0
    ladder = mode == 2 and on_ladder.size > 0
    for i in range(n):
        h = host[i]
        hosted = h >= 0
        c = False
        if mode == 1:
            c = skill[i] >= threshold
        elif ladder:
            c = hosted & on_ladder[max(h, 0)] & (skill[i] >= threshold)
        cred[i] = c
        at_1 = hosted & (host_level[i] == 1)
        at_2 = hosted & (host_level[i] == 2)
        n_hosted += hosted
        n_cred += c & hosted
        n_hosted_1 += at_1
        n_cred_1 += c & at_1
        n_hosted_2 += at_2
        n_cred_2 += c & at_2
    share = np.zeros(3)
    if n_hosted > 0:
        share[:] = n_cred / n_hosted
    if n_hosted_1 > 0:
        share[1] = n_cred_1 / n_hosted_1
    if n_hosted_2 > 0:
        share[2] = n_cred_2 / n_hosted_2
    return cred, share, n_hosted


@njit
def offer_candidates(host: np.ndarray, u_want: np.ndarray, production_motive: np.ndarray, rate_production: float,
                     rate_investment: float, skill: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trainees whose host wants to offer them a job, and their sort key: ``(cand, -skill[cand])``.

    Replaces ``rate = where(production_motive, rate_production,
    rate_investment); cand = ((host >= 0) & (u_want < rate[host])).nonzero()[0]``.
    """
    n = host.size
    cand = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n if production_motive.size else 0):  # without firms nobody was hosted
        h = host[i]
        rate = rate_production if production_motive[max(h, 0)] else rate_investment
        cand[m] = i
        m += (h >= 0) & (u_want[i] < rate)
    cand = cand[:m]
    key = np.empty(m)
    for k in range(m):
        key[k] = -skill[cand[k]]
    return cand, key


@njit
def offers(cand: np.ndarray, order: np.ndarray, host: np.ndarray, vacancies: np.ndarray, n: int) -> np.ndarray:
    """Each host offers jobs to its first candidates in ``order``, up to its vacancies: the offered graduates, ascending.

    With ``order`` the stable sort of the candidates by ``-skill``, replaces
    ``cand = cand[lexsort((-skill[cand], host[cand]))]``, the rank of each
    within its host, and ``offered[cand[rank < vacancies[host[cand]]]] = True;
    offered.nonzero()[0]`` (the rank of a candidate is the number of its
    host's candidates before it, so the first ``vacancies`` are offered).
    """
    offered = np.zeros(n, dtype=np.bool_)
    made = np.zeros(vacancies.size, dtype=np.int64)
    for k in order:
        i = cand[k]
        h = host[i]
        ok = made[h] < vacancies[h]
        offered[i] = ok
        made[h] += ok
    out = np.empty(cand.size + 1, dtype=np.int64)  # every index is written: one slot past the offered
    m = 0
    for i in range(n):
        out[m] = i
        m += offered[i]
    return out[:m]


@njit
def offer_alternatives(offered: np.ndarray, host: np.ndarray, credential: np.ndarray, host_level: np.ndarray,
                       u_outside: np.ndarray, p_outside: np.ndarray, outside_w: np.ndarray, coastal: np.ndarray,
                       host_w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What each offered graduate weighs: ``(has_outside_offer, best_alternative_wage, host_wage, host_level)``.

    ``p_outside[c, f]``, ``host_w[c, f]`` and ``coastal[c]`` are the
    per-graduate formulas tabled by credential ``c`` (0, 1) and firm ``f``:
    they depend on nothing else. Replaces, for ``f = host[offered]``,
    ``has_out = u_outside < p_out; alt = where(has_out, maximum(outside_w,
    coastal), coastal)`` and the gathers of the host wage and level.
    """
    m = offered.size
    has_out = np.empty(m, dtype=np.bool_)
    alt = np.empty(m)
    hw = np.empty(m)
    level = np.empty(m, dtype=np.int64)
    for k in range(m):
        i = offered[k]
        f = host[i]
        c = 1 if credential[i] else 0
        out = u_outside[k] < p_outside[c, f]
        has_out[k] = out
        alt[k] = outside_w[k] if out & (outside_w[k] >= coastal[c]) else coastal[c]  # maximum(outside_w, coastal) if out
        hw[k] = host_w[c, f]
        level[k] = host_level[i]
    return has_out, alt, hw, level


@njit
def accept_offers(offered: np.ndarray, host: np.ndarray, credential: np.ndarray, u_accept: np.ndarray,
                  p_accept: np.ndarray, has_out: np.ndarray, outside_w: np.ndarray, coastal: np.ndarray,
                  host_w: np.ndarray, employer: np.ndarray, wage: np.ndarray, vacancies: np.ndarray) -> tuple[int, np.ndarray]:
    """Offered graduates accept (``u_accept < p_accept``) or consider a local competitor's offer.

    An acceptance sets ``employer`` to the host, ``wage`` to the host's wage and
    fills one of its ``vacancies`` (all in place). Returns the number accepted
    and the positions in ``offered`` of those who declined but hold a local
    offer at least as good as leaving (``has_out & (outside_w >= coastal)``).
    """
    m = offered.size
    movers = np.empty(m, dtype=np.int64)
    n_movers = 0
    n_accepted = 0
    for k in range(m):
        i = offered[k]
        if u_accept[k] < p_accept[k]:  # mostly yes: a branch predicted well
            f = host[i]
            employer[i] = f
            wage[i] = host_w[k]
            vacancies[f] -= 1
            n_accepted += 1
        elif has_out[k] and outside_w[k] >= coastal[1 if credential[i] else 0]:
            movers[n_movers] = k
            n_movers += 1
    return n_accepted, movers[:n_movers]


@njit
def first_come(dest: np.ndarray, vacancies: np.ndarray) -> np.ndarray:
    """Which moves to firm ``dest`` fit its open vacancies, first come first served (``-1`` never fits).

    Move ``i`` fits if fewer than ``vacancies[dest[i]]`` earlier moves go to the
    same firm: the rank within a stable sort by ``dest``, without sorting.
    """
    ok = np.zeros(dest.size, dtype=np.bool_)
    taken = np.zeros(vacancies.size, dtype=np.int64)
    for i in range(dest.size):
        d = dest[i]
        if d >= 0:
            if taken[d] < vacancies[d]:
                ok[i] = True
            taken[d] += 1
    return ok


@njit
def visible_seekers(employer: np.ndarray, credential: np.ndarray, u_seen: np.ndarray, p_seen: np.ndarray) -> np.ndarray:
    """The graduates without a job who search the open market: ``seeking[u_seen < p_seen[credential[seeking]]]``.

    ``seeking`` is ``(employer < 0).nonzero()[0]``; ``u_seen`` has one draw per element of it.
    """
    n = employer.size
    seeking = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):
        seeking[k] = i
        k += employer[i] < 0
    if k != u_seen.size:
        raise ValueError("visible_seekers: one draw per graduate without a job expected")
    out = np.empty(k, dtype=np.int64)
    m = 0
    for j in range(k):
        i = seeking[j]
        out[m] = i
        m += u_seen[j] < p_seen[1 if credential[i] else 0]
    return out[:m]


@njit
def search_targets(seeking: np.ndarray, credential: np.ndarray, skill: np.ndarray, sector: np.ndarray,
                   u_own: np.ndarray, p_own: np.ndarray, other_sector: np.ndarray, firm_sector: np.ndarray,
                   vacancies: np.ndarray, n_sectors: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where each job seeker searches, in what order, and the firms to permute: ``(target, key, perm_start)``.

    ``target = where(u_own < p_own[credential], sector, other_sector)`` and
    ``key = -skill - 0.3 * credential`` per seeker (the model's numpy
    expressions). A sector with seekers and firms with open vacancies gets a
    random order of those firms: ``perm_start`` (length ``n_sectors + 1``)
    delimits each sector's part of the concatenated permutations (empty for
    the other sectors), as :func:`fill_by_sector` takes them.
    """
    m = seeking.size
    target = np.empty(m, dtype=np.int64)
    key = np.empty(m)
    seekers = np.zeros(n_sectors, dtype=np.int64)
    for k in range(m):
        i = seeking[k]
        c = 1 if credential[i] else 0
        t = sector[i] if u_own[k] < p_own[c] else other_sector[k]
        target[k] = t
        seekers[t] += 1
        key[k] = -skill[i] - 0.3 * c
    open_firms = np.zeros(n_sectors, dtype=np.int64)
    for f in range(firm_sector.size):
        open_firms[firm_sector[f]] += vacancies[f] > 0
    perm_start = np.zeros(n_sectors + 1, dtype=np.int64)
    for s in range(n_sectors):
        perm_start[s + 1] = perm_start[s] + (open_firms[s] if seekers[s] > 0 else 0)
    return target, key, perm_start


@njit
def fill_by_sector(seeking: np.ndarray, order: np.ndarray, target: np.ndarray, firm_sector: np.ndarray,
                   vacancies: np.ndarray, perm: np.ndarray, perm_start: np.ndarray,
                   employer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The open market, sector by sector: seekers in ``order`` fill the open firms in a random order.

    In sector ``k``, the firms with ``vacancies > 0`` (ascending), permuted by
    ``perm[perm_start[k]:perm_start[k + 1]]`` (``rng.permutation`` of their
    number, drawn by the model where the sector has seekers and open firms,
    empty elsewhere), take the sector's seekers in ``order`` (a stable sort by
    the search key), each firm as many as its vacancies. Replaces the stable
    sort by target sector and ``placement.interval_match`` per sector with unit
    demands. Sets ``employer`` and ``vacancies`` in place; returns ``(hired,
    hired_by)``, sector by sector, as the model's loop concatenated them.
    """
    n_sectors = perm_start.size - 1
    # the sector's seekers in order: a stable counting sort of `order` by target
    q_start = np.zeros(n_sectors + 1, dtype=np.int64)
    for k in range(target.size):
        q_start[target[k] + 1] += 1
    for s in range(n_sectors):
        q_start[s + 1] += q_start[s]
    queue = np.empty(target.size, dtype=np.int64)
    fill = q_start[:-1].copy()
    for k in order:
        s = target[k]
        queue[fill[s]] = seeking[k]
        fill[s] += 1
    # the sector's open firms, ascending
    f_start = np.zeros(n_sectors + 1, dtype=np.int64)
    for f in range(firm_sector.size):
        if vacancies[f] > 0:
            f_start[firm_sector[f] + 1] += 1
    for s in range(n_sectors):
        f_start[s + 1] += f_start[s]
    for s in range(n_sectors):
        drawn = perm_start[s + 1] - perm_start[s]
        if drawn != 0 and drawn != f_start[s + 1] - f_start[s]:
            raise ValueError("fill_by_sector: a sector's permutation must order all its open firms")
    open_firms = np.empty(f_start[-1], dtype=np.int64)
    fill = f_start[:-1].copy()
    for f in range(firm_sector.size):
        if vacancies[f] > 0:
            s = firm_sector[f]
            open_firms[fill[s]] = f
            fill[s] += 1
    hired = np.empty(target.size, dtype=np.int64)
    hired_by = np.empty(target.size, dtype=np.int64)
    m = 0
    for s in range(n_sectors):
        j, stop = q_start[s], q_start[s + 1]
        for p in range(perm_start[s], perm_start[s + 1]):
            if j == stop:
                break
            f = open_firms[f_start[s] + perm[p]]
            take = min(vacancies[f], stop - j)
            for _ in range(take):
                g = queue[j]
                employer[g] = f
                hired[m] = g
                hired_by[m] = f
                m += 1
                j += 1
            vacancies[f] -= take
    return hired[:m], hired_by[:m]


@njit
def one_year_out(grad_step: np.ndarray, host: np.ndarray, employer: np.ndarray, poached: np.ndarray,
                 host_level: np.ndarray, cohort_step: int, n_firms: int):
    """Counts for the cohort that graduated at ``cohort_step``, among those trained by a host.

    Returns ``(trained, stayed, poached, trained_by_host, stayed_by_host,
    level_hosted)``: stayed means still employed by the host; the per-host
    arrays replace ``bincount`` of ``host[trained]`` and ``host[stayed]`` and
    ``maximum.at(level_hosted, host[trained], host_level[trained])``.
    """
    n_tr = np.zeros(n_firms, dtype=np.int64)
    n_st = np.zeros(n_firms, dtype=np.int64)
    level_hosted = np.zeros(n_firms, dtype=np.int64)
    # rows are appended in graduation order: the cohort is one block, found by bisection (if they are in order)
    n = grad_step.size
    ordered = True
    for i in range(1, n):
        ordered &= grad_step[i - 1] <= grad_step[i]
    lo, hi = 0, n
    if ordered:
        lo = np.searchsorted(grad_step, cohort_step, side="left")
        hi = np.searchsorted(grad_step, cohort_step, side="right")
    rows = np.empty(hi - lo, dtype=np.int64)
    m = 0
    for i in range(lo, hi):
        rows[m] = i
        m += (grad_step[i] == cohort_step) & (host[i] >= 0)
    n_stayed = 0
    n_poached = 0
    for j in range(m):
        i = rows[j]
        h = host[i]
        stayed = employer[i] == h
        n_tr[h] += 1
        n_st[h] += stayed
        n_stayed += stayed
        n_poached += poached[i]
        level_hosted[h] = max(level_hosted[h], host_level[i])
    return m, n_stayed, n_poached, n_tr, n_st, level_hosted


@njit
def retention_ratio(trained: np.ndarray, stayed: np.ndarray, level_hosted: np.ndarray, vacancies: np.ndarray,
                    slots: np.ndarray, production_motive: np.ndarray, rate_production: float, rate_investment: float,
                    accept: np.ndarray, survival: np.ndarray) -> np.ndarray:
    """Each host's realised over expected retention, clipped to [0.1, 3] (1 where nothing was expected).

    Expected is :func:`sim.labour_market.expected_retention` at the level the
    firm hosted at (2 if any trainee was hosted deep, else 1): ``p_offer *
    accept[l] * survival[l]`` with ``p_offer = minimum(1, vacancies /
    maximum(slots, 1)) * rate`` (``accept`` and ``survival`` have rows for
    levels 1 and 2). Replaces the model's ``divide``/``where``/``clip`` chain.
    """
    n = trained.size
    out = np.empty(n)
    for f in range(n):
        realised = stayed[f] / trained[f] if trained[f] > 0 else 0.0
        row = 1 if level_hosted[f] == 2 else 0
        p_offer = min(1.0, vacancies[f] / max(slots[f], 1)) * (rate_production if production_motive[f] else rate_investment)
        expected = p_offer * accept[row, f] * survival[row, f]
        ratio = realised / expected if expected > 1e-6 else 1.0
        out[f] = min(max(ratio, 0.1), 3.0)
    return out


@njit
def placement_claims(hosted: np.ndarray, acc_cost: np.ndarray, deep_fixed: np.ndarray, host_fixed: np.ndarray,
                     rate: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each firm's fixed cost of the year, its subsidy claim and the claimants: ``(fixed, claim, claimants)``.

    Replaces ``fixed = deep_fixed + where(hosted > 0, host_fixed, 0.0); claim =
    rate * (acc_cost + fixed); claimants = (claim > 0).nonzero()[0]``.
    """
    n = hosted.size
    fixed = np.empty(n)
    claim = np.empty(n)
    claimants = np.empty(n, dtype=np.int64)
    m = 0
    for f in range(n):
        fixed[f] = deep_fixed[f] + (host_fixed[f] if hosted[f] > 0 else 0.0)
        claim[f] = rate[f] * (acc_cost[f] + fixed[f])
        claimants[m] = f
        m += claim[f] > 0
    return fixed, claim, claimants[:m]


@njit
def close_accounts(hosted: np.ndarray, acc_output: np.ndarray, acc_cost: np.ndarray, fixed: np.ndarray,
                   approved: np.ndarray, credits: np.ndarray, is_anchor: np.ndarray, reputation_anchor: float,
                   reputation_sme: float, engagement: np.ndarray, project_value: np.ndarray, retained: np.ndarray,
                   hiring_cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The year's placement accounts per firm: ``(acc_public, realised_net, realised_value, losing_share)``.

    With ``placement_part = acc_cost / (acc_cost + fixed)`` (0 where that is
    not positive): the public money for the placement ``approved *
    placement_part``; the net benefit per trainee (NaN for non-hosts); the
    realised value of engagement ``net - fixed + approved * (1 -
    placement_part) + credits + reputation x engagement x hosted +
    project_value + retained x hiring_cost`` (added in that order); and the
    share of hosts whose net benefit is negative (0 without hosts).
    """
    n = hosted.size
    acc_public = np.empty(n)
    realised_net = np.empty(n)
    realised_value = np.empty(n)
    n_hosts = 0
    n_losing = 0
    for f in range(n):
        total = acc_cost[f] + fixed[f]
        part = acc_cost[f] / total if total > 0 else 0.0
        acc_public[f] = approved[f] * part
        net = acc_output[f] - acc_cost[f] + acc_public[f]
        host = hosted[f] > 0
        realised_net[f] = net / max(hosted[f], 1) if host else np.nan
        reputation = (reputation_anchor if is_anchor[f] else reputation_sme) * engagement[f] * hosted[f]
        realised_value[f] = (net - fixed[f] + approved[f] * (1.0 - part) + credits[f] + reputation
                             + project_value[f] + retained[f] * hiring_cost[f])
        n_hosts += host
        n_losing += host & (net < 0)
    return acc_public, realised_net, realised_value, n_losing / n_hosts if n_hosts else 0.0
