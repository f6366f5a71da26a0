"""The group_fusion pass: elementwise groups of one static shape feeding one another become one FusedGroup."""

import json

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen.function import Function
from symkeras.codegen.reference import evaluate
from symkeras.graph import printing
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.fused import FusedGroup
from symkeras.graph.rewrite import optimize
from symkeras.optimizers import SGD, Adam, RMSprop


def _model(shape=(3, 2)):
    x = K.placeholder((None, shape[0]), name="x")
    w = K.variable(np.linspace(-1, 1, int(np.prod(shape))).reshape(shape).astype("float32"), name="w")
    b = K.variable(np.array([0.5, -0.5][:shape[1]] + [0.1] * (shape[1] - 2), "float32"), name="b")
    loss = K.mean(K.square(K.bias_add(K.dot(x, w), b)))
    return x, [w, b], loss


def _groups(graph):
    return [n for n in graph.nodes if isinstance(n.op, FusedGroup)]


@pytest.mark.parametrize("optimizer, per_weight", [
    (lambda: Adam(learning_rate=0.1), 3),  # new first and second moments, the parameter
    (lambda: RMSprop(learning_rate=0.1), 2),  # new mean square, the parameter
    (lambda: SGD(learning_rate=0.1, momentum=0.9, nesterov=True), 2),  # new velocity, the parameter
])
def test_an_optimizers_update_of_each_weight_is_one_group_computing_its_values(optimizer, per_weight):
    x, weights, loss = _model()
    opt = optimizer()
    updates = opt.get_updates(loss, weights)
    values = [new for _, new in updates]
    graph = Graph([x], [loss, *values], allow_missing=True)
    optimized = optimize(graph)
    groups = _groups(optimized.graph)
    assert len(groups) == len(weights) and all(len(n.outputs) == per_weight for n in groups)
    assert optimized.fired["group_fusion.group_fusion"] == len(weights)
    data = np.linspace(0, 1, 12, dtype="float32").reshape(4, 3)
    for got, want in zip(evaluate(optimized.graph.outputs, {x: data}), evaluate(graph.outputs, {x: data})):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_compiled_updates_match_the_reference_and_are_written_into_the_variables():
    x, weights, loss = _model((5, 4))
    opt = Adam(learning_rate=0.05)
    updates = opt.get_updates(loss, weights)
    state = opt.weights + weights
    compiled = K.function([x], [loss], updates=updates, name="adam_groups")
    assert compiled.source.count("invoke_flat(") == 2  # one kernel call per weight, three results each
    assert "is written into the buffer of" in compiled.source
    assert not any("upd" in line and ".copy()" in line for line in compiled.source.splitlines())
    reference = Function([x], [loss], updates=updates, backend="reference")
    data = np.linspace(-1, 1, 15, dtype="float32").reshape(3, 5)
    start = K.batch_get_value(state)
    for _ in range(3):
        compiled([data])
    got = K.batch_get_value(state)
    K.batch_set_value(zip(state, start))
    for _ in range(3):
        reference([data])
    for g, w in zip(got, K.batch_get_value(state)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-7)


def test_a_group_read_elsewhere_or_of_another_shape_stays_apart():
    a = K.placeholder((4, 3), name="a")
    b = K.placeholder((4, 3), name="b")
    first = K.exp(a) * b
    read_twice = Graph([a, b], [K.tanh(first) + a, K.sum(K.dot(first, K.transpose(b)))], allow_missing=True)
    batched_a = K.placeholder((None, 3), name="batched")
    batched = Graph([batched_a], [K.tanh(K.exp(batched_a) * 2.0) + batched_a, K.exp(batched_a) * 2.0],
                    allow_missing=True)
    for graph in (read_twice, batched):
        assert not _groups(optimize(graph).graph)


def test_fused_group_reference_dump_and_misuse():
    x, weights, loss = _model()
    updates = Adam(learning_rate=0.1).get_updates(loss, weights)
    graph = optimize(Graph([x], [new for _, new in updates], allow_missing=True)).graph
    node = _groups(graph)[0]
    text = printing.to_json(graph.outputs)
    assert any(n.get("op") == "FusedGroup" for n in json.loads(text)["nodes"])
    back = printing.from_json(text, {})
    kinds = [type(t.owner.op).__name__ for t in back]
    assert kinds == [type(t.owner.op).__name__ for t in graph.outputs] and "FusedGroup" in kinds
    rebuilt = FusedGroup.from_attrs(node.op.to_attrs())
    assert rebuilt == node.op and str(rebuilt).endswith("->3}")
    with pytest.raises(ValueError, match="two or more results"):
        FusedGroup(1, [(node.op.program[0][0], (0, 0))], [0])
    with pytest.raises(NotImplementedError, match="no gradient"):
        node.op.vjp(node.inputs, node.outputs, [None] * 3)


def test_a_group_read_by_one_other_alone_and_not_an_output_is_left_to_fusion():
    from symkeras.graph import ops
    from symkeras.graph.basic import placeholder
    from symkeras.graph.ops.fused import Fused
    from symkeras.graph.rewrite.core import PassRecord
    from symkeras.graph.rewrite.group_fusion import GroupFusion

    a = placeholder((4, 3), name="a")
    inner = Fused(1, [(ops.Exp(), (0,))])(a)  # two groups (as fusion's size bound leaves them), one output
    outer = Fused(2, [(ops.Tanh(), (0,)), (ops.Add(), (2, 1))])(inner, a)
    graph = Graph([a], [outer], allow_missing=True)
    record = PassRecord("group_fusion")
    assert GroupFusion().run(graph, record) is graph and not record.fired
    # an update value read by the next group joins it
    both = Graph([a], [outer, inner], allow_missing=True)
    grouped = GroupFusion().run(both, PassRecord("group_fusion"))
    (node,) = grouped.nodes
    assert isinstance(node.op, FusedGroup)
    data = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
    for got, want in zip(evaluate(grouped.outputs, {a: data}), evaluate(both.outputs, {a: data})):
        np.testing.assert_allclose(got, want, rtol=1e-6)
