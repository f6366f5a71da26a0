"""The step_groups pass: elementwise groups of one run-time shape in a loop step become one multi-output op,
values unchanged, and never two merged ops that read each other's results."""

import numpy as np

from symkeras.codegen.reference import evaluate
from symkeras.graph import ops
from symkeras.graph.basic import placeholder
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.fused import FusedGroup
from symkeras.graph.rewrite.core import PassRecord
from symkeras.graph.rewrite.fusion import ElementwiseFusion
from symkeras.graph.rewrite.step_groups import StepGroupFusion


def _grouped(graph):
    fused = ElementwiseFusion().run(graph, PassRecord("fusion"))
    return fused, StepGroupFusion().run(fused, PassRecord("step_groups"))


def _values(graph, feed):
    return evaluate(graph.outputs, dict(zip(graph.inputs, feed)))


def test_groups_of_one_shape_become_one_op_computing_the_same_values(rng):
    x, h = placeholder((4, 3)), placeholder((4, 3))
    gate = ops.sigmoid(x)  # read by both results below: a group of its own after fusion
    c = gate * h + ops.tanh(x)
    out = gate * ops.tanh(c)
    graph = Graph([x, h], [c, out])
    fused, grouped = _grouped(graph)
    (group,) = [n for n in grouped.nodes if isinstance(n.op, FusedGroup)]
    assert len(group.outputs) == 2 and len(grouped.nodes) == 1
    feed = [rng.normal(size=(4, 3)).astype("float32") for _ in range(2)]
    for got, wanted in zip(_values(grouped, feed), _values(graph, feed)):
        np.testing.assert_allclose(got, wanted, rtol=1e-6)


def test_clusters_that_would_read_each_other_are_not_both_merged(rng):
    """A (4, 2) cluster reads a slice of a (4, 3) member, and the (4, 3) cluster reads a product of a (4, 2)
    member: merging both would make two ops that each wait for the other."""
    x, y, w = placeholder((4, 2)), placeholder((4, 3)), placeholder((2, 3))
    a1, b1 = ops.exp(x), ops.tanh(y)
    a2 = a1 * b1[:, :2]
    b2 = b1 + ops.matmul(a1, w)
    graph = Graph([x, y, w], [a2, b2])
    fused, grouped = _grouped(graph)
    groups = [n for n in grouped.nodes if isinstance(n.op, FusedGroup)]
    assert len(groups) == 1  # one cluster merged, the other left as it was
    feed = [rng.normal(size=s).astype("float32") for s in ((4, 2), (4, 3), (2, 3))]
    for got, wanted in zip(_values(grouped, feed), _values(graph, feed)):
        np.testing.assert_allclose(got, wanted, rtol=1e-6)
