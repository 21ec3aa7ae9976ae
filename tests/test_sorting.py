"""The fast sorts and the placement walk give exactly what the slow versions give."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

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
