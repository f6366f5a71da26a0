"""The NaN guard's check, called from guarded steps after every node with a float output."""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def all_finite(a) -> bool:
    """Whether every element of ``a`` is finite (neither NaN nor +-Inf)."""
    flat = a.ravel()
    for i in range(flat.size):
        x = flat[i]
        if not x - x == 0:  # NaN - NaN and Inf - Inf are NaN
            return False
    return True
