"""Rewrite passes: each compared structurally with the expected graph, then numerically."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen.reference import evaluate
from symkeras.graph import Graph, ops
from symkeras.graph.basic import Tensor, constant, placeholder
from symkeras.graph.printing import format_tree
from symkeras.graph.rewrite import LocalPass, PassRecord, algebra, dims, folding, optimize, stability
from symkeras.graph.rewrite.fusion import ElementwiseFusion


def same(a: Tensor, b: Tensor) -> bool:
    """Structural equality: same ops and attributes, same leaves (by identity or equal constants)."""
    if a is b:
        return True
    if a.owner is None or b.owner is None:
        return (a.kind == b.kind == "constant" and a.dtype == b.dtype
                and np.array_equal(a.value, b.value))
    return (a.owner.op == b.owner.op and len(a.owner.inputs) == len(b.owner.inputs)
            and all(same(x, y) for x, y in zip(a.owner.inputs, b.owner.inputs)))


def run_rules(out: Tensor, rules, inputs=()):
    record = PassRecord("test")
    graph = LocalPass("test", rules, merge=True).run(Graph(list(inputs), [out], allow_missing=True), record)
    return graph.outputs[0], record


def assert_rewrites_to(out, expected, rules, fired=None):
    got, record = run_rules(out, rules)
    assert same(got, expected), "\n" + format_tree([got]) + "\n-- expected --\n" + format_tree([expected])
    if fired:
        assert record.fired[fired] >= 1, record


X = placeholder((None, 3), name="x")
S = placeholder((2, 3), name="s")


@pytest.mark.parametrize("build,expected,rule", [
    (lambda: ops.identity(X), lambda: X, "remove_identity"),
    (lambda: ops.stop_gradient(X), lambda: X, "remove_identity"),
    (lambda: X + 0.0, lambda: X, "neutral_element"),
    (lambda: 0.0 + X, lambda: X, "neutral_element"),
    (lambda: X - 0.0, lambda: X, "neutral_element"),
    (lambda: X * 1.0, lambda: X, "neutral_element"),
    (lambda: X / 1.0, lambda: X, "neutral_element"),
    (lambda: X * -1.0, lambda: ops.neg(X), "multiply_by_minus_one"),
    (lambda: ops.neg(ops.neg(X)), lambda: X, "double_negation"),
    (lambda: ops.transpose(ops.transpose(S)), lambda: S, "transpose_of_transpose"),
    (lambda: ops.Transpose((1, 2, 0))(ops.Transpose((2, 0, 1))(placeholder((2, 3, 4), name="c"))),
     None, "transpose_of_transpose"),
    (lambda: ops.reshape(ops.reshape(S, (3, 2)), (6,)), lambda: ops.reshape(S, (6,)), "reshape_of_reshape"),
    (lambda: ops.reshape(S, (2, 3)), lambda: S, "reshape_of_reshape"),
    (lambda: ops.Cast("float32")(X), lambda: X, "cast_to_same_dtype"),
    (lambda: ops.reduce_sum(placeholder((None, 1), name="col"), axis=1), None, "reduce_over_size_one_axes"),
    (lambda: ops.BroadcastLike()(S, placeholder((2, 3), name="r")), lambda: S, "broadcast_no_op"),
    (lambda: ops.SumToLike()(X, placeholder((3,), name="b")), lambda: ops.reduce_sum(X, 0), "sum_to_like_static"),
    (lambda: ops.SumToLike()(X, placeholder((1, 3), name="b2")), lambda: ops.reduce_sum(X, 0, keepdims=True),
     "sum_to_like_static"),
    (lambda: X ** 2, lambda: ops.square(X), "power_by_constant"),
    (lambda: X ** 1, lambda: X, "power_by_constant"),
    (lambda: X ** -1, lambda: ops.reciprocal(X), "power_by_constant"),
])
def test_algebraic_rules(build, expected, rule):
    out = build()
    got, record = run_rules(out, algebra.RULES)
    assert record.fired[rule] >= 1, record
    if expected is not None:
        assert same(got, expected()), format_tree([got])
    assert got.dtype == out.dtype and got.ndim == out.ndim


def test_transpose_pair_collapses_to_its_input():
    c = placeholder((2, 3, 4), name="c")
    got, _ = run_rules(ops.Transpose((1, 2, 0))(ops.Transpose((2, 0, 1))(c)), algebra.RULES)
    assert got is c


def test_rules_that_must_not_fire():
    # x * 0 is NaN for NaN/Inf input: it stays
    got, record = run_rules(X * 0.0, algebra.RULES)
    assert got.owner.op.name == "Mul" and not record.fired
    # x ** 0.5 is not sqrt: pow(-inf, 0.5) = inf but sqrt(-inf) = nan
    got, record = run_rules(X ** 0.5, algebra.RULES)
    assert got.owner.op.name == "Pow"
    # x + 0 that broadcasts x to a bigger shape is not x
    got, _ = run_rules(placeholder((3,), name="v") + constant(np.zeros((2, 3), "float32")), algebra.RULES)
    assert got.shape == (2, 3)
    # a (None, 3) reference might be (1, 3) at run time: SumToLike stays dynamic
    got, _ = run_rules(ops.SumToLike()(X, placeholder((None, 3))), algebra.RULES)
    assert got.owner.op.name == "SumToLike"


def test_constant_folding_and_static_shapes():
    c = constant(np.array([1.0, 2.0, 3.0], "float32"))
    got, record = run_rules(ops.exp(c) * 2 + 1, folding.RULES)
    assert got.kind == "constant"
    np.testing.assert_allclose(got.value, np.exp([1, 2, 3]) * 2 + 1, rtol=1e-6)
    got, _ = run_rules(ops.shape_of(S), folding.RULES)
    assert got.kind == "constant" and got.value.tolist() == [2, 3]
    got, _ = run_rules(ops.shape_of(X), folding.RULES)
    assert got.owner.op.name == "Shape"
    assert run_rules(ops.random_normal((2,), seed=1), folding.RULES)[0].owner is not None
    big = constant(np.ones(1 << 17, "float32"))
    assert run_rules(big * 2, folding.RULES)[0].owner is not None  # too big to store


def test_cse_merges_equal_nodes_and_constants():
    a = ops.exp(X) + constant(1.0)
    b = ops.exp(X) + constant(1.0)
    graph = Graph([X], [a * b])
    out = optimize(graph, exclude=("fusion",)).graph
    mul = out.outputs[0]
    assert mul.owner.inputs[0] is mul.owner.inputs[1]
    assert len(out.nodes) == 3


def test_stability_log_softmax_and_sigmoid():
    assert_rewrites_to(ops.log(ops.softmax(X)), ops.LogSoftmax(1)(X), stability.RULES, "log_of_softmax")
    assert_rewrites_to(ops.log(ops.sigmoid(X)), ops.neg(ops.softplus(ops.neg(X))), stability.RULES,
                       "log_of_sigmoid")


def _finite_cases():
    logits = np.array([[0.5, -1.0, 2.0], [100.0, -100.0, 0.0], [-30.0, 30.0, 1.0]], "float32")
    onehot = np.eye(3, dtype="float32")[[2, 1, 0]]
    return logits, onehot


def test_categorical_crossentropy_of_softmax_is_stable_and_agrees_with_keras():
    logits, onehot = _finite_cases()
    x, t = placeholder((None, 3), name="logits"), placeholder((None, 3), name="target")
    loss = K.categorical_crossentropy(t, K.softmax(x))
    graph = Graph([x, t], [loss])
    opt = optimize(graph)
    assert opt.fired["stability.log_of_clipped_softmax"] == 1
    plain = evaluate(loss, {x: logits, t: onehot})
    fast = evaluate(opt.graph.outputs[0], {x: logits, t: onehot})
    np.testing.assert_allclose(fast, plain, rtol=1e-5)
    # Keras clips at epsilon, so the worst loss is -log(1e-7) and every value stays finite
    assert np.all(np.isfinite(fast)) and fast.max() <= -np.log(np.float32(1e-7)) + 1e-4


def test_binary_crossentropy_of_sigmoid_is_stable_and_agrees_with_keras():
    x, t = placeholder((None,), name="logits"), placeholder((None,), name="target")
    loss = K.binary_crossentropy(t, K.sigmoid(x))
    opt = optimize(Graph([x, t], [loss]))
    assert opt.fired["stability.logit_of_clipped_sigmoid"] == 1
    logits = np.array([-50.0, -20.0, -3.0, 0.0, 2.5, 16.0, 40.0], "float32")
    for target in (0.0, 1.0):
        feed = {x: logits, t: np.full(7, target, "float32")}
        np.testing.assert_allclose(evaluate(opt.graph.outputs[0], feed), evaluate(loss, feed), rtol=2e-5)


def test_gradients_are_taken_on_the_stable_form():
    x, t = placeholder((None, 3), name="logits"), placeholder((None, 3), name="target")
    loss = K.mean(K.categorical_crossentropy(t, K.softmax(x)))
    (g,) = K.gradients(loss, [x])
    logits, onehot = _finite_cases()
    logits = logits / 100  # inside the clip range, where the gradient is softmax - target
    got = evaluate(g, {x: logits, t: onehot})
    e = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(got, (e / e.sum(1, keepdims=True) - onehot) / 3, rtol=1e-5, atol=1e-7)
    names = {n.op.name for n in Graph([x, t], [g]).nodes}
    assert "LogSoftmax" in names and "Softmax" not in names


def test_fusion_groups_and_reductions():
    y = placeholder((None, 3), name="y")
    out = ops.reduce_sum(ops.square(ops.tanh(X) - y), axis=1)
    graph = optimize(Graph([X, y], [out])).graph
    assert len(graph.nodes) == 1
    fused = graph.nodes[0].op
    assert isinstance(fused, ops.Fused) and fused.reduce == ops.Sum((1,))
    assert [op.name for op, _ in fused.program] == ["Tanh", "Sub", "Square"]
    feed = {X: np.random.default_rng(0).normal(size=(4, 3)).astype("float32"),
            y: np.ones((4, 3), "float32")}
    np.testing.assert_allclose(evaluate(graph.outputs[0], feed), evaluate(out, feed), rtol=1e-6)


def test_fusion_keeps_values_needed_elsewhere():
    h = ops.tanh(X)
    out1 = ops.exp(h) * 2
    graph = optimize(Graph([X], [out1, h])).graph  # h is an output: it must stay materialized
    assert {n.op.name for n in graph.nodes} == {"Fused"}
    assert len(graph.nodes) == 2
    assert graph.outputs[0].owner.inputs == (graph.outputs[1],) or graph.outputs[1] in graph.outputs[0].owner.inputs


def test_a_cheap_value_that_is_an_array_anyway_is_read_not_recomputed():
    w = K.variable(np.ones((3, 2)), name="w")
    h = ops.relu(X + 1.0)  # cheap, but a product reads it: it is an array whatever fusion does
    out = ops.exp(h) * 3.0 + K.sum(K.dot(h, w))
    graph = optimize(Graph([X], [out])).graph
    groups = [n for n in graph.nodes if isinstance(n.op, ops.Fused)]
    relu_group = next(n for n in groups if "Relu" in str(n.op))
    assert ["Relu" in str(n.op) for n in groups].count(True) == 1  # the exp group reads h
    assert any(relu_group.outputs[0] in n.inputs for n in groups if n is not relu_group)
    feed = {X: np.random.default_rng(5).normal(size=(4, 3)).astype("float32")}
    np.testing.assert_allclose(evaluate(graph.outputs[0], feed), evaluate(out, feed), rtol=1e-6)


def test_a_reduction_owns_its_input_when_every_other_consumer_recomputes_it():
    y = placeholder((None, 3), name="y")
    prod = ops.minimum(X, 1.0) * y  # cheap: the second group recomputes it
    total = ops.reduce_sum(prod, axis=1)
    scaled = ops.exp(prod) + ops.expand_dims(total, 1)
    graph = optimize(Graph([X, y], [scaled])).graph
    fused = [n.op for n in graph.nodes if isinstance(n.op, ops.Fused)]
    assert len(fused) == 2 and len(graph.nodes) == 3  # (and an ExpandDims)
    assert fused[0].reduce == ops.Sum((1,)) and "Mul" in str(fused[0])  # no kernel materializes prod
    feed = {X: np.random.default_rng(1).normal(size=(4, 3)).astype("float32"),
            y: np.random.default_rng(2).normal(size=(4, 3)).astype("float32")}
    np.testing.assert_allclose(evaluate(graph.outputs[0], feed), evaluate(scaled, feed), rtol=1e-6)
    # an expensive producer of it stays one array that both groups read, computed once
    shared = ops.exp(X) * y
    out = ops.log(shared) + ops.expand_dims(ops.reduce_sum(shared, axis=1), 1)
    graph = optimize(Graph([X, y], [out])).graph
    assert [str(n.op) for n in graph.nodes] == ["Fused{Exp}", "Fused{Mul->Sum{axis=(1,)}}", "ExpandDims{axis=1}",
                                                       "Fused{Mul|Log|Add}"]
    feed[X] = np.abs(feed[X])
    feed[y] = np.abs(feed[y]) + 0.1
    np.testing.assert_allclose(evaluate(graph.outputs[0], feed), evaluate(out, feed), rtol=1e-6)


def test_pipeline_records_exclusion_and_modes():
    graph = Graph([X], [ops.exp(X * 1.0) + 0.0])
    opt = optimize(graph)
    names = [r.name for r in opt.records]
    assert names == ["dce", "loop_outputs", "inner_graphs", "cse", "constant_folding", "simplify", "stability",
                     "simplify_again", "slice_gradients", "merged_loop_outputs", "fusion", "conv_epilogue",
                     "group_fusion"]
    assert opt.fired["simplify.neutral_element"] == 2
    assert "simplify: neutral_element x2" in opt.report()
    skipped = optimize(graph, exclude=("simplify", "simplify_again"))
    assert "simplify" not in [r.name for r in skipped.records]
    assert skipped.graph.nodes[0].op.program[0][0].name == "Mul"
    assert optimize(graph, mode="none").graph is graph
    with pytest.raises(ValueError, match="Unknown rewrite pass"):
        optimize(graph, exclude=("nope",))
    with pytest.raises(ValueError, match="Unknown optimization mode"):
        optimize(graph, mode="turbo")
    snaps = optimize(graph, keep_snapshots=True).snapshots
    assert [name for name, _ in snaps][:2] == ["input", "dce"]


def test_fusion_pass_alone():
    record = PassRecord("fusion")
    graph = ElementwiseFusion().run(Graph([X], [ops.exp(X) + 1]), record)
    assert record.fired == {"fused_group": 1, "fused_ops": 2}
    assert str(graph.nodes[0].op) == "Fused{Exp|Add}"


def test_fused_op_round_trips_through_json():
    from symkeras.graph import from_json, to_json

    graph = optimize(Graph([X], [ops.reduce_max(ops.relu(X, alpha=0.1) * 3, axis=0)])).graph
    text = to_json(graph.outputs)
    (rebuilt,) = from_json(text)
    assert to_json(rebuilt) == text
    value = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    new_x = [t for t in _leaves(rebuilt) if t.kind == "placeholder"][0]
    np.testing.assert_allclose(evaluate(rebuilt, {new_x: value}), evaluate(graph.outputs[0], {X: value}))


def _leaves(t):
    from symkeras.graph.fgraph import ancestors_dag

    return [d["tensor"] for _, d in ancestors_dag([t]).nodes(data=True) if d["tensor"].owner is None]


def test_run_time_sizes_are_matched_through_how_tensors_were_made():
    x = placeholder((None, 3), name="x")
    b = placeholder((3,), name="b")
    w = placeholder((3, 5), name="w")
    other = placeholder((None, 3), name="other")
    h = ops.relu(x + b)  # b broadcasts into x: h has x's run-time shape
    mask = ops.random_binomial((None, 3), 0.5, "float32", 1, like=h)
    assert dims.dim_root(h, 0) == (x, 0) and dims.dim_root(mask, 0) == (x, 0)
    assert dims.same_runtime_shape(h * mask, x)
    product = ops.dot(h * mask, w)  # rows of the product: rows of its first operand
    assert dims.dim_root(product, 0) == (x, 0) and dims.same_size(product, 0, x, 0)
    assert not dims.same_runtime_shape(product, x)
    # x + other might broadcast either way (one of them may have 1 row): nothing known
    assert not dims.same_runtime_shape(x + other, x)
    assert dims.input_of_same_shape(x + other) is None


def test_gradient_of_dropout_sums_nothing_back():
    x = K.placeholder((None, 3), name="x")
    w = K.variable(np.ones((3, 3)), name="w")
    h = K.dropout(K.relu(K.dot(x, w)), 0.5, seed=1)
    (g,) = K.gradients(K.sum(h), [w])
    optimized = optimize(Graph([x], [g])).graph
    kinds = [n.op.name for n in optimized.nodes]
    assert "SumToLike" not in kinds, kinds
    # the random mask takes its shape from the matrix product, not from the relu's result
    (mask,) = [n for n in optimized.nodes if n.op.name == "RandomBinomial"]
    assert mask.inputs[0].owner.op.name == "Einsum"
    data = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
    np.testing.assert_allclose(evaluate(optimized.outputs, {x: data})[0], evaluate([g], {x: data})[0], rtol=1e-6)


def test_a_reference_that_might_broadcast_is_kept():
    x = placeholder((None, 3), name="x")
    other = placeholder((None, 3), name="other")
    got, _ = run_rules(ops.SumToLike()(x * 2.0, x + other), algebra.RULES)
    assert got.owner.op.name == "SumToLike"
    assert got.owner.inputs[1].owner.op.name == "Add"  # x + other has no input of provably its shape


def test_a_constant_condition_selects_its_branch():
    cond = ops.greater(constant(np.array(1.0)), 0.0)
    assert_rewrites_to(ops.where(cond, X, ops.exp(X)), X, algebra.RULES + folding.RULES, "select_by_constant_condition")
    # an inference graph (learning phase 0) draws no dropout mask and computes no batch statistics
    from symkeras.layers import BatchNormalization, Dense, Dropout
    from symkeras.models import Sequential

    model = Sequential([Dense(6, input_dim=4), Dropout(0.5), BatchNormalization(), Dense(2)])
    model.compile("sgd", "mse")
    kinds = {type(n.op).__name__ for n in model._make_predict_function().optimized_graph.nodes}
    assert kinds.isdisjoint({"RandomBinomial", "Moments", "Where"}), kinds


@pytest.mark.parametrize("perm, index", [((1, 0, 2), (slice(None), 0, slice(0, 1))), ((2, 0, 1), (1, slice(1, 3))),
                                         ((1, 0), (slice(None), 2)), ((0, 2, 1), (Ellipsis, 1))])
def test_an_index_of_a_transpose_indexes_its_input(perm, index, rng):
    x = placeholder((3, 4, 5)[:len(perm)], name="x")
    y = ops.transpose(x, perm)[index]
    opt = optimize(Graph([x], [y]))
    assert opt.fired["simplify.subtensor_of_transpose"] >= 1
    value = rng.normal(size=x.shape).astype("float32")
    np.testing.assert_array_equal(evaluate(opt.graph.outputs[0], {x: value}), value.transpose(perm)[index])


def _slice_gradients(x, slices):
    """The gradient of a loss over slices of ``x`` along axis 1 (a recurrent step's gates): SubtensorGrads
    of ``x`` added up."""
    loss = sum(K.sum(K.square(x[:, a:b]) * float(k + 1)) for k, (a, b) in enumerate(slices))
    return K.gradients(loss, [x])[0]


@pytest.mark.parametrize("slices", [[(0, 3), (3, 8), (8, 12)], [(8, 12), (0, 3), (3, 8)], [(None, 6), (6, None)]])
def test_gradients_of_slices_that_tile_an_axis_are_concatenated(slices, rng):
    x = K.placeholder((None, 12), name="x")
    g = _slice_gradients(x, slices)
    opt = optimize(Graph([x], [g]))
    assert opt.fired["slice_gradients.sum_of_slice_gradients"] == 1
    kinds = [type(n.op).__name__ for n in opt.graph.nodes]
    assert "Concatenate" in kinds and "SubtensorGrad" not in kinds
    value = rng.normal(size=(5, 12)).astype("float32")
    np.testing.assert_allclose(evaluate(opt.graph.outputs[0], {x: value}), evaluate(g, {x: value}), rtol=1e-6)


@pytest.mark.parametrize("slices", [[(0, 3), (4, 12)], [(0, 6), (3, 12)], [(0, 6), (6, 11)], [(0, 4), (0, 4)]])
def test_slice_gradients_that_leave_a_gap_or_overlap_stay_added(slices, rng):
    x = K.placeholder((None, 12), name="x")
    g = _slice_gradients(x, slices)
    opt = optimize(Graph([x], [g]))
    assert opt.fired["slice_gradients.sum_of_slice_gradients"] == 0
    value = rng.normal(size=(5, 12)).astype("float32")
    np.testing.assert_allclose(evaluate(opt.graph.outputs[0], {x: value}), evaluate(g, {x: value}), rtol=1e-6)


def test_fusion_leaves_no_operand_of_a_recomputed_value_unfused():
    # lr * ratio is cheap: each update group recomputes it and reads ratio (a division) as an array, so the
    # group of lr * ratio may not own ratio's chain (it would be dead, and the chain left as bare nodes)
    step = K.variable(np.float32(3.0), name="step")
    b1, b2, lr = (K.variable(np.float32(v), name=n) for v, n in ((0.9, "b1"), (0.999, "b2"), (0.01, "lr")))
    ratio = K.sqrt(1.0 - K.pow(b2, step + 1.0)) / (1.0 - K.pow(b1, step + 1.0))
    g1, g2 = placeholder((4, 3), name="g1"), placeholder((5,), name="g2")
    p1, p2 = K.variable(np.ones((4, 3)), name="p1"), K.variable(np.ones(5), name="p2")
    graph = Graph([g1, g2], [p1 - lr * ratio * g1, p2 - lr * ratio * g2], allow_missing=True)
    optimized = optimize(graph).graph
    assert {type(n.op).__name__ for n in optimized.nodes} == {"Fused"}
    assert len(optimized.nodes) == 3  # the ratio once, then each update
    feeds = {g1: np.full((4, 3), 0.5, "float32"), g2: np.linspace(-1, 1, 5).astype("float32")}
    for got, want in zip(evaluate(optimized.outputs, feeds), evaluate(graph.outputs, feeds)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
