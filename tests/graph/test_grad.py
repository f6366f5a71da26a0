"""gradients(): fan-out, disconnected inputs, integer paths, stop_gradient, errors."""

import numpy as np
import pytest

from symkeras.codegen.reference import evaluate
from symkeras.graph import DisconnectedGradientError, gradients, ops
from symkeras.graph.basic import constant, placeholder
from symkeras.runtime import get_value, variable


def test_fan_out_contributions_are_summed():
    x = placeholder((3,), dtype="float64")
    y = ops.reduce_sum(x * x + ops.sin(x) + x)
    g = gradients(y, x)
    value = np.array([0.1, -0.7, 2.0])
    np.testing.assert_allclose(evaluate(g, {x: value}), 2 * value + np.cos(value) + 1)


def test_gradients_are_graph_tensors_of_the_same_graph():
    x = placeholder((2,), name="x")
    cost = ops.reduce_sum(ops.tanh(x))
    g = gradients(cost, x)
    assert g.owner is not None and g.shape == (2,) and g.dtype == "float32"
    assert x in _leaves(g)


def _leaves(t):
    from symkeras.graph.fgraph import ancestors_dag

    return {d["tensor"] for _, d in ancestors_dag([t]).nodes(data=True) if d["tensor"].owner is None}


def test_disconnected_zero_or_raise():
    x, y = placeholder((2, 3), name="x"), placeholder((4,), name="y")
    cost = ops.reduce_sum(x)
    gx, gy = gradients(cost, [x, y])
    np.testing.assert_array_equal(evaluate(gy, {y: np.ones(4, "float32")}), np.zeros(4))
    assert gy.shape == (4,)
    with pytest.raises(DisconnectedGradientError, match="does not depend on"):
        gradients(cost, [x, y], disconnected="raise")


def test_integer_paths_and_stop_gradient_block_gradients():
    x = placeholder((3,), dtype="float64")
    through_int = ops.cast(ops.cast(x, "int32"), "float64")
    g = gradients(ops.reduce_sum(through_int * x), x)
    value = np.array([1.5, 2.5, -3.5])
    np.testing.assert_allclose(evaluate(g, {x: value}), np.trunc(value))
    blocked = gradients(ops.reduce_sum(ops.stop_gradient(x) * x), x)
    np.testing.assert_allclose(evaluate(blocked, {x: value}), value)
    y = ops.square(x)
    const = gradients(ops.reduce_sum(y * x), x, consider_constant=[y])
    np.testing.assert_allclose(evaluate(const, {x: value}), value**2)


def test_gradient_wrt_variables_and_intermediates():
    w = variable(np.array([[1.0, 2.0], [3.0, 4.0]]), dtype="float64", name="w")
    x = placeholder((None, 2), dtype="float64")
    h = ops.dot(x, w)
    cost = ops.reduce_sum(ops.square(h))
    gw, gh = gradients(cost, [w, h])
    xv = np.array([[1.0, -1.0], [0.5, 2.0]])
    hv = xv @ get_value(w)
    np.testing.assert_allclose(evaluate(gh, {x: xv}), 2 * hv)
    np.testing.assert_allclose(evaluate(gw, {x: xv}), xv.T @ (2 * hv))


def test_mixed_precision_gradient_gets_the_input_dtype():
    x = placeholder((2,), dtype="float32")
    d = placeholder((2,), dtype="float64")
    g = gradients(ops.reduce_sum(x * d), x)
    assert g.dtype == "float32"


def test_errors():
    x = placeholder((2,))
    with pytest.raises(ValueError, match=r"scalar cost; got shape \(2,\)"):
        gradients(x * 2, x)
    with pytest.raises(TypeError, match="float cost"):
        gradients(ops.reduce_sum(ops.cast(x, "int32")), x)
    with pytest.raises(TypeError, match="symbolic tensor"):
        gradients(1.0, x)
    with pytest.raises(ValueError, match="disconnected must be"):
        gradients(ops.reduce_sum(x), x, disconnected="ignore")


def test_gradient_of_broadcast_against_runtime_size_one():
    # (None, 3) fed with a batch of 1, added to (4, 3): the gradient sums back over the batch
    a = placeholder((None, 3), dtype="float64")
    b = placeholder((4, 3), dtype="float64")
    g = gradients(ops.reduce_sum(a * b), a)
    bv = np.arange(12.0).reshape(4, 3)
    got = evaluate(g, {a: np.ones((1, 3)), b: bv})
    np.testing.assert_allclose(got, bv.sum(0, keepdims=True))


def test_cost_is_its_own_gradient_one():
    x = placeholder((), dtype="float64")
    cost = x * 3.0
    assert evaluate(gradients(cost, cost)) == 1.0
    assert constant(1.0).owner is None
