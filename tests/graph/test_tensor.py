"""Tensors: kinds, dtypes, static shapes and Python operators."""

import numpy as np
import pytest
from helpers import compute

from symkeras import runtime
from symkeras.graph import ops
from symkeras.graph.basic import constant, placeholder
from symkeras.runtime import variable

pytestmark = pytest.mark.usefixtures("backend")


def test_leaf_kinds_dtypes_and_shapes():
    x = placeholder((None, 3), name="x")
    assert (x.kind, x.dtype, x.shape, x.ndim, x.name) == ("placeholder", "float32", (None, 3), 2, "x")
    v = variable(np.arange(6).reshape(2, 3), name="v")
    assert (v.kind, v.dtype, v.shape) == ("variable", "float32", (2, 3))
    assert runtime.get_value(v).dtype == np.float32
    c = constant(2.5)
    assert (c.kind, c.dtype, c.shape) == ("constant", "float32", ())
    assert constant(3).dtype == "int64"
    assert placeholder(ndim=3, dtype="int32").shape == (None, None, None)
    with pytest.raises(TypeError, match="Unsupported dtype"):
        placeholder((2,), dtype="complex64")
    with pytest.raises(ValueError, match="shape or an ndim"):
        placeholder()


def test_variable_values_live_in_the_storage_copied_and_shape_checked():
    data = np.ones((2, 2))
    v = variable(data, name="w")
    data[0, 0] = 5
    assert runtime.get_value(v)[0, 0] == 1
    got = runtime.get_value(v)
    got[0, 0] = 7
    assert runtime.get_value(v)[0, 0] == 1
    runtime.set_value(v, np.full((2, 2), 3.0))
    assert np.all(runtime.get_value(v) == 3)
    with pytest.raises(ValueError, match=r"shape \(3,\) to variable 'w' of shape \(2, 2\)"):
        runtime.set_value(v, np.ones(3))
    with pytest.raises(TypeError, match="numeric"):
        runtime.set_value(v, np.array([["a", "b"], ["c", "d"]]))
    assert np.all(runtime.get_value(v) == 3)
    # the IR holds no value: a variable is identity, dtype and shape
    assert not hasattr(v, "_value") or v._value is None
    with pytest.raises(TypeError, match="lives in the runtime's storage"):
        _ = v.value
    with pytest.raises(TypeError, match="only constants"):
        _ = placeholder((1,)).value


ARITH = [
    ("add", lambda a, b: a + b, np.add),
    ("radd", lambda a, b: 2.0 + b, lambda a, b: 2.0 + b),
    ("sub", lambda a, b: a - b, np.subtract),
    ("rsub", lambda a, b: 1 - a, lambda a, b: 1 - a),
    ("mul", lambda a, b: a * b, np.multiply),
    ("div", lambda a, b: a / b, np.divide),
    ("rdiv", lambda a, b: 1.0 / b, lambda a, b: 1.0 / b),
    ("floordiv", lambda a, b: a // b, np.floor_divide),
    ("mod", lambda a, b: a % b, np.mod),
    ("pow", lambda a, b: abs(a) ** b, lambda a, b: np.abs(a) ** b),
    ("rpow", lambda a, b: 2 ** a, lambda a, b: 2.0 ** a),
    ("neg", lambda a, b: -a, np.negative.__call__),
    ("abs", lambda a, b: abs(a), lambda a, b: np.abs(a)),
    ("lt", lambda a, b: a < b, np.less),
    ("le", lambda a, b: a <= b, np.less_equal),
    ("gt", lambda a, b: a > b, np.greater),
    ("ge", lambda a, b: a >= b, np.greater_equal),
    ("and_or_not", lambda a, b: (a > 0) & ~(b > 0) | (a > b), lambda a, b: (a > 0) & ~(b > 0) | (a > b)),
]


@pytest.mark.parametrize("case", ARITH, ids=[c[0] for c in ARITH])
def test_python_operators_match_numpy(case, rng):
    name, sym, ref = case
    a_val = rng.uniform(-2, 2, (3, 4)).astype("float32")
    b_val = rng.uniform(0.5, 2, (4,)).astype("float32")
    a, b = placeholder((None, 4)), placeholder((4,))
    out = sym(a, b)
    got = compute(out, {a: a_val, b: b_val})
    want = ref(a_val, b_val) if name != "neg" else -a_val
    assert got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_matmul_operator_and_reflected_numpy(rng):
    a = placeholder((2, 3))
    m = rng.normal(size=(3, 4)).astype("float32")
    a_val = rng.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(compute(a @ m, {a: a_val}), a_val @ m, rtol=1e-5)
    # numpy scalars/arrays on the left defer to the tensor
    out = np.float32(2) * a
    assert out.owner is not None
    np.testing.assert_allclose(compute(m.T @ a.T, {a: a_val}), m.T @ a_val.T, rtol=1e-5)


def test_python_scalars_keep_the_tensor_dtype():
    x = placeholder((2,), dtype="float32")
    assert (x * 2).dtype == "float32"
    assert (x * 2.5).dtype == "float32"
    assert (x + np.float64(1)).dtype == "float32"
    i = placeholder((2,), dtype="int32")
    assert (i + 1).dtype == "int32"
    assert (i * 0.5).dtype == "float32"
    assert (i / 2).dtype == "float32"
    d = placeholder((2,), dtype="float64")
    assert (x + d).dtype == "float64"
    assert (x > 1).dtype == "bool"


INDEXING = [
    (2,), (-1,), (slice(1, None),), (slice(None, None, -1),), (None,), (Ellipsis, 0),
    (0, slice(None), None), (slice(-3, -1), Ellipsis, slice(None, None, 2)), (Ellipsis,),
    (1, -2, 0),
]


@pytest.mark.parametrize("index", INDEXING, ids=[repr(i) for i in INDEXING])
def test_indexing_matches_numpy(index, rng):
    value = rng.normal(size=(4, 5, 3)).astype("float32")
    x = placeholder((None, 5, 3))
    out = x[index]
    want = value[index]
    got = compute(out, {x: value})
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    static = placeholder((4, 5, 3))[index]
    assert static.shape == want.shape


def test_indexing_errors():
    x = placeholder((4, 5))
    with pytest.raises(IndexError, match="out of bounds for axis 1 of size 5"):
        x[0, 5]
    with pytest.raises(IndexError, match="Too many indices"):
        x[0, 0, 0]
    with pytest.raises(TypeError, match="Unsupported index"):
        x[0.5]
    with pytest.raises(IndexError, match="one Ellipsis"):
        x[..., ...]


def test_symbolic_truth_value_and_iteration_are_errors():
    x = placeholder((2,))
    with pytest.raises(TypeError, match="truth value"):
        bool(x > 0)
    with pytest.raises(TypeError, match="not iterable"):
        list(x)


def test_broadcast_contradiction_raises_at_build_time():
    with pytest.raises(ValueError, match=r"Shapes \(None, 3\), \(4,\) cannot be broadcast"):
        placeholder((None, 3)) + placeholder((4,))


def test_transpose_property():
    x = placeholder((2, 3))
    assert x.T.shape == (3, 2)
    assert ops.transpose(x, (0, 1)) is x
