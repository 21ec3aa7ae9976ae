"""Compiled (numba) kernels for the model's hot paths, one module per phase; rules in :mod:`sim.jit`."""
