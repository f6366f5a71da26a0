"""Every node knows the Keras layer that made it: dumps, generated source, debug reports and run-time errors name it."""

import json
import os

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.graph import provenance
from symkeras.layers import Add, Dense, Input, Lambda
from symkeras.models import Model, Sequential


def _model():
    model = Sequential([Dense(3, activation="tanh", input_dim=4, name="hidden"), Dense(2, name="scores")])
    model.compile("sgd", "mse")
    return model


def _layers_of(graph):
    return {provenance.of(n) for n in graph.nodes}


def test_nodes_carry_their_layer_and_call_index():
    x = Input(shape=(4,), name="x")
    shared = Dense(4, name="shared")
    h = shared(x)
    y = shared(h)
    assert provenance.of(h.owner) == "shared" and provenance.of(y.owner) == "shared[1]"  # the second call
    matmul = y.owner.inputs[0].owner
    assert provenance.where(matmul) == "shared[1] / Einsum{ab,bd->ad}"


def test_optimized_graph_dumps_and_source_name_the_layers(tmp_path):
    model = _model()
    f = model._make_predict_function()
    with open(os.devnull, "w") as null:
        text = f.debugprint(file=null)
    assert "<hidden>" in text and "<scores>" in text
    assert "<hidden>" in f.to_dot() and "<scores>" in f.to_dot()
    layers = {n.get("layer") for n in json.loads(f.to_json())["nodes"]}
    assert {"hidden", "scores"} <= layers
    assert "# hidden / Einsum{ab,bd->ad}" in f.source and "# scores / Einsum{ab,bd->ad}" in f.source


def test_gradient_nodes_name_the_layer_they_differentiate():
    model = _model()
    x, y = np.ones((2, 4), "float32"), np.zeros((2, 2), "float32")
    model.train_on_batch(x, y)
    graph = model.train_function.optimized_graph
    labels = _layers_of(graph)
    assert {"hidden/grad", "scores/grad"} <= labels, labels
    assert "# hidden/grad / " in model.train_function.source


def test_the_debug_report_names_the_layer():
    inputs = Input(shape=(3,), name="x")
    logs = Lambda(lambda t: K.log(t), name="take_log")(Dense(3, name="project", kernel_initializer="identity")(inputs))
    model = Model(inputs, logs)
    f = K.function([inputs], [model.output], backend="numba")
    report = f.debug([np.array([[1.0, -1.0, 2.0]], "float32")])
    assert not report.ok and "<take_log>" in report.message and "NaN/Inf" in report.message


@pytest.mark.usefixtures("backend")
def test_run_time_shape_errors_name_the_layer(backend):
    a, b = Input(shape=(3,), name="a"), Input(shape=(3,), name="b")
    total = Add(name="join")([Dense(3, name="left")(a), b])
    f = K.function([a, b], [total])
    # (the bias of "left" and the sum of "join" are one fused kernel: it names both layers)
    with pytest.raises(ValueError, match=r"left \+ join / Fused.* cannot run on inputs of shapes "
                                         r"\(4, 3\), \(3,\), \(5, 3\)"):
        f([np.ones((4, 3), "float32"), np.ones((5, 3), "float32")])
    np.testing.assert_allclose(f([np.zeros((2, 3), "float32"), np.ones((2, 3), "float32")])[0], np.ones((2, 3)))
