"""Matrix products over several contracted axes (a weight's gradient summed over time steps and samples):
operands in (contracted, free) order go to BLAS as transposed views, not permuted copies, with the values
of NumPy and of the reference evaluator."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.graph import ops

SPECS = ["tab,tad->bd", "tad,bd->tab", "tab,bd->tad", "abt,adt->bd", "tab,tdb->ad"]


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_contractions_match_numpy_and_the_reference(rng, spec, dtype):
    a_idx, rest = spec.split(",")
    b_idx, _ = rest.split("->")
    size = {"t": 5, "a": 3, "b": 4, "d": 6}
    a = rng.normal(size=[size[c] for c in a_idx]).astype(dtype)
    b = rng.normal(size=[size[c] for c in b_idx]).astype(dtype)
    A = K.placeholder((None,) + a.shape[1:], dtype=dtype)
    B = K.placeholder(b.shape, dtype=dtype)
    out = ops.Einsum(spec)(A, B)
    wanted = np.einsum(spec, a, b)
    for backend in ("reference", "numba"):
        (got,) = K.function([A, B], [out], backend=backend)([a, b])
        np.testing.assert_allclose(got, wanted, rtol=1e-5 if dtype == "float32" else 1e-12, atol=1e-5)
        assert got.dtype == dtype and got.shape == wanted.shape


def test_a_weight_gradient_over_time_steps_reads_its_operands_without_a_copy():
    X = K.placeholder((None, 4, 3))  # (samples, time, features) -> time major below
    G = K.placeholder((4, None, 5))
    dw = ops.Einsum("tab,tad->bd")(ops.transpose(X, (1, 0, 2)), G)
    f = K.function([X, G], [dw])
    src = f.source
    block = src[src.index("Einsum{tab,tad->bd}"):]
    block = block[:block.index("\n    # ", 1)]
    assert ".T" in block and "for j0 in range" not in block  # a transposed view, no permuting loop nest
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    g = np.random.default_rng(2).normal(size=(4, 2, 5)).astype("float32")
    (got,) = f([x, g])
    np.testing.assert_allclose(got, np.einsum("tab,tad->bd", x.transpose(1, 0, 2), g), rtol=1e-5, atol=1e-5)
