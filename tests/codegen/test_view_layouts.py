"""The Numba backend foresees the layout Numba gives a basic index of an array (kernels_shape.py), so that the
kernels reading the view are called through their addresses: checked against Numba's own typing."""

import numba
import numpy as np
import pytest

from symkeras.codegen.numba.kernels_shape import _index_source, _subtensor_layout
from symkeras.graph.ops.shape import _normalize_index

INDICES = [(slice(None), slice(0, 128)), (slice(1, None),), (-1,), (slice(0, 2), slice(None)),
           (slice(None, None, -1),), (2,), (slice(None), 3), (1, slice(2, 5)), (0, 1),
           (slice(None), slice(None, None, 2))]


@pytest.mark.parametrize("index", INDICES, ids=[str(i) for i in INDICES])
@pytest.mark.parametrize("readonly", [False, True])
def test_foreseen_layouts_are_numbas(index, readonly):
    spec = _normalize_index(index, 2)
    source = _index_source(spec)
    namespace = {}
    exec(f"def view(a):\n    return a[{source}]", namespace)
    jitted = numba.njit(namespace["view"])
    array = np.zeros((4, 256), np.float32)
    array.setflags(write=not readonly)
    jitted(array)
    typed = jitted.nopython_signatures[0].return_type
    if isinstance(typed, numba.types.Array):  # (an index of both axes gives a scalar)
        assert _subtensor_layout(spec, ("C", readonly)) == (typed.layout, not typed.mutable)
    else:
        assert spec == (("i", 0), ("i", 1))
