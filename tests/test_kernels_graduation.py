"""The graduation kernels equal the numpy code they replace, bit for bit (sim/kernels/graduation.py).

Each reference below is the model's numpy formulation before the kernels;
inputs are hypothesis-drawn, with empty cohorts, single graduates, firms
without trainees and tied skills (skills drawn from a few values).
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import labour_market as lm
from sim import placement as plc
from sim.kernels import graduation as kg
from sim.model import (
    OWN_SECTOR_SEARCH,
    _acceptance_and_survival,
    _offers,
    _open_market,
    _within_vacancies,
)

SETTINGS = settings(max_examples=150, deadline=None)


def rank_within(groups: np.ndarray) -> np.ndarray:
    """0-based rank of each element within its run of equal, sorted ``groups`` (the model's former helper)."""
    if groups.size == 0:
        return groups
    change = np.concatenate([[True], groups[1:] != groups[:-1]])
    run_id = np.cumsum(change) - 1
    return np.arange(groups.size) - change.nonzero()[0][run_id]


@st.composite
def cohorts(draw, max_graduates=60):
    """A cohort and the city's firms: sizes, skills with ties, hosts, levels, vacancies, a seed."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n = draw(st.sampled_from([0, 1, 2, 5, 17, max_graduates]))
    n_firms = draw(st.integers(1, 9))
    n_sectors = draw(st.integers(1, 4))
    tied = draw(st.booleans())
    skill = rng.choice([0.0, 0.5, 1.0, 1.25], n) if tied else np.clip(rng.normal(1.0, 0.3, n), 0.0, None)
    hosted_share = draw(st.sampled_from([0.0, 0.5, 1.0]))
    host = np.where(rng.random(n) < hosted_share, rng.integers(0, n_firms, n), -1).astype(np.int64)
    return dict(
        rng=rng, n=n, n_firms=n_firms, n_sectors=n_sectors, skill=skill, host=host,
        host_level=np.where(host >= 0, rng.integers(1, 3, n), 0).astype(np.int64),
        sector=rng.integers(0, n_sectors, n).astype(np.int64),
        firm_sector=rng.integers(0, n_sectors, n_firms).astype(np.int64),
        vacancies=rng.integers(0, 4, n_firms).astype(np.int64),
        on_ladder=rng.random(n_firms) < 0.5, production_motive=rng.random(n_firms) < 0.5,
        competitors=rng.integers(0, 4, n_firms).astype(float), wage=rng.uniform(3000.0, 6000.0, n_firms),
        credential=rng.random(n) < draw(st.sampled_from([0.0, 0.4, 1.0])),
    )


@st.composite
def market_terms(draw):
    """Labour-market terms over their ranges."""
    unit = st.floats(0.0, 1.0)
    return lm.MarketTerms(
        compression=draw(unit), transparency=draw(unit), poaching_intensity=draw(st.floats(0.0, 0.05)),
        base_quit_hazard=draw(st.floats(0.0, 0.05)), outside_wage_premium=draw(st.floats(0.0, 0.5)),
        mobility_cost=draw(st.floats(0.0, 0.3)), credential_mode=draw(st.sampled_from(["none", "portable", "employer_ladder"])),
        portability=draw(unit), ladder_premium=draw(st.floats(0.0, 0.3)), credential_wage_premium=draw(st.floats(0.0, 0.3)),
    )


@SETTINGS
@given(cohorts(), st.sampled_from(["none", "portable", "employer_ladder"]), st.sampled_from([0.0, 0.9, 1.0, 1.2]))
def test_credentials_and_shares_by_level(c, mode, threshold):
    skill, host, host_level, on_ladder = c["skill"], c["host"], c["host_level"], c["on_ladder"]
    hosted = host >= 0
    if mode == "portable":
        cred = skill >= threshold
    elif mode == "employer_ladder":
        cred = hosted & on_ladder[np.maximum(host, 0)] & (skill >= threshold)
    else:
        cred = np.zeros(host.size, dtype=bool)
    share = np.full(3, float(cred[hosted].mean()) if hosted.any() else 0.0)
    for level in (1, 2):
        at = hosted & (host_level == level)
        if at.any():
            share[level] = cred[at].mean()
    got, got_share, n_hosted = kg.credentials(kg.CREDENTIAL_MODE[mode], skill, host, host_level, on_ladder, threshold)
    assert np.array_equal(got, cred) and got.dtype == bool
    assert got_share.tobytes() == share.tobytes()
    assert n_hosted == hosted.sum()


def offers_reference(host, u, production_motive, skill, vac):
    """The model's numpy formulation of the hosts' offers (before the kernels)."""
    rate = np.where(production_motive, lm.OFFER_RATE[True], lm.OFFER_RATE[False])
    cand = ((host >= 0) & (u < rate[np.maximum(host, 0)])).nonzero()[0]
    cand = cand[np.lexsort((-skill[cand], host[cand]))]
    rank = rank_within(host[cand])
    offered = np.zeros(host.size, dtype=bool)
    offered[cand[rank < vac[host[cand]]]] = True
    return offered.nonzero()[0]


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.sampled_from([0, 1, 15, 16, 17, 33, 300]), st.integers(1, 4),
       st.sampled_from(["distinct", "tied", "nan"]), st.integers(-1, 40))
def test_offers_in_big_groups_equal_the_lexsort(seed, n, n_firms, skills, max_vacancies):
    """Hosts with many wanted trainees, tied (incl. -0.0 and 0.0) and NaN skills, negative vacancies: as lexsort."""
    rng = np.random.default_rng(seed)
    host = np.where(rng.random(n) < 0.9, rng.integers(0, n_firms, n), -1).astype(np.int64)
    skill = {"distinct": rng.normal(1.0, 0.3, n), "tied": rng.choice([-0.0, 0.0, 0.5, 1.0], n),
             "nan": np.where(rng.random(n) < 0.3, np.nan, rng.choice([0.5, 1.0], n))}[skills]
    vac = rng.integers(min(max_vacancies, 0), max_vacancies + 1, n_firms).astype(np.int64)
    motive = rng.random(n_firms) < 0.5
    u = np.random.default_rng(seed).random(n)
    got = _offers(np.random.default_rng(seed), host, skill, motive, vac)
    assert np.array_equal(got, offers_reference(host, u, motive, skill, vac))


@SETTINGS
@given(cohorts())
def test_offers_go_to_each_hosts_best_wanted_trainees(c):
    host, skill, vac = c["host"], c["skill"], c["vacancies"]
    u = np.random.default_rng(1).random(host.size)
    got = _offers(np.random.default_rng(1), host, skill, c["production_motive"], vac)
    assert np.array_equal(got, offers_reference(host, u, c["production_motive"], skill, vac))


@SETTINGS
@given(cohorts(), market_terms(), st.floats(2000.0, 8000.0))
def test_acceptance_equals_the_per_graduate_formulas(c, mt, market):
    """Tabled by (credential, firm) and fused: the same has_out, alternatives, acceptances and movers."""
    host, cred, skill, rng = c["host"], c["credential"], c["skill"], c["rng"]
    idx = (host >= 0).nonzero()[0]
    u_out, u_acc = rng.random(idx.size), rng.random(idx.size)
    vac = c["vacancies"] + 3
    # the model's numpy code
    f = host[idx]
    credf = cred[idx].astype(float)
    on_ladder = (c["on_ladder"][f] & cred[idx]).astype(float)
    p_out = lm.outside_offer_probability(mt, c["competitors"][f], credf)
    has_out = u_out < p_out
    out_w = lm.outside_wage(mt, np.full(idx.size, market), skill[idx], credf)
    coastal = lm.coastal_wage(mt, market, credf)
    alt = np.where(has_out, np.maximum(out_w, coastal), coastal)
    hw = lm.host_wage(mt, c["wage"][f], on_ladder, credf)
    accept = u_acc < lm.acceptance_probability(mt, hw, alt, np.full(idx.size, market), c["host_level"][idx])
    employer, wage, ref_vac = np.full(host.size, -1), np.zeros(host.size), vac.copy()
    employer[idx[accept]] = f[accept]
    wage[idx[accept]] = hw[accept]
    np.subtract.at(ref_vac, f[accept], 1)
    movers = (~accept & has_out & (out_w >= coastal)).nonzero()[0]
    # the kernels, with the per-firm tables
    p_out_tab = np.stack([lm.outside_offer_probability(mt, c["competitors"], x) for x in (0.0, 1.0)])
    hw_tab = np.stack([lm.host_wage(mt, c["wage"], np.zeros(c["n_firms"]), 0.0),
                       lm.host_wage(mt, c["wage"], c["on_ladder"].astype(float), 1.0)])
    coastal_tab = np.array([lm.coastal_wage(mt, market, 0.0), lm.coastal_wage(mt, market, 1.0)])
    g_has, g_alt, g_hw, g_level = kg.offer_alternatives(idx, host, cred, c["host_level"], u_out, p_out_tab, out_w,
                                                        coastal_tab, hw_tab)
    assert np.array_equal(g_has, has_out) and g_alt.tobytes() == alt.tobytes() and g_hw.tobytes() == hw.tobytes()
    p_acc = lm.acceptance_probability(mt, g_hw, g_alt, np.full(idx.size, market), g_level)
    g_employer, g_wage, g_vac = np.full(host.size, -1, dtype=np.int64), np.zeros(host.size), vac.copy()
    n_acc, g_movers = kg.accept_offers(idx, host, cred, u_acc, p_acc, g_has, out_w, coastal_tab, g_hw,
                                       g_employer, g_wage, g_vac)
    assert n_acc == accept.sum() and np.array_equal(g_movers, movers)
    assert np.array_equal(g_employer, employer) and g_wage.tobytes() == wage.tobytes()
    assert np.array_equal(g_vac, ref_vac)


@SETTINGS
@given(cohorts())
def test_within_vacancies_first_come_first_served(c):
    rng = c["rng"]
    dest = rng.integers(-1, c["n_firms"], c["n"]).astype(np.int64)
    vac = c["vacancies"]
    ok = np.zeros(dest.size, dtype=bool)
    cand = (dest >= 0).nonzero()[0]
    if cand.size:
        order = cand[np.argsort(dest[cand], kind="stable")]
        rank = rank_within(dest[order])
        ok[order[rank < vac[dest[order]]]] = True
    assert np.array_equal(_within_vacancies(dest, vac), ok)


def open_market_reference(rng, transparency, employer, cred, skill, sector, firm_sector, vac, n_sectors):
    """The model's numpy open market (per-sector loop, ``interval_match``)."""
    seeking = (employer < 0).nonzero()[0]
    seen = 0.5 + 0.5 * transparency + 0.2 * cred[seeking]
    seeking = seeking[rng.random(seeking.size) < np.clip(seen, 0, 1)]
    own = rng.random(seeking.size) < np.clip(OWN_SECTOR_SEARCH + 0.3 * transparency + 0.1 * cred[seeking], 0, 1)
    target = np.where(own, sector[seeking], rng.integers(0, n_sectors, size=seeking.size))
    order = np.argsort(-skill[seeking] - 0.3 * cred[seeking], kind="stable")
    seeking, target = seeking[order], target[order]
    by_sector = np.argsort(target, kind="stable")
    bounds = np.searchsorted(target[by_sector], np.arange(n_sectors + 1)).tolist()
    hired, hired_by = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for k in range(n_sectors):
        g = seeking[by_sector[bounds[k]:bounds[k + 1]]]
        firms_k = ((firm_sector == k) & (vac > 0)).nonzero()[0]
        if g.size == 0 or firms_k.size == 0:
            continue
        firms_k = firms_k[rng.permutation(firms_k.size)]
        fi, gj, amount = plc.interval_match(vac[firms_k], np.ones(g.size, dtype=np.int64))
        hired.append(g[gj])
        hired_by.append(firms_k[fi])
        np.subtract.at(vac, firms_k[fi], amount)
    hired, hired_by = np.concatenate(hired), np.concatenate(hired_by)
    employer[hired] = hired_by
    return hired, hired_by


@SETTINGS
@given(cohorts(), st.sampled_from([0.0, 0.3, 1.0]), st.integers(0, 2**32 - 1))
def test_open_market_fill(c, transparency, seed):
    """The same hires, in the same order, the same vacancies left and the same draws taken."""
    n, rng = c["n"], c["rng"]
    employer = np.where(rng.random(n) < 0.3, rng.integers(0, c["n_firms"], n), -1).astype(np.int64)
    vac = rng.integers(0, 6, c["n_firms"]).astype(np.int64)
    args = (c["credential"], c["skill"], c["sector"])
    ref_rng, ref_emp, ref_vac = np.random.default_rng(seed), employer.copy(), vac.copy()
    hired, hired_by = open_market_reference(ref_rng, transparency, ref_emp, *args, c["firm_sector"], ref_vac,
                                            c["n_sectors"])
    got_rng = np.random.default_rng(seed)
    g_hired, g_by = _open_market(got_rng, transparency, employer, *args, int((employer < 0).sum()), c["firm_sector"],
                                 vac, c["n_sectors"])
    assert np.array_equal(g_hired, hired) and np.array_equal(g_by, hired_by)
    assert np.array_equal(employer, ref_emp) and np.array_equal(vac, ref_vac)
    assert got_rng.bit_generator.state == ref_rng.bit_generator.state


@SETTINGS
@given(cohorts(), st.floats(0.0, 1.0))
def test_search_targets_and_keys(c, p):
    """Each seeker's target sector and sort key, and the counts per sector, as the numpy expressions give them."""
    rng, n, n_sectors = c["rng"], c["n"], c["n_sectors"]
    seeking = np.sort(rng.choice(n, size=n // 2, replace=False)).astype(np.int64)
    u, other = rng.random(seeking.size), rng.integers(0, n_sectors, seeking.size)
    cred, skill = c["credential"], c["skill"]
    p_own = np.array([p, min(p + 0.1, 1.0)])
    vac = c["vacancies"]
    target, key, perm_start = kg.search_targets(seeking, cred, skill, c["sector"], u, p_own, other,
                                                c["firm_sector"], vac, n_sectors)
    want_target = np.where(u < p_own[cred[seeking].astype(int)], c["sector"][seeking], other)
    assert np.array_equal(target, want_target)
    assert key.tobytes() == (-skill[seeking] - 0.3 * cred[seeking]).tobytes()
    seekers = np.bincount(want_target, minlength=n_sectors)
    open_firms = np.bincount(c["firm_sector"][vac > 0], minlength=n_sectors)
    assert np.array_equal(np.diff(perm_start), np.where(seekers > 0, open_firms, 0)) and perm_start[0] == 0


@SETTINGS
@given(cohorts(), market_terms(), st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.booleans())
def test_one_year_out_and_retention_ratio(c, mt, share1, share2, in_order):
    """Also with rows in graduation order, as the model keeps them (the cohort is then found by bisection)."""
    rng, n, n_firms = c["rng"], c["n"], c["n_firms"]
    host, host_level = c["host"], c["host_level"]
    grad_step = rng.integers(10, 13, n).astype(np.int64)
    if in_order:
        grad_step.sort()
    employer = np.where(rng.random(n) < 0.5, host, rng.integers(-1, n_firms, n)).astype(np.int64)
    poached = rng.random(n) < 0.2
    slots = rng.integers(0, 5, n_firms).astype(np.int64)
    vac, pm = c["vacancies"], c["production_motive"]
    # the model's numpy code
    trained = (grad_step == 11) & (host >= 0)
    stayed = trained & (employer == host)
    n_tr = np.bincount(host[trained], minlength=n_firms)
    n_st = np.bincount(host[stayed], minlength=n_firms)
    realised = np.divide(n_st, n_tr, out=np.zeros(n_firms), where=n_tr > 0)
    level_hosted = np.zeros(n_firms, dtype=np.int64)
    np.maximum.at(level_hosted, host[trained], host_level[trained])
    kw = dict(wage=c["wage"], market_wage=4000.0, competitors=c["competitors"], on_ladder=c["on_ladder"].astype(float))
    shares = {1: share1, 2: share2}
    expected_at = {level: lm.expected_retention(mt, production_motive=pm, level=level, offer_capacity=vac / np.maximum(slots, 1),
                                                credential_share=shares[level], **kw) for level in (1, 2)}
    expected = np.where(level_hosted == 2, expected_at[2], expected_at[1])
    ratio = np.clip(np.divide(realised, expected, out=np.ones(n_firms), where=expected > 1e-6), 0.1, 3.0)
    # the kernels
    tr, st_, po, g_tr, g_st, g_level = kg.one_year_out(grad_step, host, employer, poached, host_level, 11, n_firms)
    assert (tr, st_, po) == (trained.sum(), stayed.sum(), poached[trained].sum())
    assert np.array_equal(g_tr, n_tr) and np.array_equal(g_st, n_st) and np.array_equal(g_level, level_hosted)
    parts = [_acceptance_and_survival(mt, level=level, credential_share=shares[level], **kw) for level in (1, 2)]
    accept, survival = np.stack([p[0] for p in parts]), np.stack([p[1] for p in parts])
    got = kg.retention_ratio(g_tr, g_st, g_level, vac, slots, pm, lm.OFFER_RATE[True], lm.OFFER_RATE[False],
                             accept, survival)
    assert got.tobytes() == ratio.tobytes()


@SETTINGS
@given(cohorts(), market_terms(), st.sampled_from([1, 2]), st.floats(0.0, 1.0))
def test_expected_retention_is_offer_times_acceptance_times_survival(c, mt, level, share):
    """The model keeps acceptance and survival between years; with this year's offer part they give the same bits."""
    slots = c["rng"].integers(0, 5, c["n_firms"])
    kw = dict(wage=c["wage"], market_wage=4500.0, competitors=c["competitors"], level=level,
              on_ladder=c["on_ladder"].astype(float), credential_share=share)
    capacity = c["vacancies"] / np.maximum(slots, 1)
    want = lm.expected_retention(mt, production_motive=c["production_motive"], offer_capacity=capacity, **kw)
    accept, survival = _acceptance_and_survival(mt, **kw)
    p_offer = np.minimum(1.0, capacity) * np.where(c["production_motive"], lm.OFFER_RATE[True], lm.OFFER_RATE[False])
    assert (p_offer * accept * survival).tobytes() == want.tobytes()


def test_a_wrong_number_of_draws_is_refused():
    """visible_seekers checks it got one draw per graduate without a job (a kernel does not check bounds)."""
    employer = np.array([-1, 2, -1], dtype=np.int64)
    for draws in (1, 3):
        try:
            kg.visible_seekers(employer, np.zeros(3, dtype=bool), np.zeros(draws), np.array([0.5, 0.5]))
        except ValueError:
            continue
        raise AssertionError(f"expected ValueError for {draws} draws")
    assert kg.visible_seekers(employer, np.zeros(3, dtype=bool), np.array([0.2, 0.7]), np.array([0.5, 0.5])).tolist() == [0]


def test_a_permutation_of_the_wrong_size_is_refused():
    """fill_by_sector checks each drawn permutation covers its sector's open firms."""
    args = (np.array([0], dtype=np.int64), np.array([0], dtype=np.int64), np.array([0], dtype=np.int64),
            np.array([0, 0], dtype=np.int64), np.array([1, 1], dtype=np.int64))
    try:
        kg.fill_by_sector(*args, np.array([0], dtype=np.int64), np.array([0, 1], dtype=np.int64),
                          np.full(1, -1, dtype=np.int64))
    except ValueError:
        return
    raise AssertionError("expected ValueError")


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(0, 12), st.booleans())
def test_placement_claims_and_accounts(seed, n, with_retained):
    """The claims and the year's accounts of ``_close_placements``, as its numpy code computed them."""
    rng = np.random.default_rng(seed)
    hosted = np.where(rng.random(n) < 0.6, rng.integers(0, 4, n), 0).astype(np.int64)
    acc_cost = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(0, 5e4, n))
    acc_output = rng.uniform(0, 6e4, n)
    deep_fixed = np.where(rng.random(n) < 0.3, rng.uniform(0, 2e4, n), 0.0)
    host_fixed = np.where(rng.random(n) < 0.5, 5000.0, 0.0)
    rate = np.where(rng.random(n) < 0.5, 0.4, 0.0)
    engagement = rng.integers(0, 3, n).astype(np.int64)
    is_anchor = rng.random(n) < 0.3
    credits = np.where(rng.random(n) < 0.3, rng.uniform(0, 1e4, n), 0.0)
    project_value = rng.uniform(0, 1e4, n)
    retained = rng.integers(0, 3, n).astype(np.int64) if with_retained else np.zeros(n, dtype=np.int64)
    hiring = rng.uniform(1e4, 2e4, n)
    approved = np.where(rng.random(n) < 0.7, rng.uniform(0, 1e4, n), 0.0)
    # the model's numpy code
    hosts = hosted > 0
    fixed = deep_fixed + np.where(hosts, host_fixed, 0.0)
    claim = rate * (acc_cost + fixed)
    g_fixed, g_claim, g_claimants = kg.placement_claims(hosted, acc_cost, deep_fixed, host_fixed, rate)
    assert g_fixed.tobytes() == fixed.tobytes() and g_claim.tobytes() == claim.tobytes()
    assert np.array_equal(g_claimants, (claim > 0).nonzero()[0])
    part = np.divide(acc_cost, acc_cost + fixed, out=np.zeros(n), where=(acc_cost + fixed) > 0)
    acc_public = approved * part
    net = acc_output - acc_cost + acc_public
    realised_net = np.where(hosts, net / np.maximum(hosted, 1), np.nan)
    reputation = np.where(is_anchor, 3000.0, 1000.0) * engagement * hosted
    value = net - fixed + approved * (1.0 - part) + credits + reputation + project_value + retained * hiring
    losing = float((net[hosts] < 0).mean()) if hosts.any() else 0.0
    got = kg.close_accounts(hosted, acc_output, acc_cost, fixed, approved, credits, is_anchor, 3000.0, 1000.0,
                            engagement, project_value, retained, hiring)
    assert got[0].tobytes() == acc_public.tobytes() and got[1].tobytes() == realised_net.tobytes()
    assert got[2].tobytes() == value.tobytes() and got[3] == losing


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["oldest", "random", "none", "all"])), max_size=12))
def test_graduates_append_and_keep_equal_plain_arrays(ops):
    """Graduates keeps each field a window of a buffer: the rows equal plain concatenation and masking."""
    from sim.students import Graduates

    rng = np.random.default_rng(len(ops))
    g, plain = Graduates(), {f: getattr(Graduates(), f) for f in Graduates.fields}
    step, version, dropped = 0, 0, 0
    for size, how in ops:
        cohort = {f: (rng.random(size) < 0.5) if plain[f].dtype == bool else
                  (rng.random(size) if plain[f].dtype.kind == "f" else rng.integers(-1, 50, size)) for f in g.fields}
        cohort["grad_step"] = np.full(size, step, dtype=np.int64)
        g.append(**cohort)
        plain = {f: np.concatenate([plain[f], cohort[f]]) for f in g.fields}
        n = plain["school"].size
        mask = {"oldest": plain["grad_step"] > step - 3, "random": rng.random(n) < 0.6,
                "none": np.ones(n, dtype=bool), "all": np.zeros(n, dtype=bool)}[how]
        g.keep(mask)
        plain = {f: plain[f][mask] for f in g.fields}
        g.employer[:1] = 7  # in-place edits (as turnover makes) stay with the rows
        plain["employer"][:1] = 7
        version, dropped, step = version + 2, dropped + int((~mask).sum()), step + 1
        for f in g.fields:
            assert np.array_equal(getattr(g, f), plain[f]) and getattr(g, f).dtype == plain[f].dtype, f
        assert g.version == version and g.dropped == dropped and len(g) == plain["school"].size
