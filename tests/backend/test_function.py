"""K.function: calling convention, updates, input checks, learning phase."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.graph import MissingInputError

pytestmark = pytest.mark.usefixtures("backend")


def test_list_in_list_out_and_outputs_are_copies():
    x = K.placeholder(shape=(None, 3), name="x")
    v = K.variable(np.ones((3,)), name="v")
    f = K.function([x], [x * 2, v])
    out2, vv = f([np.arange(6.0).reshape(2, 3)])
    assert isinstance(out2, np.ndarray) and out2.dtype == np.float32
    np.testing.assert_array_equal(out2, np.arange(6.0).reshape(2, 3) * 2)
    vv[0] = 100
    assert K.get_value(v)[0] == 1  # returned arrays never alias variable storage
    single = K.function([x], x + 1)
    assert single([np.zeros((1, 3))]).shape == (1, 3)


def test_updates_use_values_from_before_the_call():
    a = K.variable(np.array([1.0, 2.0]), name="a")
    b = K.variable(np.array([3.0, 4.0]), name="b")
    step = K.variable(0.0, name="step")
    f = K.function([], [a + b], updates=[K.update(a, b), K.update(b, a), K.update_add(step, 1.0)])
    (s,) = f([])
    np.testing.assert_array_equal(s, [4, 6])
    np.testing.assert_array_equal(K.get_value(a), [3, 4])
    np.testing.assert_array_equal(K.get_value(b), [1, 2])
    f([])
    assert K.get_value(step) == 2
    c = K.variable(np.array([10.0]), name="c")
    K.function([], [], updates=[K.update_sub(c, 3.0)])([])
    assert K.get_value(c)[0] == 7
    m = K.variable(np.array([1.0]), name="m")
    K.function([], [], updates=[K.moving_average_update(m, 3.0, 0.9)])([])
    assert K.get_value(m)[0] == pytest.approx(1.2)


def test_sgd_step_through_updates_reduces_the_loss():
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(64, 3)).astype("float32")
    ys = xs @ np.array([1.0, -2.0, 0.5], dtype="float32")
    x, y = K.placeholder((None, 3), name="x"), K.placeholder((None,), name="y")
    w = K.variable(np.zeros(3), name="w")
    loss = K.mean(K.square(K.dot(x, w) - y))
    (g,) = K.gradients(loss, [w])
    train = K.function([x, y], [loss], updates=[(w, w - 0.1 * g)])
    losses = [train([xs, ys])[0] for _ in range(50)]
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(K.get_value(w), [1.0, -2.0, 0.5], atol=1e-2)


def test_update_errors_leave_variables_unchanged():
    v = K.variable(np.zeros((1, 3)), name="v")
    x = K.placeholder((None, 3), name="x")
    with pytest.raises(ValueError, match=r"Update of variable 'v' of shape \(1, 3\) has shape \(3,\)"):
        K.function([x], [], updates=[(v, K.sum(x, axis=0))])
    f = K.function([x], [], updates=[(v, x * 2)])
    with pytest.raises(ValueError, match=r"update whose shape differs from variable 'v' of shape \(1, 3\)"):
        f([np.ones((2, 3))])
    np.testing.assert_array_equal(K.get_value(v), 0)
    with pytest.raises(TypeError, match="Only variables can be updated"):
        K.function([x], [], updates=[(x, x)])
    with pytest.raises(ValueError, match="updated twice"):
        K.function([], [], updates=[(v, v + 1), (v, v + 2)])


def test_bad_inputs_name_the_placeholder_and_both_shapes():
    x = K.placeholder(shape=(None, 3), name="features")
    y = K.placeholder(shape=(None,), name="labels")
    f = K.function([x, y], [K.sum(x) + K.sum(y)], name="score")
    with pytest.raises(ValueError, match=r"'score' takes 2 input\(s\) \(features, labels\); got 1"):
        f([np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"'features'.*\(None, 3\) \(rank 2\); got an array of shape \(2, 3, 1\)"):
        f([np.ones((2, 3, 1)), np.ones(2)])
    with pytest.raises(ValueError, match=r"'features'.*expects shape \(None, 3\); got \(2, 4\) "
                                         r"\(dimension 1 is 4, expected 3\)"):
        f([np.ones((2, 4)), np.ones(2)])
    with pytest.raises(TypeError, match=r"'labels'.*numeric data of dtype float32; got an array of dtype <U1"):
        f([np.ones((2, 3)), np.array(["a", "b"])])
    with pytest.raises(TypeError, match="numeric"):
        f([np.ones((2, 3)), [object(), object()]])


def test_inputs_are_converted_to_the_placeholder_dtype():
    i = K.placeholder(shape=(None,), dtype="int32", name="ids")
    f = K.function([i], [i * 2])
    (out,) = f([np.array([1.0, 2.0])])
    assert out.dtype == np.int32
    with pytest.raises(TypeError, match="non-integral"):
        f([np.array([1.5])])
    x = K.placeholder(shape=(2,), name="x")
    (out,) = K.function([x], [x])([[1, 2]])
    assert out.dtype == np.float32


def test_missing_input_is_named_and_learning_phase_defaults_to_test():
    x = K.placeholder(shape=(None, 2), name="x")
    y = K.placeholder(shape=(None, 2), name="y")
    with pytest.raises(MissingInputError, match="'y'"):
        K.function([x], [x + y])
    out = K.in_train_phase(x * 10, x)
    f = K.function([x], [out])
    np.testing.assert_array_equal(f([np.ones((1, 2))])[0], [[1, 1]])
    g = K.function([x, K.learning_phase()], [out])
    np.testing.assert_array_equal(g([np.ones((1, 2)), 1])[0], [[10, 10]])
    np.testing.assert_array_equal(g([np.ones((1, 2)), 0])[0], [[1, 1]])


def test_set_learning_phase_fixes_the_branch():
    x = K.placeholder(shape=(2,), name="x")
    K.set_learning_phase(1)
    assert K.learning_phase() == 1
    assert K.in_train_phase(x * 2, x).owner.op.name == "Mul"
    assert K.in_test_phase(x * 2, x) is x
    with pytest.raises(ValueError, match="0 or 1"):
        K.set_learning_phase(2)


def test_dropout_in_training_and_identity_in_test():
    x = K.placeholder(shape=(None, 1000), name="x")
    out = K.in_train_phase(lambda: K.dropout(x, 0.25, seed=3), x)
    f = K.function([x, K.learning_phase()], [out])
    ones = np.ones((4, 1000))
    (train,) = f([ones, 1])
    kept = train != 0
    assert abs(kept.mean() - 0.75) < 0.03
    np.testing.assert_allclose(train[kept], 1 / 0.75, rtol=1e-6)
    (again,) = f([ones, 1])
    assert not np.array_equal(kept, again != 0)  # a new mask each call
    np.testing.assert_array_equal(f([ones, 0])[0], ones)
    per_feature = K.function([x], [K.dropout(x, 0.5, noise_shape=(1, 1000), seed=1)])([ones])[0]
    assert np.all(per_feature == per_feature[0])
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        K.dropout(x, 1.0)


def test_function_rejects_unknown_arguments_and_constants():
    x = K.placeholder(shape=(2,))
    with pytest.raises(ValueError, match="Invalid argument"):
        K.function([x], [x], session="s")
    with pytest.raises(TypeError, match="constant and cannot be fed"):
        K.function([K.constant(1.0)], [x])


def test_gradients_is_a_list_also_for_one_tensor():
    # the seeds' idiom: K.gradients(loss, input_img)[0] is the gradient of input_img, not its row 0
    w = K.variable(np.arange(15.0).reshape(5, 3), name="w")
    loss = K.sum(K.square(w))
    grads = K.gradients(loss, w)
    assert isinstance(grads, list) and len(grads) == 1
    assert K.int_shape(grads[0]) == (5, 3)
    np.testing.assert_allclose(K.function([], [grads[0]])([])[0], 2 * np.arange(15.0).reshape(5, 3))
    assert len(K.gradients(loss, [w])) == 1
