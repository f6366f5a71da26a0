"""Backend math, shape and nn functions with Keras 2 semantics (NumPy references)."""

import numpy as np
import pytest

import symkeras.backend as K

pytestmark = pytest.mark.usefixtures("backend")

RNG = np.random.default_rng(3)


def ev(fn, *values):
    phs = [K.placeholder(shape=np.shape(v), dtype=np.asarray(v).dtype.name) for v in values]
    return K.function(phs, [fn(*phs)])(list(values))[0]


def test_values_shapes_and_eval():
    v = K.variable(np.arange(6).reshape(2, 3), name="v")
    assert K.int_shape(v) == (2, 3) and K.ndim(v) == 2 and K.dtype(v) == "float32"
    assert K.count_params(v) == 6
    assert K.int_shape(K.placeholder(ndim=2)) == (None, None)
    np.testing.assert_array_equal(K.eval(K.shape(v)), [2, 3])
    np.testing.assert_array_equal(K.eval(v * 2), np.arange(6).reshape(2, 3) * 2)
    z, o, e = K.zeros((2, 2)), K.ones((3,), dtype="int32"), K.eye(3)
    assert K.eval(z).sum() == 0 and K.eval(o).dtype == np.int32 and np.array_equal(K.eval(e), np.eye(3))
    np.testing.assert_array_equal(K.eval(K.zeros_like(v)), np.zeros((2, 3)))
    np.testing.assert_array_equal(K.eval(K.ones_like(v)), np.ones((2, 3)))
    assert K.eval(K.constant(2, shape=(2, 2))).tolist() == [[2, 2], [2, 2]]
    assert K.is_placeholder(K.placeholder((1,))) and not K.is_placeholder(v)
    assert K.is_tensor(v) and not K.is_tensor(np.ones(2))
    np.testing.assert_array_equal(K.eval(K.arange(1, 7, 2)), [1, 3, 5])
    rv = K.random_uniform_variable((100, 10), -1, 1, seed=1)
    assert -1 <= K.get_value(rv).min() and K.get_value(rv).max() <= 1
    np.testing.assert_array_equal(K.get_value(rv), K.get_value(K.random_uniform_variable((100, 10), -1, 1, seed=1)))
    assert abs(K.get_value(K.random_normal_variable((500, 20), 1.0, 2.0, seed=2)).mean() - 1) < 0.1


def test_batch_set_value_is_all_or_nothing():
    a, b = K.variable(np.zeros(2), name="a"), K.variable(np.zeros(3), name="b")
    with pytest.raises(ValueError, match=r"variable 'b' of shape \(3,\); no variable was changed"):
        K.batch_set_value([(a, np.ones(2)), (b, np.ones(4))])
    assert K.batch_get_value([a, b])[0].sum() == 0
    K.batch_set_value([(a, np.ones(2)), (b, np.full(3, 2.0))])
    assert [x.sum() for x in K.batch_get_value([a, b])] == [2, 6]
    K.set_value(a, [5, 6])
    np.testing.assert_array_equal(K.get_value(a), [5, 6])


def test_eval_of_an_unfed_placeholder_is_an_error():
    from symkeras.graph import MissingInputError

    with pytest.raises(MissingInputError, match="'lonely'"):
        K.eval(K.placeholder((2,), name="lonely") + 1)


REDUCE = [("sum", np.sum), ("prod", np.prod), ("mean", np.mean), ("max", np.max), ("min", np.min),
          ("var", np.var), ("std", np.std)]


@pytest.mark.parametrize("name,ref", REDUCE)
def test_reductions_keras_signature(name, ref):
    x = RNG.uniform(0.5, 2, size=(2, 3, 4)).astype("float32")
    fn = getattr(K, name)
    np.testing.assert_allclose(ev(lambda t: fn(t), x), ref(x), rtol=1e-5)
    np.testing.assert_allclose(ev(lambda t: fn(t, axis=1, keepdims=True), x), ref(x, axis=1, keepdims=True),
                               rtol=1e-5)
    np.testing.assert_allclose(ev(lambda t: fn(t, axis=[0, -1]), x), ref(x, axis=(0, 2)), rtol=1e-5)


def test_any_all_argmax_logsumexp_cumsum():
    x = RNG.normal(size=(3, 4)).astype("float32")
    np.testing.assert_array_equal(ev(lambda t: K.any(t > 1, axis=1), x), np.any(x > 1, axis=1))
    np.testing.assert_array_equal(ev(lambda t: K.all(t, axis=0), x), np.all(x, axis=0))
    np.testing.assert_array_equal(ev(K.argmax, x), np.argmax(x, -1))
    np.testing.assert_array_equal(ev(lambda t: K.argmin(t, axis=0), x), np.argmin(x, 0))
    np.testing.assert_allclose(ev(lambda t: K.logsumexp(t, axis=1), x), np.log(np.exp(x).sum(1)), rtol=1e-5)
    np.testing.assert_allclose(ev(lambda t: K.cumsum(t, axis=1), x), np.cumsum(x, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ev(lambda t: K.cumsum(t), x), np.cumsum(x, 0), rtol=1e-5, atol=1e-6)


def test_elementwise_keras_specifics():
    x = np.array([-4.0, -1.0, 0.0, 0.5, 3.0], dtype="float32")
    np.testing.assert_array_equal(ev(K.sqrt, x), np.sqrt(np.maximum(x, 0)))  # negative -> 0
    np.testing.assert_allclose(ev(lambda t: K.pow(t, 2), x), x**2)
    np.testing.assert_allclose(ev(lambda t: K.clip(t, -1, None), x), np.clip(x, -1, None))
    np.testing.assert_allclose(ev(lambda t: K.relu(t, alpha=0.1, max_value=2.0), x),
                               [-0.4, -0.1, 0, 0.5, 2.0], rtol=1e-6)
    np.testing.assert_allclose(ev(K.hard_sigmoid, x), [0, 0.3, 0.5, 0.6, 1], rtol=1e-6)
    np.testing.assert_allclose(ev(lambda t: K.elu(t, 2.0), x), np.where(x > 0, x, 2 * np.expm1(x)), rtol=1e-6)
    np.testing.assert_array_equal(ev(lambda t: K.equal(t, 0.5), x), x == 0.5)
    np.testing.assert_array_equal(ev(lambda t: K.cast(K.greater_equal(t, 0), "float32"), x), (x >= 0) * 1.0)
    np.testing.assert_array_equal(ev(K.round, np.array([0.5, 1.5, 2.5, -0.5], "float32")), [0, 2, 2, -0])


def test_softmax_and_l2_normalize():
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    sm = ev(K.softmax, x)
    np.testing.assert_allclose(sm.sum(-1), 1, rtol=1e-6)
    sm1 = ev(lambda t: K.softmax(t, axis=1), x)
    np.testing.assert_allclose(sm1.sum(1), 1, rtol=1e-6)
    n = ev(lambda t: K.l2_normalize(t, axis=-1), x)
    np.testing.assert_allclose(n, x / np.sqrt((x**2).sum(-1, keepdims=True)), rtol=1e-5)
    zero = ev(lambda t: K.l2_normalize(t, axis=0), np.zeros((3,), "float32"))
    assert np.all(np.isfinite(zero))


def test_shape_functions():
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_array_equal(ev(lambda t: K.reshape(t, (2, -1)), x), x.reshape(2, -1))
    np.testing.assert_array_equal(ev(lambda t: K.permute_dimensions(t, (0, 2, 1)), x), x.transpose(0, 2, 1))
    np.testing.assert_array_equal(ev(K.batch_flatten, x), x.reshape(2, -1))
    np.testing.assert_array_equal(ev(K.flatten, x), x.ravel())
    np.testing.assert_array_equal(ev(lambda t: K.expand_dims(t, 1), x), x[:, None])
    np.testing.assert_array_equal(ev(lambda t: K.squeeze(K.expand_dims(t), -1), x), x)
    np.testing.assert_array_equal(ev(lambda t: K.concatenate([t, t], axis=1), x), np.concatenate([x, x], 1))
    np.testing.assert_array_equal(ev(lambda t: K.stack([t, t]), x), np.stack([x, x]))
    np.testing.assert_array_equal(ev(lambda t: K.tile(t, (1, 2, 1)), x), np.tile(x, (1, 2, 1)))
    np.testing.assert_array_equal(ev(lambda t: K.repeat_elements(t, 2, axis=2), x), np.repeat(x, 2, 2))
    m = x[:, :, 0]
    np.testing.assert_array_equal(ev(lambda t: K.repeat(t, 3), m), np.repeat(m[:, None], 3, 1))
    np.testing.assert_array_equal(ev(lambda t: K.reverse(t, 1), x), x[:, ::-1])
    np.testing.assert_array_equal(ev(lambda t: K.reverse(t, [0, 2]), x), x[::-1, :, ::-1])
    np.testing.assert_array_equal(ev(lambda t: K.slice(t, (0, 1, 1), (1, 2, -1)), x), x[0:1, 1:3, 1:])
    np.testing.assert_array_equal(ev(lambda t: K.transpose(t), x), x.T)
    np.testing.assert_array_equal(ev(lambda t: K.temporal_padding(t, (1, 2)), x),
                                  np.pad(x, ((0, 0), (1, 2), (0, 0))))
    img = RNG.normal(size=(1, 2, 3, 2)).astype("float32")
    np.testing.assert_array_equal(ev(lambda t: K.spatial_2d_padding(t, ((1, 0), (0, 2))), img),
                                  np.pad(img, ((0, 0), (1, 0), (0, 2), (0, 0))))
    np.testing.assert_array_equal(
        ev(lambda t: K.spatial_2d_padding(t, ((1, 0), (0, 2)), data_format="channels_first"), img),
        np.pad(img, ((0, 0), (0, 0), (1, 0), (0, 2))))
    vol = RNG.normal(size=(1, 2, 2, 2, 1)).astype("float32")
    assert ev(K.spatial_3d_padding, vol).shape == (1, 4, 4, 4, 1)


def test_dot_batch_dot_gather_one_hot():
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    w = RNG.normal(size=(4, 5)).astype("float32")
    np.testing.assert_allclose(ev(K.dot, x, w), np.dot(x, w), rtol=1e-5, atol=1e-6)  # (float32 sums in any order)
    # Keras docs: K.dot((2, 3), (4, 3, 5)) -> (2, 4, 5)
    assert K.int_shape(K.dot(K.placeholder((2, 3)), K.placeholder((4, 3, 5)))) == (2, 4, 5)
    assert K.int_shape(K.dot(K.placeholder((None, 4)), K.placeholder((4, 5)))) == (None, 5)
    assert K.int_shape(K.batch_dot(K.placeholder((32, 20, 1)), K.placeholder((32, 30, 20)), axes=[1, 2])) \
        == (32, 1, 30)
    table = RNG.normal(size=(6, 2)).astype("float32")
    idx = np.array([5, 0, 5])
    np.testing.assert_array_equal(ev(K.gather, table, idx), table[idx])
    np.testing.assert_array_equal(ev(lambda t: K.one_hot(t, 4), np.array([[1], [3]])), np.eye(4)[[[1], [3]]])
    assert K.one_hot(K.placeholder((None,), dtype="int32"), 3).dtype == "float32"


def test_switch_broadcasts_a_lower_rank_condition_over_trailing_axes():
    x = RNG.normal(size=(3, 2)).astype("float32")
    cond = np.array([True, False, True])
    got = ev(lambda c, t: K.switch(c, t, -t), cond, x)
    np.testing.assert_array_equal(got, np.where(cond[:, None], x, -x))
    scalar = ev(lambda t: K.switch(K.constant(True, dtype="bool"), lambda: t * 2, lambda: t), x)
    np.testing.assert_array_equal(scalar, x * 2)


def test_bias_add_both_data_formats():
    x = RNG.normal(size=(2, 3, 4, 5)).astype("float32")
    b = RNG.normal(size=(5,)).astype("float32")
    np.testing.assert_allclose(ev(K.bias_add, x, b), x + b)
    bc = RNG.normal(size=(3,)).astype("float32")
    np.testing.assert_allclose(ev(lambda t, u: K.bias_add(t, u, data_format="channels_first"), x, bc),
                               x + bc[None, :, None, None])
    full = RNG.normal(size=(3, 4, 5)).astype("float32")
    np.testing.assert_allclose(ev(K.bias_add, x, full), x + full[None])
    with pytest.raises(ValueError, match="Unexpected bias dimensions"):
        K.bias_add(K.placeholder((2, 3, 4, 5)), K.placeholder((4, 5)))


def test_gradients_keras_style():
    x = K.placeholder(shape=(None, 3), name="x")
    w = K.variable(np.ones((3, 2)), name="w")
    y = K.dot(x, w)
    gw = K.gradients(K.sum(y), [w])
    assert isinstance(gw, list) and len(gw) == 1
    # a non-scalar target is summed, as tf.gradients does
    (gx,) = K.gradients(y, [x])
    np.testing.assert_allclose(K.function([x], [gx])([np.ones((4, 3))])[0], np.full((4, 3), 2.0))
    (gs,) = K.gradients(K.sum(K.stop_gradient(y) * y), w)
    assert gs.shape == (3, 2)
    assert len(K.stop_gradient([x, y])) == 2


def test_random_backend_functions_accept_symbolic_shapes():
    x = K.placeholder(shape=(None, 4), name="x")
    noise = K.random_normal(K.shape(x), stddev=0.1, seed=1)
    assert K.int_shape(noise) == (None, 4)
    out = K.function([x], [x + noise])([np.zeros((3, 4))])[0]
    assert out.shape == (3, 4) and 0 < out.std() < 0.3
    assert K.int_shape(K.random_uniform((2, 3), seed=1)) == (2, 3)
    assert K.int_shape(K.truncated_normal((2, 3), seed=1)) == (2, 3)
    assert set(np.unique(K.eval(K.random_binomial((50,), p=0.5, seed=2)))) == {0.0, 1.0}
    with pytest.raises(ValueError, match="K.shape"):
        K.random_normal(x * 2)


def test_a_variable_holds_its_own_copy_of_the_value_it_was_made_from():
    value = np.arange(6, dtype="float32").reshape(2, 3)  # already the variable's dtype and layout
    v = K.variable(value)
    value[0, 0] = 100.0
    np.testing.assert_array_equal(K.get_value(v), np.arange(6).reshape(2, 3))
    held = K.get_value(v)
    held[1, 1] = -1.0  # get_value returns a copy as well
    assert K.get_value(v)[1, 1] == 4.0
    assert K.get_value(K.zeros((2,), dtype="float64")).dtype == np.float64
