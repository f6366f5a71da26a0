"""Op traits: declared on the op classes, read by fusion, the memory plan, folding and the rewrite engine."""

import numpy as np
import pytest

from symkeras.codegen.function import Function
from symkeras.graph import ops
from symkeras.graph.basic import OP_TYPES, Op, constant, placeholder
from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import LocalPass, PassRecord, optimize, rule
from symkeras.graph.rewrite.core import RuleTable


def test_traits_are_declared_on_the_op_classes():
    assert ops.Add.elementwise and ops.Add.cheap and ops.Add.in_place
    assert ops.Exp.elementwise and not ops.Exp.cheap
    assert ops.Identity.view_of == 0 and not ops.Identity.in_place
    assert ops.Reshape.view_of == 0 and ops.Subtensor.view_of == 0 and ops.Einsum.view_of is None
    assert ops.Sum.reduction == "sum" and ops.Max.reduction == "max" and ops.Softmax.reduction is None
    assert ops.BroadcastLike.shape_from == 1 and ops.FullLike.shape_from == 0 and ops.RandomUniform.shape_from == 0
    assert ops.RandomNormal.is_random and not ops.Add.is_random
    effects = [cls.__name__ for cls in OP_TYPES.values()
               if cls.has_side_effects and cls.__module__.startswith("symkeras")]
    # K.print_tensor's op prints, an allreduce talks to the other ranks: never merged, folded or removed
    assert sorted(effects) == ["Allreduce", "PrintTensor"]
    fused = ops.Fused(1, [(ops.Exp(), (0,))])
    assert fused.in_place and not ops.Fused(1, [(ops.Exp(), (0,))], ops.Sum((0,))).in_place


class Cube(Op):
    """A toy elementwise op (a test's own): fusion joins it by its trait alone."""

    nin = 1
    elementwise = True

    def infer(self, inputs):
        return inputs[0].dtype, inputs[0].shape

    def perform(self, inputs, rng=None):
        return inputs[0] ** 3


def test_fusion_reads_the_elementwise_trait():
    x = placeholder((None, 3), name="x")
    graph = optimize(Graph([x], [ops.exp(Cube()(x)) + 1.0])).graph
    (node,) = graph.nodes
    assert isinstance(node.op, ops.Fused) and [type(op) for op, _ in node.op.program] == [Cube, ops.Exp, ops.Add]


LOG: list = []


class Record(Op):
    """A toy op with a side effect: each evaluation appends (tag, value) to LOG."""

    __props__ = ("tag",)
    nin = 1
    has_side_effects = True

    def __init__(self, tag):
        self.tag = tag

    def infer(self, inputs):
        return inputs[0].dtype, inputs[0].shape

    def perform(self, inputs, rng=None):
        LOG.append((self.tag, float(np.sum(inputs[0]))))
        return inputs[0]


@pytest.fixture
def log():
    LOG.clear()
    yield LOG
    LOG.clear()


def test_side_effect_nodes_are_not_merged(log):
    x = placeholder((2,), name="x")
    a, b = Record("r")(x), Record("r")(x)  # equal op and inputs: CSE would merge pure nodes
    f = Function([x], [a + b], backend="reference")
    assert sum(isinstance(n.op, Record) for n in f.optimized_graph.nodes) == 2
    f([np.ones(2)])
    assert log == [("r", 2.0), ("r", 2.0)]


def test_side_effect_nodes_are_not_removed_or_folded(log):
    x = placeholder((2, 3), name="x")
    shape = ops.shape_of(Record("shape")(x))  # a static shape folds to a constant: the dependency goes away
    f = Function([x], [shape], backend="reference")
    assert any(isinstance(n.op, Record) for n in f.optimized_graph.nodes)
    f([np.ones((2, 3))])
    assert log == [("shape", 6.0)]
    log.clear()
    on_constant = Function([], [Record("constant")(constant(np.array([1.0, 2.0])))], backend="reference")
    on_constant([])
    on_constant([])
    assert log == [("constant", 3.0), ("constant", 3.0)]  # not folded into a constant at compile time


def test_side_effect_nodes_run_in_the_order_they_were_made(log):
    x = placeholder((2,), name="x")
    first = Record("first")(ops.exp(ops.exp(x)))  # needs more work before it than the second
    second = Record("second")(x)
    f = Function([x], [second + first], backend="reference")
    effects = [n.op.tag for n in f.optimized_graph.nodes if isinstance(n.op, Record)]
    assert effects == ["first", "second"]
    f([np.zeros(2)])
    assert [tag for tag, _ in log] == ["first", "second"]


def test_rules_run_only_on_the_op_types_they_are_registered_for():
    seen = []

    @rule(ops.Exp)
    def watch_exp(t):
        seen.append(type(t.owner.op))
        return None

    def watch_all(t):  # not registered: sees every node
        seen.append("all")
        return None

    x = placeholder((3,), name="x")
    graph = Graph([x], [ops.exp(ops.tanh(x)) + 1.0])
    LocalPass("watch", [watch_exp, watch_all]).run(graph, PassRecord("watch"))
    assert seen.count(ops.Exp) == 1 and seen.count("all") == 3
    table = RuleTable([watch_exp])
    assert table.for_op(ops.Exp()) == [watch_exp] and table.for_op(ops.Tanh()) == []
