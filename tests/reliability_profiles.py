"""Hypothesis settings of the reliability tests (property, fuzz and fault tests).

Two profiles, registered here and applied per test with
``@settings(parent=profile("ci"))`` so that nothing changes the global
Hypothesis defaults of other test files:

* ``ci`` -- derandomized (the same examples on every machine and run), a
  few hundred examples, no example database, no deadline (the machine is
  shared, so timings vary).
* ``long`` -- the documented long run (``pytest -m slow``): thousands of
  examples, still derandomized so a failure is reproducible.

``CONSIM_PROPERTY_EXAMPLES`` overrides the number of examples of the ``ci``
profile (for a quick local check or a longer soak).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

#: Examples per property test in CI (the brief asks for "at least a few hundred").
CI_EXAMPLES = int(os.environ.get("CONSIM_PROPERTY_EXAMPLES", "300"))
#: Examples of the long run (``pytest -m slow``).
LONG_EXAMPLES = int(os.environ.get("CONSIM_PROPERTY_LONG_EXAMPLES", "3000"))

_COMMON = dict(
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

settings.register_profile("consim-ci", max_examples=CI_EXAMPLES, **_COMMON)
settings.register_profile("consim-long", max_examples=LONG_EXAMPLES, **_COMMON)


def profile(name: str) -> settings:
    """The registered settings profile ``"ci"`` or ``"long"``."""
    return settings.get_profile(f"consim-{name}")
