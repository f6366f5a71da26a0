"""The graph container: order, leaves, missing inputs, clone, networkx view."""

import networkx as nx
import numpy as np
import pytest

from symkeras.codegen.reference import evaluate
from symkeras.graph import Graph, MissingInputError, ops
from symkeras.graph.basic import constant, placeholder
from symkeras.runtime import variable


def test_topological_order_and_leaves():
    x = placeholder((2,), name="x")
    v = variable(np.ones(2), name="v")
    a = x + v
    e = ops.exp(a)
    b = e * a
    g = Graph([x], [b])
    position = {t: i for i, t in enumerate(g.tensors)}
    for node in g.nodes:
        for inp in node.inputs:
            assert position[inp] < position[node.out]
    assert [n.op.name for n in g.nodes] == ["Add", "Exp", "Mul"]
    assert g.variables == [v] and g.constants == []
    assert isinstance(g.nx, nx.DiGraph) and nx.is_directed_acyclic_graph(g.nx)
    assert g.ancestors(b) == {x, v, a, e}
    assert b in g.descendants(x)


def test_order_is_networkx_lexicographic_order_by_uid():
    x, y = placeholder((None, 3), name="x"), placeholder((None, 3), name="y")
    w = variable(np.ones((3, 3)), name="w")
    h = ops.tanh(ops.dot(x, w)) + y
    outs = [ops.reduce_sum(h * h), ops.exp(y) - h]
    g = Graph([x, y], outs)
    want = nx.lexicographical_topological_sort(g.nx, key=lambda uid: uid)
    assert [t.uid for t in g.tensors] == list(want)


def test_importing_the_backend_leaves_networkx_unloaded():
    import subprocess
    import sys

    code = "import sys, symkeras.backend as K; K.function([K.placeholder((2,))], []); print('networkx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"  # (a quarter second of every start; the graph view imports it on demand)


def test_missing_placeholder_is_named():
    x, y = placeholder((2,), name="x"), placeholder((2,), name="labels")
    with pytest.raises(MissingInputError, match="'labels'"):
        Graph([x], [x + y])


def test_inputs_cut_the_graph():
    x = placeholder((2,), name="x")
    h = ops.exp(x)
    out = h * 2
    g = Graph([h], [out])  # feeding an intermediate: x is not needed
    assert [n.op.name for n in g.nodes] == ["Mul"]


def test_clone_with_replacements():
    x = placeholder((3,), name="x")
    y = ops.reduce_sum(ops.square(x) + 1)
    g = Graph([x], [y])
    z = placeholder((3,), name="z")
    new_graph, mapping = g.clone(replace={x: z * 2})
    (new_y,) = new_graph.outputs
    assert new_y is not y and mapping[y] is new_y
    value = np.array([1.0, 2.0, 3.0], dtype="float32")
    assert evaluate(new_y, {z: value}) == pytest.approx(np.sum((2 * value) ** 2 + 1))
    assert evaluate(y, {x: value}) == pytest.approx(np.sum(value**2 + 1))
    with pytest.raises(ValueError, match="dtype or rank differs"):
        g.clone(replace={x: placeholder((3, 1))})


def test_clone_without_changes_shares_nodes():
    x = placeholder((3,))
    y = ops.exp(x) + constant(1.0)
    g2, mapping = Graph([x], [y]).clone()
    assert g2.outputs[0] is y
