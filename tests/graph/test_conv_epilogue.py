"""The conv_epilogue pass: a convolution read only by a bias/activation group becomes one op with it."""

import json

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen.reference import evaluate
from symkeras.graph import ops, printing
from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import optimize


def _conv_layer(x, filters=4, seed=0):
    rng = np.random.default_rng(seed)
    w = K.variable(rng.normal(size=(3, 3, x.shape[-1], filters)), name="w")
    b = K.variable(np.linspace(-0.5, 0.5, filters), name="b")
    return w, b, K.conv2d(x, w)


def _op_names(graph):
    return [type(n.op).__name__ for n in graph.nodes]


def test_bias_and_relu_after_a_convolution_join_it_forward_and_in_training():
    x = K.placeholder((None, 8, 8, 3), name="x")
    w, b, z = _conv_layer(x)
    h = K.relu(K.bias_add(z, b))
    loss = K.sum(K.square(K.pool2d(h, (2, 2))))  # (a layer after it, as in a model)
    outputs = [h, *K.gradients(loss, [x, w, b])]
    opt = optimize(Graph([x], outputs, allow_missing=True))
    names = _op_names(opt.graph)
    assert "ConvEpilogue" in names and "Conv" not in names  # relu's gradient reads relu's output
    assert opt.fired["conv_epilogue.conv_epilogue"] == 1
    data = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")
    want = evaluate(outputs, {x: data})
    got = evaluate(opt.graph.outputs, {x: data})
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5 * np.abs(r).max())
    f = K.function([x], outputs, backend="numba")
    for g, r in zip(f([data]), want):
        np.testing.assert_allclose(g, r, rtol=2e-5, atol=2e-6 * np.abs(r).max())


def test_a_convolution_read_elsewhere_or_by_a_full_sized_operand_stays():
    x = K.placeholder((None, 6, 6, 2), name="x")
    _, b, z = _conv_layer(x)
    other = K.placeholder((None, 4, 4, 4), name="other")
    read_twice = Graph([x], [K.relu(K.bias_add(z, b)), z * 2.0], allow_missing=True)
    full_operand = Graph([x, other], [K.relu(z + other)], allow_missing=True)
    for graph in (read_twice, full_operand):
        assert "ConvEpilogue" not in _op_names(optimize(graph).graph)


def test_grouped_and_half_precision_convolutions_keep_a_separate_epilogue():
    x = K.placeholder((None, 6, 6, 4), name="x")
    dw = K.variable(np.ones((3, 3, 4, 1)), name="dw")
    b = K.variable(np.zeros(4), name="b")
    grouped = K.relu(K.bias_add(K.depthwise_conv2d(x, dw), b))
    assert "ConvEpilogue" not in _op_names(optimize(Graph([x], [grouped], allow_missing=True)).graph)
    xh = K.placeholder((None, 6, 6, 2), dtype="float16", name="xh")
    wh = K.variable(np.ones((3, 3, 2, 3)), dtype="float16", name="wh")
    half = K.relu(ops.conv(xh, wh) + K.constant(np.ones(3), dtype="float16"))
    assert "ConvEpilogue" not in _op_names(optimize(Graph([xh], [half], allow_missing=True)).graph)


@pytest.mark.parametrize("operand", ["scalar", "per_channel"])
def test_scalar_and_per_channel_operands_on_both_backends(operand):
    x = K.placeholder((None, 7, 7, 2), name="x")
    _, b, z = _conv_layer(x, filters=3, seed=2)
    extra = K.constant(0.25) if operand == "scalar" else K.reshape(b, (1, 1, 1, 3))
    y = K.tanh(z * extra - b)
    opt = optimize(Graph([x], [y], allow_missing=True))
    assert _op_names(opt.graph).count("ConvEpilogue") == 1
    data = np.random.default_rng(3).normal(size=(3, 7, 7, 2)).astype("float32")
    want = evaluate([y], {x: data})[0]
    np.testing.assert_allclose(K.function([x], [y], backend="numba")([data])[0], want, rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(K.function([x], [y], backend="reference")([data])[0], want, rtol=1e-6, atol=1e-7)


def test_the_joined_op_survives_a_json_dump():
    x = K.placeholder((None, 6, 6, 2), name="x")
    _, b, z = _conv_layer(x)
    opt = optimize(Graph([x], [K.relu(K.bias_add(z, b))], allow_missing=True))
    values = {}
    text = printing.to_json(opt.graph.outputs, {v: K.get_value(v) for v in opt.graph.variables}
                            if hasattr(opt.graph, "variables") else None)
    (back,) = printing.from_json(text, values)
    assert json.loads(text)["nodes"][-1]["op"] == "ConvEpilogue"
    assert back.owner.op == opt.graph.outputs[0].owner.op
    assert str(back.owner.op) == "Conv{3x3, valid}->Fused{Add|Relu}"
