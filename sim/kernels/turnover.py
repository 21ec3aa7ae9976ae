"""Kernels of the monthly turnover of tracked graduates (:meth:`sim.model.ConsortiumModel._turnover`).

A month of turnover was some sixty numpy calls on arrays of a few thousand
employed graduates, of whom a hundred or so change: their per-call overhead
was the cost. Here it is three loops:

* :func:`month_changes` finds who quits or wants to move, given the month's
  uniforms, and drops the quitters from the cached hazard arrays;
* :func:`month_moves` moves the movers to a random same-sector competitor
  (given the uniforms of that draw), with their new wage and hazards;
* :func:`employed_hazards` lists the employed graduates with the hazards of
  :func:`sim.labour_market.monthly_hazards`.

The two ``exp`` factors of the hazards depend only on whether the graduate is
on a pay ladder (0 or 1) and on the attachment level (0, 1, 2): they are
computed once per set of market terms with numpy (:func:`hazard_terms`), as
``monthly_hazards`` computes them, and looked up; the rest is ``+ - *`` and
clipping, evaluated in ``monthly_hazards``' order, so the results are the same
bits. All random draws stay with the caller (the model's generator).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim import labour_market as lm
from sim.jit import clip, njit


class HazardTerms(NamedTuple):
    """The market terms as :func:`employed_hazards` and :func:`month_moves` use them (see :func:`hazard_terms`)."""

    stay: np.ndarray  # [on ladder 0/1, attachment level]: exp(-6 ladder_premium on_ladder - 0.5 ATTACHMENT[level])
    unmatched: np.ndarray  # [on ladder 0/1]: exp(-6 ladder_premium on_ladder (1 - recognition))
    base_quit: float
    pressure: float  # poaching_pressure(terms)
    pull: float  # 1.5 recognition: the pull is 1 + pull x credential
    skill_wage: float  # outside_wage's (1 - compression) x SKILL_WAGE_RETURN
    credential_wage: float  # outside_wage's credential_wage_premium x recognition


def hazard_terms(terms: lm.MarketTerms) -> HazardTerms:
    """The factors of ``lm.monthly_hazards`` and ``lm.outside_wage`` that depend on the terms only.

    The ``exp`` tables are :func:`sim.labour_market.hazard_factors` (numpy's
    ``exp`` gives an element the same bits whatever array it is in); the
    scalars are the products those functions form first (Python evaluates
    ``a * b * array`` as ``(a * b) * array``).
    """
    rec = lm.recognition(terms)
    stay, unmatched = lm.hazard_factors(terms)
    return HazardTerms(stay=stay, unmatched=unmatched, base_quit=float(terms.base_quit_hazard),
                       pressure=float(lm.poaching_pressure(terms)), pull=float(1.5 * rec),
                       skill_wage=float((1.0 - terms.compression) * lm.SKILL_WAGE_RETURN),
                       credential_wage=float(terms.credential_wage_premium * rec))


@njit
def _hazard(f: int, at_host: bool, level: int, credential: bool, skill: float,
            firm_competitors: np.ndarray, firm_on_ladder: np.ndarray, stay: np.ndarray, unmatched: np.ndarray,
            base_quit: float, pressure: float, pull: float) -> tuple[float, float]:
    """(quit, poach) hazard of one graduate at firm ``f``: ``lm.monthly_hazards`` in its order of operations."""
    ladder = 1 if (firm_on_ladder[f] and credential) else 0
    s = stay[ladder, level if at_host else 0]
    quit = clip(base_quit * s, 0.0, 0.9)
    cred = 1.0 if credential else 0.0
    poach = firm_competitors[f] * pressure * (1.0 + pull * cred) * clip(skill, 0.3, 2.0) * s * unmatched[ladder]
    return quit, clip(poach, 0.0, 0.9)


@njit
def employed_hazards(employer: np.ndarray, host: np.ndarray, host_level: np.ndarray, credential: np.ndarray,
                     skill: np.ndarray, firm_competitors: np.ndarray, firm_on_ladder: np.ndarray,
                     stay: np.ndarray, unmatched: np.ndarray, base_quit: float, pressure: float,
                     pull: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The employed graduates ``emp`` and their monthly quit and quit + poach hazards: ``(emp, quit, total)``.

    Replaces ``emp = (employer >= 0).nonzero()[0]``, ``f = employer[emp]``,
    ``quit, poach = lm.monthly_hazards(terms, fs.competitors[f],
    (fs.on_ladder[f] & credential[emp]).astype(float), np.where(f == host[emp],
    host_level[emp], 0), credential[emp].astype(float), skill[emp])`` and
    ``total = quit + poach`` (bit-identical).
    """
    n = 0
    for i in range(employer.size):
        if employer[i] >= 0:
            n += 1
    emp = np.empty(n, np.int64)
    quit = np.empty(n)
    total = np.empty(n)
    j = 0
    for i in range(employer.size):
        f = employer[i]
        if f >= 0:
            q, p = _hazard(f, f == host[i], host_level[i], credential[i], skill[i], firm_competitors,
                           firm_on_ladder, stay, unmatched, base_quit, pressure, pull)
            emp[j] = i
            quit[j] = q
            total[j] = q + p
            j += 1
    return emp, quit, total


@njit
def month_changes(u: np.ndarray, emp: np.ndarray, quit: np.ndarray, total: np.ndarray, employer: np.ndarray,
                  sector: np.ndarray, first_employer: np.ndarray, left_first_step: np.ndarray,
                  grad_step: np.ndarray, firm_sector: np.ndarray, indptr: np.ndarray, step: int,
                  latest_step: int) -> tuple[int, np.ndarray, int, int, int, int]:
    """Who quits and who wants to move this month; the quitters leave their employers and the arrays.

    Graduate ``emp[i]`` quits if ``u[i] < quit[i]``, else wants to move if
    ``u[i] < total[i]``. Every one of them who is still with the first
    employer gets ``left_first_step = step``; quitters get ``employer = -1``
    and are removed from ``emp``, ``quit`` and ``total`` in place (order kept).

    Returns ``(kept, movers, draws, quits, quits_matched, quits_latest)``: the
    arrays' new length, the movers' positions in the shortened arrays, how
    many movers have a competitor to go to (``indptr``: the competition ties,
    CSR), how many quit, how many of them worked in their own sector and how
    many were of the latest cohort (``grad_step == latest_step``).
    """
    n = emp.size
    movers = np.empty(n, np.int64)
    n_mv = draws = quits = quits_matched = quits_latest = 0
    w = 0
    for i in range(n):
        c = emp[i]
        ui = u[i]
        if ui < total[i]:
            cur = employer[c]
            if cur == first_employer[c] and left_first_step[c] < 0:
                left_first_step[c] = step
            if ui < quit[i]:
                quits += 1
                if firm_sector[cur] == sector[c]:
                    quits_matched += 1
                if grad_step[c] == latest_step:
                    quits_latest += 1
                employer[c] = -1
                continue
            movers[n_mv] = w
            n_mv += 1
            if indptr[cur + 1] > indptr[cur]:
                draws += 1
        if w != i:
            emp[w] = c
            quit[w] = quit[i]
            total[w] = total[i]
        w += 1
    return w, movers[:n_mv], draws, quits, quits_matched, quits_latest


@njit
def month_moves(r: np.ndarray, movers: np.ndarray, emp: np.ndarray, quit: np.ndarray, total: np.ndarray,
                employer: np.ndarray, sector: np.ndarray, host: np.ndarray, host_level: np.ndarray,
                credential: np.ndarray, skill: np.ndarray, poached: np.ndarray, wage: np.ndarray,
                firm_sector: np.ndarray, firm_wage: np.ndarray, firm_competitors: np.ndarray,
                firm_on_ladder: np.ndarray, indptr: np.ndarray, indices: np.ndarray, stay: np.ndarray,
                unmatched: np.ndarray, base_quit: float, pressure: float, pull: float, skill_wage: float,
                credential_wage: float) -> int:
    """Each mover ``emp[movers[j]]`` goes to a random same-sector competitor of its employer, if it has one.

    The competitor is ``indices[indptr[f] + int(r[t] * n_f)]`` (``f`` the
    employer, ``n_f`` its competitors, ``t`` counting the movers who have
    any), as :meth:`sim.model.ConsortiumModel._competitor_of` picks it. A
    graduate hired away from its host is marked ``poached``; a mover gets the
    competitor's outside wage (``lm.outside_wage``) and its hazards at the
    competitor (``quit``/``total`` at ``movers[j]``). Returns the change in the
    number of graduates working in their own sector.
    """
    matched = 0
    t = 0
    for j in range(movers.size):
        at = movers[j]
        c = emp[at]
        cur = employer[c]
        lo = indptr[cur]
        n_comp = indptr[cur + 1] - lo
        if n_comp <= 0:
            continue
        dest = indices[lo + np.int64(r[t] * n_comp)]
        t += 1
        if cur == host[c]:
            poached[c] = True
        if firm_sector[cur] == sector[c]:
            matched -= 1
        if firm_sector[dest] == sector[c]:
            matched += 1
        employer[c] = dest
        cred = 1.0 if credential[c] else 0.0
        wage[c] = firm_wage[dest] * (1.0 + skill_wage * (skill[c] - 1.0) + credential_wage * cred)
        q, p = _hazard(dest, dest == host[c], host_level[c], credential[c], skill[c], firm_competitors,
                       firm_on_ladder, stay, unmatched, base_quit, pressure, pull)
        quit[at] = q
        total[at] = q + p
    return matched


@njit
def graduate_counts(grad_step: np.ndarray, employer: np.ndarray, sector: np.ndarray, firm_sector: np.ndarray,
                    latest_step: int) -> tuple[int, int, int, int]:
    """Counts behind the graduate indicators: ``(latest, latest_employed, employed, matched)``.

    The graduates of the latest cohort (``grad_step == latest_step``), how many
    of them are employed, how many graduates are employed and how many of those
    work in their own sector.
    """
    latest = latest_employed = employed = matched = 0
    for i in range(employer.size):
        f = employer[i]
        is_latest = grad_step[i] == latest_step
        if is_latest:
            latest += 1
        if f >= 0:
            employed += 1
            if is_latest:
                latest_employed += 1
            if firm_sector[f] == sector[i]:
                matched += 1
    return latest, latest_employed, employed, matched
