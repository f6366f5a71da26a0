"""Nodes with several outputs (the Moments op): building, gradients, rewrites, clone, dumps, both backends."""

import json
import os

import numpy as np
import pytest

import symkeras.backend as K
from symkeras import runtime
from symkeras.codegen.function import Function
from symkeras.codegen.reference import evaluate
from symkeras.graph import debugprint, from_json, ops, to_dot, to_json
from symkeras.graph.basic import placeholder
from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import optimize


def _data(shape=(5, 4)):
    return np.random.default_rng(3).normal(size=shape).astype("float32")


def _moments_nodes(graph):
    return [n for n in graph.nodes if isinstance(n.op, ops.Moments)]


def test_a_node_owns_both_outputs():
    x = placeholder((None, 4), name="x")
    mean, var = ops.moments(x, axis=0)
    assert mean.owner is var.owner and (mean.index, var.index) == (0, 1)
    assert mean.shape == var.shape == (4,) and mean.dtype == var.dtype == "float32"
    with pytest.raises(ValueError, match="has 2 outputs; use node.outputs"):
        _ = mean.owner.out
    kept_mean, _ = ops.moments(x, axis=(0,), keepdims=True)
    assert kept_mean.shape == (1, 4)


@pytest.mark.usefixtures("backend")
def test_both_outputs_computed_and_used_by_the_graph(backend):
    x = K.placeholder((None, 4, 3), name="x")
    mean, var = ops.moments(x, axis=(0, 2))
    f = K.function([x], [mean, var, (x - mean[None, :, None]) / ops.sqrt(var + 1.0)[:, None]])
    value = _data((5, 4, 3))
    got_mean, got_var, got_normed = f([value])
    np.testing.assert_allclose(got_mean, value.mean(axis=(0, 2)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_var, value.var(axis=(0, 2)), rtol=1e-5, atol=1e-6)
    want = (value - value.mean(axis=(0, 2))[None, :, None]) / np.sqrt(value.var(axis=(0, 2)) + 1.0)[:, None]
    np.testing.assert_allclose(got_normed, want, rtol=1e-5, atol=1e-6)
    assert len(_moments_nodes(f.optimized_graph)) == 1


@pytest.mark.usefixtures("backend")
def test_only_the_second_output_used(backend):
    # dead-code elimination keeps the node for its one used output; the unused first output is still computed
    x = K.placeholder((None, 4), name="x")
    _, var = ops.moments(x, axis=0)
    f = K.function([x], [var * 2.0])
    value = _data()
    np.testing.assert_allclose(f([value])[0], 2 * value.var(axis=0), rtol=1e-5)


def test_cse_merges_equal_nodes_with_several_outputs():
    x = placeholder((None, 4), name="x")
    mean_a, _ = ops.moments(x, axis=0)
    _, var_b = ops.moments(x, axis=0)
    graph = optimize(Graph([x], [mean_a + var_b]), exclude=("fusion",)).graph
    (node,) = _moments_nodes(graph)
    (add,) = [n for n in graph.nodes if isinstance(n.op, ops.Add)]
    assert add.inputs == node.outputs  # both outputs of the one kept node
    value = _data()
    np.testing.assert_allclose(evaluate(graph.outputs[0], {x: value}), value.mean(0) + value.var(0), rtol=1e-5)


def test_gradient_takes_one_gradient_per_output():
    x = placeholder((6, 3), dtype="float64", name="x")
    mean, var = ops.moments(x, axis=0)
    value = np.random.default_rng(0).normal(size=(6, 3))
    (only_mean,) = K.gradients(K.sum(mean * 3.0), [x])
    np.testing.assert_allclose(evaluate(only_mean, {x: value}), np.full((6, 3), 3.0 / 6))
    (only_var,) = K.gradients(K.sum(var), [x])
    np.testing.assert_allclose(evaluate(only_var, {x: value}), 2 * (value - value.mean(0)) / 6)
    (both,) = K.gradients(K.sum(mean) + K.sum(var), [x])
    np.testing.assert_allclose(evaluate(both, {x: value}), 1 / 6 + 2 * (value - value.mean(0)) / 6)


def test_clone_rebuilds_the_node_once_for_all_its_outputs():
    x = placeholder((None, 4), name="x")
    mean, var = ops.moments(x, axis=0)
    graph = Graph([x], [mean, var])
    doubled = placeholder((None, 4), name="doubled")
    new_graph, mapping = graph.clone({x: doubled * 2.0})
    new_mean, new_var = new_graph.outputs
    assert new_mean.owner is new_var.owner and new_mean.owner is not mean.owner
    value = _data()
    got = evaluate([new_mean, new_var], {doubled: value})
    np.testing.assert_allclose(got[0], (2 * value).mean(0), rtol=1e-5)
    np.testing.assert_allclose(got[1], (2 * value).var(0), rtol=1e-5)


def test_dumps_name_each_output_and_print_the_node_once(capsys):
    x = placeholder((None, 4), name="x")
    mean, var = ops.moments(x, axis=0)
    text = debugprint(mean + var)
    lines = text.splitlines()
    assert lines[1].startswith(" |Moments{axis=(0,), keepdims=False}.0 [id B] float32 (4,)")
    assert lines[3].startswith(" |Moments{axis=(0,), keepdims=False}.1 [id D] float32 (4,)")
    assert lines[3].endswith("(see above)") and sum("|x [id" in line for line in lines) == 1
    dot = to_dot(mean + var)
    assert "Moments{axis=(0,), keepdims=False}.0" in dot and "Moments{axis=(0,), keepdims=False}.1" in dot


def test_json_round_trip_of_a_node_used_by_its_second_output():
    x = placeholder((None, 4), name="x")
    _, var = ops.moments(x, axis=0)
    out = ops.sqrt(var)
    text = to_json(out)
    doc = json.loads(text)
    moments = [n for n in doc["nodes"] if n.get("op") == "Moments"]
    second = [n for n in doc["nodes"] if n.get("output") == 1]
    assert len(moments) == 1 and len(second) == 1 and second[0]["node"] == moments[0]["id"]
    (rebuilt,) = from_json(text)
    assert to_json(rebuilt) == text
    assert rebuilt.owner.inputs[0].index == 1
    new_x = rebuilt.owner.inputs[0].owner.inputs[0]
    value = _data()
    np.testing.assert_allclose(evaluate(rebuilt, {new_x: value}), np.sqrt(value.var(0)), rtol=1e-5)


def test_batch_normalization_trains_on_one_moments_node():
    from symkeras.layers import BatchNormalization, Dense
    from symkeras.models import Sequential

    model = Sequential([Dense(6, input_dim=4), BatchNormalization(), Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    x = _data((16, 4))
    y = np.eye(2, dtype="float32")[np.arange(16) % 2]
    h = x @ runtime.get_value(model.layers[0].kernel) + runtime.get_value(model.layers[0].bias)
    model.train_on_batch(x, y)
    graph = model.train_function.optimized_graph
    assert len(_moments_nodes(graph)) == 1
    assert not _moments_nodes(model._make_predict_function().optimized_graph)  # inference: moving statistics
    # the moving averages moved towards the batch statistics of the first layer's output
    np.testing.assert_allclose(K.get_value(model.layers[1].moving_mean), 0.01 * h.mean(0), rtol=1e-4, atol=1e-6)


@pytest.mark.usefixtures("backend")
def test_normalize_batch_in_training_and_batch_normalization(backend):
    x = K.placeholder((None, 3, 2), name="x")
    gamma, beta = K.variable(np.array([1.0, 2.0, 0.5])), K.variable(np.array([0.0, -1.0, 3.0]))
    normed, mean, var = K.normalize_batch_in_training(x, gamma, beta, [0, 2], epsilon=1e-3)
    assert K.int_shape(mean) == K.int_shape(var) == (3,)
    again = K.batch_normalization(x, mean, var, beta, gamma, axis=1, epsilon=1e-3)
    got_normed, got_mean, got_var, got_again = K.function([x], [normed, mean, var, again])([_data((4, 3, 2))])
    value = _data((4, 3, 2))
    m, v = value.mean((0, 2)), value.var((0, 2))
    want = (value - m[:, None]) / np.sqrt(v[:, None] + 1e-3) * np.array([1, 2, 0.5])[:, None] + \
        np.array([0, -1, 3.0])[:, None]
    np.testing.assert_allclose(got_mean, m, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_var, v, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_normed, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_again, want, rtol=1e-4, atol=1e-5)


def test_numba_kernel_returns_both_outputs_in_one_call():
    x = K.placeholder((None, 4), name="x")
    mean, var = ops.moments(x, axis=0)
    f = Function([x], [mean, var], backend="numba")
    assert f.source.count("invoke(") == 1 and ", t" in [line for line in f.source.splitlines() if "invoke(" in line][0]
    value = _data((7, 4))
    got_mean, got_var = f([value])
    np.testing.assert_allclose(got_mean, value.mean(0), rtol=1e-5)
    np.testing.assert_allclose(got_var, value.var(0), rtol=1e-5, atol=1e-7)
    assert os.path.exists(f.program.path)
