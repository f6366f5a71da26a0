"""Ops that carry inner graphs (Fused): printed indented under their node, rewritten inside."""

import numpy as np

from symkeras.codegen.reference import evaluate
from symkeras.graph import debugprint, ops
from symkeras.graph.basic import placeholder
from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import optimize


def test_printing_shows_the_inner_graph_under_its_node(capsys):
    x = placeholder((None, 3), name="x")
    fused = ops.Fused(1, [(ops.Tanh(), (0,)), (ops.Mul(), (1, 0))], ops.Sum((1,)))(x)
    lines = debugprint(fused).splitlines()
    assert lines[0].startswith("Fused{Tanh|Mul->Sum{axis=(1,)}} [id A] float32 (None,)")
    assert lines[1] == " |x [id B] placeholder float32 (None, 3)"
    assert lines[2] == " >Sum{axis=(1,), keepdims=False} [id C] float32 (None,)"
    assert lines[3] == " > |Mul [id D] float32 (None, 3)"
    assert lines[4] == " > | |Tanh [id E] float32 (None, 3)"
    assert lines[5] == " > | | |in0 [id F] placeholder float32 (None, 3)"
    assert lines[6] == " > | |in0 [id F] placeholder float32 (None, 3)"


def test_rewrites_run_inside_inner_graphs():
    x = placeholder((None, 3), name="x")
    # a program with a double negation, as an op built by hand (a loop's step, say) may carry
    op = ops.Fused(2, [(ops.Neg(), (0,)), (ops.Neg(), (2,)), (ops.Mul(), (3, 1)), (ops.Exp(), (4,))])
    out = op(x, np.float32(2.0))
    opt = optimize(Graph([x], [out]))
    (node,) = opt.graph.nodes
    assert [(type(o), refs) for o, refs in node.op.program] == [(ops.Mul, (0, 1)), (ops.Exp, (2,))]
    assert opt.fired["inner_graphs.rewrote_inner_graph_of_Fused"] == 1
    value = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(evaluate(opt.graph.outputs[0], {x: value}), np.exp(2 * value), rtol=1e-6)


def test_an_inner_graph_reduced_to_an_input_keeps_a_valid_program():
    x = placeholder((None, 3), name="x")
    out = ops.Fused(1, [(ops.Neg(), (0,)), (ops.Neg(), (1,))], ops.Sum((1,)))(x)
    (node,) = optimize(Graph([x], [out])).graph.nodes
    assert str(node.op) == "Fused{Identity->Sum{axis=(1,)}}"
    value = np.arange(6.0, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(evaluate(node.outputs[0], {x: value}), value.sum(1))
