"""Forward semantics of the op catalogue against NumPy, static shape inference included."""

import numpy as np
import pytest
from helpers import compute

from symkeras.graph import ops
from symkeras.graph.basic import constant, placeholder

pytestmark = pytest.mark.usefixtures("backend")

RNG = np.random.default_rng(7)
X = RNG.uniform(-3, 3, size=(3, 4)).astype("float32")


def run(fn, *values, shapes=None):
    """Build fn over placeholders shaped like the values (first axis None), evaluate."""
    phs = [placeholder((None,) + v.shape[1:] if v.ndim else (), dtype=v.dtype.name) for v in values]
    out = fn(*phs)
    got = compute(out, dict(zip(phs, values)))
    assert len(out.shape) == got.ndim
    assert all(s is None or s == g for s, g in zip(out.shape, got.shape))
    assert out.dtype == got.dtype.name
    return got


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


UNARY = [
    ("sign", ops.sign, np.sign),
    ("floor", ops.floor, np.floor),
    ("ceil", ops.ceil, np.ceil),
    ("round_half_even", ops.round_, np.round),
    ("exp", ops.exp, np.exp),
    ("log", lambda x: ops.log(abs(x)), lambda x: np.log(np.abs(x))),
    ("log1p", lambda x: ops.log1p(abs(x)), lambda x: np.log1p(np.abs(x))),
    ("expm1", ops.expm1, np.expm1),
    ("sqrt", lambda x: ops.sqrt(abs(x)), lambda x: np.sqrt(np.abs(x))),
    ("square", ops.square, np.square),
    ("reciprocal", ops.reciprocal, np.reciprocal),
    ("sin", ops.sin, np.sin),
    ("cos", ops.cos, np.cos),
    ("tanh", ops.tanh, np.tanh),
    ("sigmoid", ops.sigmoid, _sigmoid),
    ("hard_sigmoid", ops.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    ("softplus", ops.softplus, lambda x: np.log(1 + np.exp(x))),
    ("softsign", ops.softsign, lambda x: x / (1 + np.abs(x))),
    ("relu", ops.relu, lambda x: np.maximum(x, 0)),
    ("relu6", lambda x: ops.relu(x, max_value=6.0), lambda x: np.clip(x, 0, 6)),
    ("leaky_relu", lambda x: ops.relu(x, alpha=0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    ("relu_threshold", lambda x: ops.relu(x, threshold=1.0), lambda x: np.where(x > 1, x, 0)),
    ("relu_all", lambda x: ops.relu(x, alpha=0.5, max_value=2.0, threshold=1.0),
     lambda x: np.clip(np.where(x > 1, x, 0), 0, 2) - 0.5 * np.maximum(1 - x, 0)),
    ("elu", lambda x: ops.elu(x, 0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    ("selu", ops.selu,
     lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))),
    ("clip", lambda x: ops.clip(x, -1, 0.5), lambda x: np.clip(x, -1, 0.5)),
    ("clip_max_below_min", lambda x: ops.clip(x, 1, 0), lambda x: np.clip(x, 1, 1)),
    ("identity", ops.identity, lambda x: x),
    ("stop_gradient", ops.stop_gradient, lambda x: x),
]


@pytest.mark.parametrize("case", UNARY, ids=[c[0] for c in UNARY])
def test_unary(case):
    name, fn, ref = case
    value = X.copy()
    value[0, :2] = [0.5, -2.5]  # exact halves for rounding
    np.testing.assert_allclose(run(fn, value), ref(value).astype("float32"), rtol=2e-6, atol=1e-6)


def test_unary_on_integers_gives_floatx_where_real_valued():
    i = placeholder((3,), dtype="int32")
    assert ops.exp(i).dtype == "float32"
    assert ops.sqrt(i).dtype == "float32"
    assert ops.square(i).dtype == "int32"
    assert ops.neg(i).dtype == "int32"
    assert ops.cast(i, "float64").dtype == "float64"
    assert ops.cast(i, "int32") is i


def test_stable_sigmoid_and_softplus_at_extremes():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype="float32")
    got = run(ops.sigmoid, x)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, [0, _sigmoid(-50.0), 0.5, 1, 1], atol=1e-7)
    sp = run(ops.softplus, x)
    np.testing.assert_allclose(sp, [0, np.log1p(np.exp(-50.0)), np.log(2), 50, 1000], rtol=1e-6)


BINARY = [
    ("maximum", ops.maximum, np.maximum),
    ("minimum", ops.minimum, np.minimum),
    ("equal", ops.equal, np.equal),
    ("not_equal", ops.not_equal, np.not_equal),
    ("logical_xor", lambda a, b: ops.logical_xor(a > 0, b > 0), lambda a, b: np.logical_xor(a > 0, b > 0)),
    ("mod_negative", lambda a, b: a % -b, lambda a, b: np.mod(a, -b)),
    ("where", lambda a, b: ops.where(a > b, a, b * 2), lambda a, b: np.where(a > b, a, b * 2)),
    ("where_numeric_cond", lambda a, b: ops.where(ops.floor(a), a, b), lambda a, b: np.where(np.floor(a), a, b)),
]


@pytest.mark.parametrize("case", BINARY, ids=[c[0] for c in BINARY])
def test_binary_broadcasting(case):
    name, fn, ref = case
    a = X
    b = np.round(RNG.uniform(-3, 3, size=(1, 4)).astype("float32"))
    b[b == 0] = 1  # no modulo by zero
    a = a.copy()
    a[0] = b[0]  # some ties
    np.testing.assert_allclose(run(fn, a, b), ref(a, b))


REDUCTIONS = [
    ("sum", ops.reduce_sum, np.sum),
    ("prod", ops.reduce_prod, np.prod),
    ("max", ops.reduce_max, np.max),
    ("min", ops.reduce_min, np.min),
    ("mean", ops.reduce_mean, np.mean),
    ("var", ops.reduce_var, np.var),
    ("std", ops.reduce_std, np.std),
    ("any", lambda x, axis, keepdims: ops.reduce_any(x > 2, axis, keepdims),
     lambda x, axis, keepdims: np.any(x > 2, axis=axis, keepdims=keepdims)),
    ("all", lambda x, axis, keepdims: ops.reduce_all(x > -2, axis, keepdims),
     lambda x, axis, keepdims: np.all(x > -2, axis=axis, keepdims=keepdims)),
    ("logsumexp", ops.logsumexp,
     lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
]
AXES = [None, 0, 1, -1, (0, 2), (2, 0, 1)]


@pytest.mark.parametrize("axis", AXES, ids=[repr(a) for a in AXES])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("case", REDUCTIONS, ids=[c[0] for c in REDUCTIONS])
def test_reductions(case, axis, keepdims):
    name, fn, ref = case
    value = RNG.uniform(-3, 3, size=(2, 3, 4)).astype("float32")
    got = run(lambda x: fn(x, axis=axis, keepdims=keepdims), value)
    want = ref(value, axis=axis, keepdims=keepdims)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_reduction_of_bool_and_int():
    b = placeholder((3,), dtype="bool")
    assert ops.reduce_sum(b).dtype == "int64"
    i = placeholder((3,), dtype="int32")
    assert ops.reduce_mean(i).dtype == "float32"
    assert compute(ops.reduce_mean(i), {i: np.array([1, 2, 4])}) == pytest.approx(7 / 3)


def test_logsumexp_is_stable():
    value = np.array([[1000.0, 1000.0], [-1000.0, -1000.0]], dtype="float32")
    got = run(lambda x: ops.logsumexp(x, axis=1), value)
    np.testing.assert_allclose(got, [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-6)


@pytest.mark.parametrize("fn,ref", [(ops.argmax, np.argmax), (ops.argmin, np.argmin)])
def test_arg_reductions(fn, ref):
    value = RNG.normal(size=(3, 4, 5)).astype("float32")
    for axis in (0, 1, -1):
        got = run(lambda x, axis=axis: fn(x, axis), value)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, ref(value, axis=axis))
    assert compute(fn(constant(value), None)) == ref(value)
    kept = run(lambda x: fn(x, 1, keepdims=True), value)
    assert kept.shape == (3, 1, 5)


def test_einsum_dot_family_shapes_and_values():
    a = RNG.normal(size=(2, 3, 4)).astype("float32")
    w = RNG.normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(run(lambda x: ops.dot(x, constant(w)), a), np.dot(a, w), rtol=1e-5)
    b = RNG.normal(size=(6, 4, 2)).astype("float32")
    np.testing.assert_allclose(compute(ops.dot(constant(a), constant(b))), np.dot(a, b), rtol=1e-5, atol=1e-6)
    v = RNG.normal(size=(4,)).astype("float32")
    np.testing.assert_allclose(compute(ops.dot(constant(a), constant(v))), np.dot(a, v), rtol=1e-5)
    np.testing.assert_allclose(compute(ops.dot(constant(v), constant(v))), np.dot(v, v), rtol=1e-5)
    c = RNG.normal(size=(2, 4, 3)).astype("float32")
    np.testing.assert_allclose(compute(constant(a) @ constant(c)), a @ c, rtol=1e-5)
    td = ops.tensordot(constant(a), constant(c), ((1, 2), (2, 1)))
    np.testing.assert_allclose(compute(td), np.tensordot(a, c, ((1, 2), (2, 1))), rtol=1e-5)
    with pytest.raises(ValueError, match="dimension"):
        ops.dot(placeholder((None, 3)), placeholder((4, 2)))


def test_batch_dot_follows_keras_examples():
    # Keras 2 docs: x (32, 20, 1), y (32, 30, 20), axes=(1, 2) -> (32, 1, 30)
    x = RNG.normal(size=(32, 20, 1)).astype("float32")
    y = RNG.normal(size=(32, 30, 20)).astype("float32")
    out = ops.batch_dot(placeholder((None, 20, 1)), placeholder((None, 30, 20)), axes=(1, 2))
    assert out.shape == (None, 1, 30)
    got = run(lambda a, b: ops.batch_dot(a, b, axes=(1, 2)), x, y)
    want = np.stack([x[i].T @ y[i].T for i in range(32)])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    # 2D x 2D with axes=1 -> (batch, 1)
    a = RNG.normal(size=(5, 3)).astype("float32")
    got = run(lambda p, q: ops.batch_dot(p, q, axes=1), a, a)
    np.testing.assert_allclose(got, np.sum(a * a, axis=1, keepdims=True), rtol=1e-5)
    # default axes behave like batched matmul
    m = RNG.normal(size=(5, 3, 4)).astype("float32")
    n = RNG.normal(size=(5, 4, 2)).astype("float32")
    np.testing.assert_allclose(run(ops.batch_dot, m, n), m @ n, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch axis"):
        ops.batch_dot(placeholder((2, 3)), placeholder((2, 3)), axes=0)


def test_shape_ops():
    value = RNG.normal(size=(2, 3, 4)).astype("float32")
    assert run(lambda x: ops.reshape(x, (-1, 4)), value).shape == (6, 4)
    assert ops.reshape(placeholder((2, 3, 4)), (4, -1)).shape == (4, 6)
    assert ops.reshape(placeholder((None, 3, 4)), (-1, 12)).shape == (None, 12)
    with pytest.raises(ValueError, match=r"Cannot reshape a tensor of shape \(2, 3\) to \(4,\)"):
        ops.reshape(placeholder((2, 3)), (4,))
    with pytest.raises(ValueError, match="only one dimension may be -1"):
        ops.reshape(placeholder((2, 3)), (-1, -1))
    x = placeholder((None, 3, 4))
    dyn = ops.reshape(x, (ops.shape_of(x)[0], -1))
    assert dyn.shape == (None, None)
    np.testing.assert_array_equal(compute(dyn, {x: value}), value.reshape(2, 12))
    np.testing.assert_array_equal(run(lambda t: ops.flatten(t), value), value.ravel())
    np.testing.assert_array_equal(run(lambda t: ops.flatten(t, 2), value), value.reshape(2, 12))
    np.testing.assert_array_equal(run(lambda t: ops.transpose(t, (2, 0, 1)), value),
                                  value.transpose(2, 0, 1))
    np.testing.assert_array_equal(run(lambda t: ops.expand_dims(t, 1), value), value[:, None])
    np.testing.assert_array_equal(run(lambda t: ops.squeeze(ops.expand_dims(t, -1), -1), value), value)
    with pytest.raises(ValueError, match="Cannot squeeze axis 1 of size 3"):
        ops.squeeze(placeholder((2, 3)), 1)
    with pytest.raises(ValueError, match="size is not 1"):
        compute(ops.squeeze(x, 0), {x: value})
    np.testing.assert_array_equal(compute(ops.shape_of(x), {x: value}), [2, 3, 4])


def test_concatenate_stack_tile_repeat_pad():
    a = RNG.normal(size=(2, 3)).astype("float32")
    b = RNG.normal(size=(2, 2)).astype("float32")
    pa, pb = placeholder((None, 3)), placeholder((None, 2))
    cat = ops.concatenate([pa, pb], axis=-1)
    assert cat.shape == (None, 5)
    np.testing.assert_array_equal(compute(cat, {pa: a, pb: b}), np.concatenate([a, b], -1))
    with pytest.raises(ValueError, match="sizes along axis 1 differ"):
        ops.concatenate([pa, pb], axis=0)
    st = ops.stack([pa, pa * 2], axis=1)
    assert st.shape == (None, 2, 3)
    np.testing.assert_array_equal(compute(st, {pa: a}), np.stack([a, a * 2], 1))
    np.testing.assert_array_equal(compute(ops.tile(pa, (2, 3)), {pa: a}), np.tile(a, (2, 3)))
    np.testing.assert_array_equal(compute(ops.tile(pa, 2), {pa: a}), np.tile(a, 2))
    np.testing.assert_array_equal(compute(ops.tile(pa, (2, 1, 1)), {pa: a}), np.tile(a, (2, 1, 1)))
    np.testing.assert_array_equal(compute(ops.repeat_elements(pa, 2, 1), {pa: a}), np.repeat(a, 2, 1))
    padded = ops.pad(pa, ((1, 0), (2, 1)), value=-1)
    assert padded.shape == (None, 6)
    np.testing.assert_array_equal(compute(padded, {pa: a}), np.pad(a, ((1, 0), (2, 1)), constant_values=-1))


def test_gather_one_hot_softmax():
    table = RNG.normal(size=(5, 3)).astype("float32")
    idx = np.array([[0, 4], [2, 2]])
    i = placeholder((None, 2), dtype="int32")
    g = ops.gather(constant(table), i)
    assert g.shape == (None, 2, 3)
    np.testing.assert_array_equal(compute(g, {i: idx}), table[idx])
    with pytest.raises(IndexError, match="gather index 5 is out of range for a reference of 5 rows"):
        compute(g, {i: np.array([[5, 0]])})
    with pytest.raises(TypeError, match="integers"):
        ops.gather(constant(table), placeholder((2,)))
    oh = compute(ops.one_hot(i, 5, "float32"), {i: np.array([[1, 7], [0, 4]])})
    assert oh.shape == (2, 2, 5)
    np.testing.assert_array_equal(oh[0, 0], [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(oh[0, 1], [0, 0, 0, 0, 0])  # out of range -> zeros, as tf.one_hot
    logits = RNG.normal(size=(3, 4)).astype("float32") * 50
    sm = run(lambda x: ops.softmax(x, axis=-1), logits)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(sm, e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)
    lsm = run(lambda x: ops.log_softmax(x, axis=0), logits)
    want = logits - logits.max(0) - np.log(np.exp(logits - logits.max(0)).sum(0))
    np.testing.assert_allclose(lsm, want, rtol=1e-5, atol=1e-5)
    n = run(lambda x: ops.l2_normalize(x, axis=1), logits)
    np.testing.assert_allclose(np.linalg.norm(n, axis=1), 1, rtol=1e-5)
