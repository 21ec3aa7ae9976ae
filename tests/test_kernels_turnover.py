"""The turnover kernels (sim.kernels.turnover) give the numpy turnover's results bit for bit.

The reference is the numpy formulation the kernels replaced (kept here, and
only here): the month's quits and moves, the hazards of
``lm.monthly_hazards`` and the graduate counts. Both run on the same random
states (hypothesis), including the edges: nobody employed, one graduate,
firms without competitors, hazards clipped at 0.9 and uniforms exactly equal
to a hazard.
"""

from __future__ import annotations

import copy
import types
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp
from conftest import SMALL
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import Scenario
from sim import labour_market as lm
from sim.kernels import turnover as kt
from sim.model import ConsortiumModel
from sim.students import Graduates


# ----------------------------------------------------------------- the numpy reference
def ref_competitor_of(self, firms):
    a = self.competition
    start, n_comp = a.indptr[firms], np.diff(a.indptr)[firms]
    has = n_comp > 0
    if has.all():
        return a.indices[start + (self.rng.random(firms.size) * n_comp).astype(np.int64)].astype(np.int64)
    out = np.full(firms.size, -1, dtype=np.int64)
    pick = start[has] + (self.rng.random(int(has.sum())) * n_comp[has]).astype(np.int64)
    out[has] = a.indices[pick]
    return out


def ref_hazards_of(self, idx, mt):
    g, fs = self.graduates, self.firm_state
    f = g.employer[idx]
    at_host = f == g.host[idx]
    on_ladder = (fs.on_ladder[f] & g.credential[idx]).astype(float)
    attach = np.where(at_host, g.host_level[idx], 0)
    return lm.monthly_hazards(mt, fs.competitors[f], on_ladder, attach, g.credential[idx].astype(float), g.skill[idx])


def ref_hazards(self, mt):
    g, fs = self.graduates, self.firm_state
    cached = getattr(self, "_hz", None)
    if cached is not None and cached[0] == g.version and (cached[1] is mt or cached[1] == mt) \
            and cached[3] is fs.competitors \
            and (cached[2] is fs.on_ladder or np.array_equal(cached[2], fs.on_ladder)):
        return cached[4]
    emp = (g.employer >= 0).nonzero()[0]
    quit, total = np.zeros(0), np.zeros(0)
    if emp.size:
        quit, p = self._hazards_of(emp, mt)
        total = quit + p
    state = [emp, quit, total]
    self._hz = (g.version, mt, fs.on_ladder, fs.competitors, state)
    return state


def ref_graduate_counts(self):
    g, fs = self.graduates, self.firm_state
    c = getattr(self, "_gcount", None)
    if c is not None and c["version"] == g.version:
        return c
    latest_step = getattr(self, "_latest_grad_step", -1)
    latest = g.grad_step == latest_step
    emp = g.employer >= 0
    c = {"version": g.version, "latest_step": latest_step, "latest": int(latest.sum()),
         "latest_employed": int((g.employer[latest] >= 0).sum()), "employed": int(emp.sum()),
         "matched": int((fs.sector[g.employer[emp]] == g.sector[emp]).sum())}
    self._gcount = c
    return c


def ref_turnover(self):
    g, fs = self.graduates, self.firm_state
    mt = self.market_terms()
    state = self._hazards(mt)
    emp, quit, total = state
    if emp.size == 0:
        return
    counts = self._graduate_counts()
    u = self.rng.random(emp.size)
    ci = (u < total).nonzero()[0]
    if ci.size == 0:
        return
    leaves = u[ci] < quit[ci]
    changed = emp[ci]
    cur, sector = g.employer[changed], g.sector[changed]
    was_matched = fs.sector[cur] == sector
    first = (cur == g.first_employer[changed]) & (g.left_first_step[changed] < 0)
    g.left_first_step[changed[first]] = self.steps
    gone = changed[leaves]
    counts["employed"] -= gone.size
    counts["matched"] -= int(was_matched[leaves].sum())
    counts["latest_employed"] -= int((g.grad_step[gone] == counts["latest_step"]).sum())
    g.employer[gone] = -1
    moving = ~leaves
    mv_at = ci[moving]
    mv = changed[moving]
    if mv.size:
        cur_mv = cur[moving]
        dest = self._competitor_of(cur_mv)
        ok = dest >= 0
        g.poached[mv[ok & (cur_mv == g.host[mv])]] = True
        moved, dest = mv[ok], dest[ok]
        counts["matched"] -= int(was_matched[moving][ok].sum())
        g.employer[moved] = dest
        counts["matched"] += int((fs.sector[dest] == sector[moving][ok]).sum())
        g.wage[moved] = lm.outside_wage(mt, fs.wage[dest], g.skill[moved], g.credential[moved].astype(float))
        if moved.size:
            q, p = self._hazards_of(moved, mt)
            at = mv_at[ok]
            quit[at], total[at] = q, q + p
    if gone.size:
        keep = np.ones(emp.size, dtype=bool)
        keep[ci[leaves]] = False
        state[:] = emp[keep], quit[keep], total[keep]


REFERENCE = {"_turnover": ref_turnover, "_hazards": ref_hazards, "_hazards_of": ref_hazards_of,
             "_graduate_counts": ref_graduate_counts, "_competitor_of": ref_competitor_of}


# ----------------------------------------------------------------- a model stripped to turnover
class City:
    """The state the turnover reads and writes, with the model's methods (or the reference's)."""

    _memo = ConsortiumModel._memo
    _competitor_of = ConsortiumModel._competitor_of
    _turnover_terms = ConsortiumModel._turnover_terms
    _hazards = ConsortiumModel._hazards
    _graduate_counts = ConsortiumModel._graduate_counts
    _turnover = ConsortiumModel._turnover

    def __init__(self, terms, firm_state, competition, graduates, seed, steps, latest_step):
        self.terms, self.firm_state, self.competition, self.graduates = terms, firm_state, competition, graduates
        self.rng = np.random.default_rng(seed)
        self.steps, self._latest_grad_step = steps, latest_step

    def market_terms(self):
        return self.terms

    def state(self):
        """The cached [emp, quit, total], whichever implementation made it."""
        hz = self._hazards(self.terms)
        return hz[0] if isinstance(hz, tuple) else hz

    def reference(self) -> City:
        """A deep copy that runs the numpy reference."""
        twin = copy.deepcopy(self)
        for name, f in REFERENCE.items():
            setattr(twin, name, types.MethodType(f, twin))
        twin.__dict__.pop("_hz", None)
        twin.__dict__.pop("_gcount", None)
        return twin


def random_terms(draw) -> lm.MarketTerms:
    mode = draw(st.sampled_from(["none", "portable", "employer_ladder"]))
    share = st.sampled_from([0.0, 0.05, 0.3, 0.77, 1.0])
    return lm.MarketTerms(
        compression=draw(share), transparency=draw(share), poaching_intensity=draw(st.sampled_from([0.0, 0.02, 0.4, 3.0])),
        base_quit_hazard=draw(st.sampled_from([0.0, 0.01, 0.3, 2.0])), outside_wage_premium=0.3, mobility_cost=0.1,
        credential_mode=mode, portability=draw(share), ladder_premium=draw(st.sampled_from([0.0, 0.12, 0.5])),
        credential_wage_premium=draw(share))


def graduate_cols(rng, n, n_firms, n_sectors, p_employed, steps):
    employer = np.where(rng.random(n) < p_employed, rng.integers(0, n_firms, n), -1)
    host = np.where(rng.random(n) < 0.6, np.where(rng.random(n) < 0.6, employer, rng.integers(0, n_firms, n)), -1)
    return dict(
        school=rng.integers(0, 3, n), sector=rng.integers(0, n_sectors, n), skill=rng.uniform(0.0, 2.6, n),
        credential=rng.random(n) < 0.5, host=host, host_level=np.where(host >= 0, rng.integers(0, 3, n), 0),
        real_training=rng.random(n) < 0.5, employer=employer, wage=rng.uniform(1000, 9000, n),
        grad_step=rng.choice(np.array([steps - 13, steps - 1]), n), offered=rng.random(n) < 0.5,
        poached=rng.random(n) < 0.1, first_employer=np.where(rng.random(n) < 0.8, employer, -1),
        left_first_step=np.where(rng.random(n) < 0.8, -1, steps - 2))


@st.composite
def cities(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n_firms = draw(st.integers(1, 12))
    n_sectors = draw(st.integers(1, 3))
    n = draw(st.sampled_from([0, 1, 2, 7, 40, 300]))
    ties = rng.random((n_firms, n_firms)) < draw(st.sampled_from([0.0, 0.3, 1.0]))
    np.fill_diagonal(ties, False)
    competition = sp.csr_matrix(ties.astype(float))
    firm_sector = rng.integers(0, n_sectors, n_firms)
    firm_state = SimpleNamespace(
        n=n_firms, sector=firm_sector, wage=rng.uniform(2000, 8000, n_firms), on_ladder=rng.random(n_firms) < 0.5,
        # independent of the ties on purpose: the hazards read one, the moves the other
        competitors=draw(st.sampled_from([0.0, 1.0])) * rng.integers(0, 6, n_firms).astype(float))
    steps = 40
    graduates = Graduates()
    graduates.append(**graduate_cols(rng, n, n_firms, n_sectors, draw(st.sampled_from([0.0, 0.5, 1.0])), steps))
    return City(random_terms(draw), firm_state, competition, graduates, draw(st.integers(0, 2**32 - 1)), steps,
                steps - 1)


def bits(a):
    a = np.asarray(a)
    return a.view(np.int64) if a.dtype == np.float64 else a


def assert_same(new: City, ref: City):
    for f in Graduates.fields:
        np.testing.assert_array_equal(bits(getattr(new.graduates, f)), bits(getattr(ref.graduates, f)), err_msg=f)
    for a, b in zip(new.state(), ref.state(), strict=True):
        np.testing.assert_array_equal(bits(a), bits(b))
    assert new._graduate_counts() == ref._graduate_counts()
    assert new.rng.bit_generator.state == ref.rng.bit_generator.state


# ----------------------------------------------------------------- tests
@settings(max_examples=200, deadline=None)
@given(cities(), st.integers(1, 4), st.booleans(), st.booleans())
def test_months_of_turnover_equal_the_numpy_reference(city, months, ties, new_cohort):
    ref = city.reference()
    if ties:  # uniforms exactly equal to some quit and some total hazards
        emp, quit, total = city.state()
        _, rquit, rtotal = ref.state()
        u = copy.deepcopy(city.rng).random(emp.size)
        for q, t in ((quit, total), (rquit, rtotal)):
            q[::3] = np.minimum(u[::3], t[::3])
            t[1::3] = np.maximum(u[1::3], q[1::3])
    assert_same(city, ref)
    for month in range(months):
        for c in (city, ref):
            c._turnover()
            c.steps += 1
        assert_same(city, ref)
        if new_cohort and month == 0:  # graduates added: hazards and counts recomputed
            cols = graduate_cols(np.random.default_rng(month), 25, city.firm_state.n, 3, 0.7, city.steps)
            for c in (city, ref):
                c.graduates.append(**copy.deepcopy(cols))
                c._latest_grad_step = c.steps
            assert_same(city, ref)


@settings(max_examples=100, deadline=None)
@given(cities())
def test_counts_kept_month_by_month_equal_a_recount(city):
    for _ in range(3):
        city._turnover()
        city.steps += 1
    kept = dict(city._graduate_counts())
    city.__dict__.pop("_gcount")
    assert city._graduate_counts() == kept


@settings(max_examples=200, deadline=None)
@given(cities())
def test_employed_hazards_are_monthly_hazards(city):
    g, fs, mt = city.graduates, city.firm_state, city.terms
    h = kt.hazard_terms(mt)
    emp, quit, total = kt.employed_hazards(g.employer, g.host, g.host_level, g.credential, g.skill, fs.competitors,
                                           fs.on_ladder, h.stay, h.unmatched, h.base_quit, h.pressure, h.pull)
    np.testing.assert_array_equal(emp, (g.employer >= 0).nonzero()[0])
    q, p = ref_hazards_of(city, emp, mt)
    np.testing.assert_array_equal(bits(quit), bits(q))
    np.testing.assert_array_equal(bits(total), bits(q + p))


def test_a_move_goes_to_a_competitor_at_its_outside_wage():
    """One graduate, certain to be poached from its host by the only competitor, firm 1."""
    terms = lm.MarketTerms(compression=0.0, transparency=1.0, poaching_intensity=10.0, base_quit_hazard=0.0,
                           outside_wage_premium=0.3, mobility_cost=0.1, credential_mode="portable", portability=1.0,
                           ladder_premium=0.0, credential_wage_premium=0.1)
    fs = SimpleNamespace(n=2, sector=np.array([0, 0]), wage=np.array([3000.0, 5000.0]),
                         on_ladder=np.array([False, False]), competitors=np.array([1.0, 1.0]))
    competition = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))
    g = Graduates()
    g.append(**graduate_cols(np.random.default_rng(0), 1, 2, 1, 1.0, 40))
    g.employer[:] = g.host[:] = g.first_employer[:] = 0
    g.host_level[:], g.skill[:], g.credential[:], g.left_first_step[:], g.poached[:] = 2, 1.5, True, -1, False
    city = City(terms, fs, competition, g, 1, 40, 39)
    assert np.random.default_rng(1).random() < 0.9  # the poaching hazard (clipped at 0.9) strikes
    city._turnover()
    assert g.employer[0] == 1 and g.poached[0] and g.left_first_step[0] == 40
    assert g.wage[0] == 5000.0 * (1.0 + 0.3 * 0.5 + 0.1)
    assert city._graduate_counts()["matched"] == 1 and city._graduate_counts()["employed"] == 1


def test_a_whole_run_equals_the_numpy_reference_month_by_month():
    """A small city over its whole run: every graduate array after every month."""
    scenario = Scenario().with_overrides(SMALL)
    reference_model = type("ReferenceModel", (ConsortiumModel,), REFERENCE)  # from the first (warm-up) month on
    new, ref = ConsortiumModel(scenario, seed=5), reference_model(scenario, seed=5)
    changes = 0
    while new.running:
        before = new.graduates.employer.copy()
        new.step()
        ref.step()
        after = new.graduates.employer
        changes += int((after != before).sum()) if after.size == before.size else 0
        for f in Graduates.fields:
            np.testing.assert_array_equal(bits(getattr(new.graduates, f)), bits(getattr(ref.graduates, f)))
        assert new.rng.bit_generator.state == ref.rng.bit_generator.state
    assert changes > 0  # the run did exercise turnover
