"""Per-run seeds, derived once from a sweep's master seed.

Design note
-----------
Every seed of a sweep comes from one master seed through
:class:`numpy.random.SeedSequence`, before any run is dispatched, and is
written into ``runs.parquet`` next to the run. Replication ``r`` uses the same
seed at every design point (common random numbers), so two policies are
compared on the same simulated cities and the difference between them carries
less noise. Because the seeds are fixed before dispatch, results do not depend
on the number of workers, their order or on resuming.

The sampled designs (Latin hypercube, Sobol, Morris) take their own seed from
an independent child stream of the same master seed, so adding replications
never changes the design points.
"""

from __future__ import annotations

import numpy as np

#: Spawn key of the stream that seeds design samplers; far above any
#: replication index, so it never coincides with a replication's stream.
DESIGN_STREAM = 2**31 - 1


def _to_int(seq: np.random.SeedSequence) -> int:
    # 63 bits: fits a signed 64-bit Parquet column and any seed-taking RNG.
    return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def replication_seeds(master: int, replications: int) -> list[int]:
    """Seeds of replications ``0 .. replications-1``: ``SeedSequence(master).spawn``.

    The seed of replication ``r`` depends only on ``master`` and ``r`` (not on
    how many replications there are), so extending a sweep keeps its seeds.
    """
    if replications < 0:
        raise ValueError("replications must be >= 0")
    return [_to_int(child) for child in np.random.SeedSequence(master).spawn(replications)]


def design_seed(master: int) -> int:
    """Seed for a sampled design (always >= 1: SALib treats ``seed=0`` as no seed)."""
    seq = np.random.SeedSequence(master, spawn_key=(DESIGN_STREAM,))
    return int(seq.generate_state(1, dtype=np.uint32)[0]) % (2**31 - 2) + 1
