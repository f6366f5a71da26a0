"""Evaluate graphs with the backend under test, checked against the reference evaluator."""

import numpy as np

from symkeras import config
from symkeras.codegen.function import Function
from symkeras.codegen.reference import evaluate
from symkeras.graph.basic import Tensor

#: float32 tolerances between a compiled backend and the NumPy reference
RTOL = {"float16": 1e-2, "float32": 2e-5, "float64": 1e-9}
ATOL = {"float16": 1e-3, "float32": 2e-6, "float64": 1e-12}


def assert_same(got, want, dtype, what="value"):
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != reference {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != reference {want.shape}"
    if want.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=RTOL[dtype], atol=ATOL[dtype], equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def compute(outputs, feed=None):
    """Values of ``outputs`` on the configured backend; a compiled backend must match the reference."""
    feed = dict(feed or {})
    single = isinstance(outputs, Tensor)
    outs = [outputs] if single else list(outputs)
    want = evaluate(outs, feed)
    if config.backend() == "reference":
        return want[0] if single else want
    fn = Function(list(feed), outs, backend=config.backend())
    got = fn([feed[k] for k in feed])
    for i, (g, w, t) in enumerate(zip(got, want, outs)):
        assert_same(g, w, t.dtype if t.dtype.startswith("float") else "float32", what=f"output {i} ({t!r})")
    return got[0] if single else got
