"""The fast sorts and the placement walk give exactly what the slow versions give."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sim import placement as plc
from sim.sorting import argsort_stable, lexsort2

FLOATS = st.one_of(
    arrays(np.float64, st.integers(0, 200), elements=st.floats(-3, 3, allow_nan=False)),
    arrays(np.float64, st.integers(0, 200), elements=st.sampled_from([0.0, -0.0, 0.25, 0.5, 1.0, np.nan])),
)
INTS = st.one_of(
    arrays(np.int64, st.integers(0, 200), elements=st.integers(0, 6)),
    arrays(np.int64, st.integers(0, 200), elements=st.integers(-5, 40_000)),
)


@settings(max_examples=300, deadline=None)
@given(key=st.one_of(FLOATS, INTS))
def test_argsort_stable_is_numpys_stable_argsort(key):
    assert np.array_equal(argsort_stable(key), np.argsort(key, kind="stable"))


@settings(max_examples=300, deadline=None)
@given(data=st.data(), n=st.integers(0, 150))
def test_lexsort2_is_numpys_lexsort(data, n):
    def column():
        return data.draw(st.one_of(
            arrays(np.float64, n, elements=st.floats(0, 1, allow_nan=False)),
            arrays(np.float64, n, elements=st.sampled_from([0.0, 0.3, 0.5])),
            arrays(np.int64, n, elements=st.integers(0, 9)),
        ))

    minor, major = column(), column()
    assert np.array_equal(lexsort2(minor, major), np.lexsort((minor, major)))


@pytest.mark.parametrize("seed", range(5))
def test_sequential_walk_equals_rounds(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        n_res, n_firm, n_ties = (int(x) for x in rng.integers(1, 30, 3))
        need, left = rng.integers(0, 6, n_res), rng.integers(0, 6, n_firm)
        res, firm = rng.integers(0, n_res, n_ties), rng.integers(0, n_firm, n_ties)
        a_need, a_left = need.copy(), left.copy()
        walk = plc._along_ties(a_need, a_left, res, firm)
        monkeypatch.setattr(plc, "_SEQUENTIAL_MAX", -1)
        b_need, b_left = need.copy(), left.copy()
        rounds = plc._along_ties(b_need, b_left, res, firm)
        monkeypatch.undo()
        assert np.array_equal(walk, rounds) and walk.dtype == rounds.dtype
        assert np.array_equal(a_need, b_need) and np.array_equal(a_left, b_left)
