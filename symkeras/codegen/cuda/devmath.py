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


# The math module's functions as the GPU computes them: IEEE results (NaN, infinities) where Python's math
# raises for a domain or range error (Numba's simulator runs kernels as Python)
EXP_MAX = 709.782712893384  # math.exp overflows a double above this


@cuda.jit(device=True)
def exp_(x):
    return math.inf if x > EXP_MAX else math.exp(x)


@cuda.jit(device=True)
def expm1_(x):
    return math.inf if x > EXP_MAX else math.expm1(x)


@cuda.jit(device=True)
def log_(x):
    if x > 0:
        return math.log(x)
    return -math.inf if x == 0 else math.nan


@cuda.jit(device=True)
def log1p_(x):
    if x > -1:
        return math.log1p(x)
    return -math.inf if x == -1 else math.nan


@cuda.jit(device=True)
def sqrt_(x):
    return math.sqrt(x) if x >= 0 else math.nan
