"""Kernels of the firms' yearly engagement decision (:func:`sim.firms.decide_logit`).

The expected value of shallow and deep engagement (:func:`sim.firms.expected_values`),
the utilities (:func:`sim.firms.utilities`) and the logit draw were about 300
numpy calls on arrays of one element per firm. Here they are four loops over
the firms that treat both engagement levels at once. The transcendental
functions stay in numpy (:mod:`sim.jit`): :func:`hazard_arguments` writes their
arguments, :mod:`sim.firms` evaluates them in a few numpy calls on whole
arrays, and :func:`level_values` reads the results.

Each loop keeps the operation order of the numpy formulas it replaces (named
in its docstring), so the results are bit-identical; ``tests/test_kernels_decisions.py``
checks them against those formulas. Per-level arrays have a row per level:
row ``k`` is level ``k + 1`` (shallow, deep). Small lookup tables are indexed
by a firm's flag as an integer (``[False, True]``), and every constant comes in
as an argument (numba would freeze a module constant into its cache).
"""

from __future__ import annotations

import numpy as np

from sim.jit import clip, maximum, minimum, njit, pairwise_sum


@njit(error_model="numpy")
def hazard_arguments(competitors, on_ladder, wage, poaching_pressure, base_quit_hazard, pull, stay, unmatched,
                     host_premium, coastal, local, market_wage, mobility_cost, wage_sensitivity, attachment,
                     exposure_months):
    """Arguments of the exp / tanh / pow calls in a firm's expected retention, levels 1 and 2.

    Replaces, for each level, the elementwise parts of :func:`sim.labour_market.expected_retention`
    (:func:`~sim.labour_market.outside_offer_probability`, :func:`~sim.labour_market.monthly_hazards`,
    :func:`~sim.labour_market.host_wage`, :func:`~sim.labour_market.acceptance_probability`) and
    of :func:`sim.economics.expected_tenure_months`, up to their transcendental calls.
    Inputs: ``pull[k]`` is ``1 + 1.5 x recognition x credential share``;
    ``stay[ladder, level]`` and ``unmatched[ladder]`` are the hazards' two exp factors
    (:func:`sim.labour_market.hazard_factors`; level 0 for the outside offer, which assumes no ladder); ``host_premium[k, ladder]``;
    ``coastal[k]`` and ``local[k]`` the alternative wages; ``attachment[k]``.

    Returns ``(args, hazard)``: ``args`` rows 0-1 ``-exposure x`` outside poach hazard (for exp),
    2-3 and 4-5 half the acceptance index against the coastal and the local
    alternative (for tanh), 6-7 ``clip(1 - quit - poach, 0, 1)`` (for ``** 12``),
    8-9 ``1 - h`` (for ``** 24``); ``hazard`` rows 0-1: ``h = clip(quit + poach, 1e-9, 1)``.
    """
    n = competitors.size
    args = np.empty((10, n))
    hazard = np.empty((2, n))
    for i in range(n):
        o = 1 if on_ladder[i] else 0
        c = competitors[i]
        w = wage[i]
        for k in range(2):
            # outside_offer_probability: monthly_hazards with no ladder, level 0 (skill 1: a factor 1.0, left out)
            out_poach = clip(c * poaching_pressure * pull[k] * stay[0, 0] * unmatched[0], 0.0, 0.9)
            args[k, i] = -exposure_months * out_poach
            hw = w * (1.0 + host_premium[k, o])
            gap = (hw - coastal[k]) / market_wage + mobility_cost
            args[2 + k, i] = 0.5 * (wage_sensitivity * gap + attachment[k])
            gap = (hw - local[k]) / market_wage + mobility_cost
            args[4 + k, i] = 0.5 * (wage_sensitivity * gap + attachment[k])
            s = stay[o, k + 1]
            quit = clip(base_quit_hazard * s, 0.0, 0.9)
            poach = clip(c * poaching_pressure * pull[k] * s * unmatched[o], 0.0, 0.9)
            args[6 + k, i] = clip(1.0 - quit - poach, 0.0, 1.0)
            h = clip(quit + poach, 1e-9, 1.0)
            hazard[k, i] = h
            args[8 + k, i] = 1.0 - h
    return args, hazard


@njit(error_model="numpy")
def level_values(wage, production_motive, productivity, quality, slots, vacancies, on_ladder, is_anchor, strong_tie,
                 employees, surcharge, belief_productivity, belief_retention, belief_paid, belief_projects,
                 out_offer_exp, accept_tanh, retained_pow, tenure, discount_pow,
                 months, ramp, max_productivity, task_share, skilled_wage_ratio, nonwage_share, pay_floor, mentor_days,
                 weeks_per_month, workdays_per_month, mentor_wage_ratio, trainees_per_mentor, equipment_per_month,
                 upfront, hiring_cost_weeks, wage_compression, training_gain, ladder_specific_gain, host_premium,
                 offer_rate, reputation, host_fixed, deep_fixed, subsidy_rate, subsidy_discount, credit_offset,
                 credit_refundable, access):
    """Expected yearly net value (yuan) of levels 0 / 1 / 2 per firm, shape (n, 3) (column 0 is 0).

    The placement output is summed over the months month by month, as numpy's
    ``sum(axis=0)`` does for a (months, n) array, except for one firm, where
    numpy's sum is pairwise (:func:`sim.jit.pairwise_sum`).

    Replaces the numpy body of :func:`sim.firms.expected_values`, with
    :func:`sim.economics.placement_net_benefit` (relative productivity ``min(max_productivity,
    ramp[m] x quality)``, ``task_share[k, motive]``, :func:`~sim.economics.monthly_cost`),
    the rest of :func:`sim.labour_market.expected_retention` (``offer_rate[motive]``;
    from the numpy results: ``out_offer_exp`` = exp of :func:`hazard_arguments`' rows 0-1,
    ``accept_tanh`` = tanh of rows 2-5, ``retained_pow`` = rows 6-7 ** 12),
    :func:`sim.economics.retention_value` (``tenure`` and ``discount_pow`` = (1 + discount
    rate) ** (tenure / 24) from numpy), reputation, fixed costs, subsidy,
    :func:`sim.economics.tax_credit` (liability ``surcharge x employees``) and the
    joint-project value (``access[k, strong tie]``). Tables by firm flag:
    ``reputation``, ``deep_fixed``, ``subsidy_rate`` by anchor; ``host_premium[k, ladder]``.
    """
    n = wage.size
    values = np.zeros((n, 3))
    by_month = np.empty(months)
    for i in range(n):
        w = wage[i]
        anchor = 1 if is_anchor[i] else 0
        o = 1 if on_ladder[i] else 0
        motive = 1 if production_motive[i] else 0
        s = slots[i]
        slc = w * skilled_wage_ratio * (1.0 + nonwage_share)
        mentor_daily = w * mentor_wage_ratio * (1.0 + nonwage_share) / workdays_per_month
        pay = pay_floor * w
        hiring = hiring_cost_weeks / weeks_per_month * w * skilled_wage_ratio
        p_offer = minimum(1.0, vacancies[i] / max(s, 1)) * offer_rate[motive]
        q = quality[i]
        for k in range(2):
            level = k + 1
            # placement_net_benefit: output summed over the months (numpy's axis-0 sum: row by row), cost
            unit = task_share[k, motive] * slc * productivity[i]
            output = 0.0
            for m in range(months):
                x = minimum(max_productivity, ramp[m] * q) * unit
                output = x if m == 0 else output + x
                by_month[m] = x
            if n == 1:  # numpy sums a (months, 1) array as one contiguous vector: pairwise
                output = pairwise_sum(by_month)
            output = output * belief_productivity[i]
            mentor = mentor_days[k] * weeks_per_month * mentor_daily / trainees_per_mentor
            running = pay + mentor + equipment_per_month
            cost = running * months + upfront
            # expected_retention x belief
            p_out = 1.0 - out_offer_exp[k, i]
            accept = (1.0 - p_out) * (0.5 * (1.0 + accept_tanh[k, i])) + p_out * (0.5 * (1.0 + accept_tanh[2 + k, i]))
            ret = p_offer * accept * retained_pow[k, i] * belief_retention[i]
            # retention_value
            specific = ladder_specific_gain * float(o) * (1.0 if level == 2 else 0.0)
            rent = (wage_compression * training_gain[k] + specific) * slc - host_premium[k, o] * w
            value_retained = hiring + rent * tenure[k, i] * (1.0 / discount_pow[k, i])
            fixed = host_fixed + (deep_fixed[anchor] if level == 2 else 0.0)
            gross = cost * s + fixed
            subsidy = subsidy_rate[anchor] * gross * belief_paid[i] * subsidy_discount
            per_slot = output - cost + ret * value_retained + reputation[anchor] * level
            value = s * per_slot - fixed + subsidy
            if level == 2:
                qualifying = deep_fixed[anchor] + s * (running - pay_floor * w) * months
                credit = credit_offset * maximum(qualifying, 0.0)
                if not credit_refundable:
                    credit = minimum(credit, surcharge * employees[i])
                value = value + credit
            values[i, level] = value + belief_projects[i] * access[k, 1 if strong_tie[i] else 0]
    return values


@njit(error_model="numpy")
def level_utilities(values, employees, wage, skilled_wage_ratio, sensitivity, engagement, indptr, indices, weights,
                    degree, peer_weight, is_anchor, obligation, goodwill, switching_cost, slots, noise, shift):
    """Utility of each level (n, 3); with ``shift``, divided by ``noise`` minus its row maximum.

    Replaces :func:`sim.firms.utilities`' numpy code: value / monthly wage bill
    x sensitivity, peer effects from :meth:`sim.model.ConsortiumModel.neighbour_mean`
    (the CSR product ``firm_adjacency @ x`` row by row, as scipy adds it, over the
    degree), ``obligation[anchor]`` + goodwill, switching cost, ``-inf`` for firms
    without slots; with ``shift`` also ``u / noise - max`` of :func:`sim.firms.decide_logit`.
    """
    n = values.shape[0]
    u = np.empty((n, 3))
    inf = np.inf
    for i in range(n):
        scale = employees[i] * wage[i] * skilled_wage_ratio
        any_sum = 0.0
        deep_sum = 0.0
        for jj in range(indptr[i], indptr[i + 1]):
            e = engagement[indices[jj]]
            any_sum += weights[jj] * (1.0 if e >= 1 else 0.0)
            deep_sum += weights[jj] * (1.0 if e == 2 else 0.0)
        peer_any = any_sum / degree[i] if degree[i] > 0 else 0.0
        peer_deep = deep_sum / degree[i] if degree[i] > 0 else 0.0
        bound = obligation[1 if is_anchor[i] else 0] + goodwill[i]
        own = engagement[i]
        u0 = sensitivity * values[i, 0] / scale
        u1 = sensitivity * values[i, 1] / scale + peer_weight * peer_any + bound
        u2 = sensitivity * values[i, 2] / scale + peer_weight * (peer_any + peer_deep) / 2.0 + bound
        u0 = u0 - switching_cost * (1.0 if own != 0 else 0.0)
        u1 = u1 - switching_cost * (1.0 if own != 1 else 0.0)
        u2 = u2 - switching_cost * (1.0 if own != 2 else 0.0)
        if slots[i] == 0:
            u1 = -inf
            u2 = -inf
        if shift:
            u0 = u0 / noise
            u1 = u1 / noise
            u2 = u2 / noise
            top = maximum(maximum(u0, u1), u2)
            u0 = u0 - top
            u1 = u1 - top
            u2 = u2 - top
        u[i, 0] = u0
        u[i, 1] = u1
        u[i, 2] = u2
    return u


@njit(error_model="numpy")
def logit_choice(prob, draw):
    """Normalise ``prob`` (n, 3, the exp of shifted utilities) in place; return each firm's level.

    Replaces ``prob /= prob.sum(axis=1, keepdims=True)`` and ``np.minimum((draw[:, None] >
    np.cumsum(prob, axis=1)).sum(axis=1), 2)`` of :func:`sim.firms.decide_logit`.
    """
    n = prob.shape[0]
    choice = np.empty(n, np.int64)
    for i in range(n):
        total = prob[i, 0] + prob[i, 1] + prob[i, 2]
        p0 = prob[i, 0] / total
        p1 = prob[i, 1] / total
        p2 = prob[i, 2] / total
        prob[i, 0] = p0
        prob[i, 1] = p1
        prob[i, 2] = p2
        c1 = p0 + p1
        d = draw[i]
        chosen = (1 if d > p0 else 0) + (1 if d > c1 else 0) + (1 if d > c1 + p2 else 0)
        choice[i] = min(chosen, 2)
    return choice
