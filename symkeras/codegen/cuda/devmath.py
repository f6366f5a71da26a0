"""Device functions the generated kernels call where the ``math`` module has no equivalent of NumPy's."""

from __future__ import annotations

import math

from numba import cuda


@cuda.jit(device=True)
def rint_(x):
    """Round half to even, as ``np.rint``."""
    down = math.floor(x)
    diff = x - down
    if diff > 0.5 or (diff == 0.5 and down % 2 != 0):
        return down + 1
    return down


@cuda.jit(device=True)
def sign_(x):
    """``np.sign``: -1, 0 or 1 (NaN stays NaN)."""
    if x > 0:
        return 1
    if x < 0:
        return -1
    return x * 0
