"""The Loop op: a step graph over time with states; its gradient is a reverse Loop (backpropagation
through time), checked by finite differences; the Numba step runs the loop itself and matches the
reference."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.graph import debugprint, from_json, ops, to_json
from symkeras.graph.basic import placeholder
from symkeras.graph.fgraph import Graph
from symkeras.graph.grad import gradients
from symkeras.graph.ops.loop import Loop, capture_step
from symkeras.testing import verify_grad

T, B, D, U = 3, 2, 2, 3


def simple_rnn(X, H0, W, R, backwards=False, keep=None):
    """h_t = tanh(x_t W + h_{t-1} R); per-step output 2 h_t."""
    xt = placeholder((None, X.shape[-1]), dtype=X.dtype, name="xt")
    ht = placeholder((None, R.shape[0]), dtype=X.dtype, name="ht")
    new = ops.tanh(ops.matmul(xt, W) + ops.matmul(ht, R))
    step, captured = capture_step([xt, ht], [new, new * 2.0])
    return Loop(step, 1, 1, keep, backwards).make_node(X, H0, *captured).outputs


def two_states(X, H0, C0, W, backwards=False, keep=None):
    """An LSTM-like step: two states (h, c) and one per-step output."""
    xt = placeholder((None, X.shape[-1]), dtype=X.dtype)
    ht = placeholder((None, H0.shape[-1]), dtype=X.dtype)
    ct = placeholder((None, H0.shape[-1]), dtype=X.dtype)
    z = ops.matmul(xt, W) + ht
    c = ct * ops.sigmoid(z) + ops.tanh(z)
    h = ops.tanh(c) * ops.sigmoid(z)
    step, captured = capture_step([xt, ht, ct], [h, c, h + c])
    return Loop(step, 1, 2, keep, backwards).make_node(X, H0, C0, *captured).outputs


def numpy_rnn(X, H0, W, R, backwards=False):
    h, out = H0, [None] * len(X)
    for t in (range(len(X) - 1, -1, -1) if backwards else range(len(X))):
        h = np.tanh(X[t] @ W + h @ R)
        out[t] = h
    return np.stack(out)


@pytest.fixture
def points(rng):
    return [rng.normal(size=(T, B, D)), rng.normal(size=(B, U)), rng.normal(size=(D, U)),
            rng.normal(size=(U, U)) * 0.5]


@pytest.mark.parametrize("backwards", [False, True])
def test_forward_values_match_numpy(backend, points, backwards):
    X, H0 = K.placeholder((None, None, D)), K.placeholder((None, U))
    x, h0, w, r = (p.astype("float32") for p in points)
    W, R = K.variable(w), K.variable(r)
    states, outputs = simple_rnn(X, H0, W, R, backwards)
    got_states, got_outputs = K.function([X, H0], [states, outputs])([x, h0])
    expected = numpy_rnn(x, h0, w, r, backwards)
    np.testing.assert_allclose(got_states, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_outputs, 2 * expected, rtol=1e-5, atol=1e-6)
    assert got_states.shape == (T, B, U)


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("output", [0, 1])
def test_gradients_match_finite_differences(points, backwards, output):
    verify_grad(lambda *a: simple_rnn(*a, backwards=backwards)[output], points)


@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("keep", [("all", "all"), ("last", "all"), ("last", "last")])
def test_two_states_gradients_match_finite_differences(rng, backwards, keep):
    points = [rng.normal(size=(T, B, D)), rng.normal(size=(B, U)), rng.normal(size=(B, U)), rng.normal(size=(D, U))]
    for k in range(3):
        verify_grad(lambda *a, k=k: two_states(*a, backwards=backwards, keep=keep)[k], points)


def test_the_final_state_alone_gets_its_gradient(points):
    verify_grad(lambda *a: simple_rnn(*a)[0][-1] * 3.0, points)


def test_second_order_gradients_through_the_reverse_loop(rng):
    points = [rng.normal(size=(T, B, D)), rng.normal(size=(B, U)), rng.normal(size=(B, U)), rng.normal(size=(D, U))]

    def grad_of_w(*a):
        out = two_states(*a)[2]
        return gradients(ops.reduce_sum(out * out), a[3])

    verify_grad(grad_of_w, points)


@pytest.mark.parametrize("backwards", [False, True])
def test_numba_gradients_match_the_reference(points, backwards):
    X, H0 = K.placeholder((None, None, D)), K.placeholder((None, U))
    x, h0, w, r = (p.astype("float32") for p in points)
    W, R = K.variable(w), K.variable(r)
    states, outputs = simple_rnn(X, H0, W, R, backwards)
    cost = ops.reduce_sum(states[-1] * 3.0) + ops.reduce_sum(outputs * outputs)
    wanted = [cost, *gradients(cost, [X, H0, W, R])]
    results = {b: K.function([X, H0], wanted, backend=b)([x, h0]) for b in ("reference", "numba")}
    for ref, got in zip(results["reference"], results["numba"]):
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5)


def test_work_that_does_not_change_over_time_is_captured_outside_the_loop():
    W = K.variable(np.ones((D, U), "float32"))
    xt = placeholder((None, D))
    scaled = W * 2.0
    step, captured = capture_step([xt], [ops.matmul(xt, scaled)])
    assert captured == [scaled]  # the product, not W: it is computed once, before the loop
    assert len(step.inputs) == 2 and step.leaves == step.inputs


def test_a_step_that_draws_random_numbers_is_refused():
    xt = placeholder((None, D))
    step, _ = capture_step([xt], [K.dropout(xt, 0.5)])  # its mask has the shape of the slice: drawn inside
    with pytest.raises(ValueError, match="random draws and side effects belong outside the loop"):
        Loop(step, 1, 0)


def test_a_step_reading_an_outer_tensor_directly_is_refused():
    W = K.variable(np.ones((D, U), "float32"))
    xt = placeholder((None, D))
    with pytest.raises(ValueError, match="may read only its inputs and small constants"):
        Loop(Graph([xt], [ops.matmul(xt, W)], allow_missing=True), 1, 0)


def test_an_initial_state_of_the_wrong_type_is_refused():
    xt, ht = placeholder((None, D)), placeholder((None, U))
    step, _ = capture_step([xt, ht], [ht + 1.0])
    with pytest.raises(ValueError, match="input 1 is  int64"):
        Loop(step, 1, 1).make_node(placeholder((T, None, D)), placeholder((None, U), dtype="int64"))


def test_sequences_of_different_lengths_raise_at_run_time(backend):
    xt, yt, ht = placeholder((None, D)), placeholder((None, D)), placeholder((None, D))
    step, _ = capture_step([xt, yt, ht], [ht + xt * yt])
    X, Y, H = K.placeholder((None, None, D)), K.placeholder((None, None, D)), K.placeholder((None, D))
    (out,) = Loop(step, 2, 1).make_node(X, Y, H).outputs
    f = K.function([X, Y, H], [out])
    ones = np.ones((B, D), "float32")
    np.testing.assert_allclose(f([np.ones((2, B, D), "float32")] * 2 + [ones])[0][-1], 3 * ones)
    with pytest.raises(ValueError, match="time steps"):
        f([np.ones((2, B, D), "float32"), np.ones((3, B, D), "float32"), ones])
    with pytest.raises(ValueError, match="no time steps"):
        f([np.ones((0, B, D), "float32")] * 2 + [ones])


def test_dumps_show_the_step_graph_and_json_round_trips(points):
    X = placeholder((T, None, D), name="X")
    H0 = placeholder((None, U), name="H0")
    W, R = placeholder((D, U), name="W"), placeholder((U, U), name="R")
    states, _ = simple_rnn(X, H0, W, R)
    text = debugprint(states)
    assert text.splitlines()[0].startswith("Loop{sequences=1, states=1, outputs=1}")
    assert "Tanh" in text and ">" in text  # the step graph, indented under its node
    (rebuilt,) = from_json(to_json(states))
    values = [p.astype("float32") for p in points]
    from symkeras.codegen.reference import evaluate

    feed = dict(zip([X, H0, W, R], values))
    leaves = {t.name: t for t in Graph([], [rebuilt], allow_missing=True).leaves}
    again = evaluate(rebuilt, {leaves[k.name]: v for k, v in feed.items()})
    np.testing.assert_allclose(again, evaluate(states, feed), rtol=1e-6)


def test_rewrites_run_inside_the_step_graph():
    from symkeras.graph.rewrite import optimize

    xt, ht = placeholder((None, D)), placeholder((None, D))
    step, _ = capture_step([xt, ht], [ops.neg(ops.neg(ht + xt))])
    X, H = placeholder((None, None, D)), placeholder((None, D))
    (out,) = Loop(step, 1, 1).make_node(X, H).outputs
    opt = optimize(Graph([X, H], [out]))
    assert opt.fired["inner_graphs.rewrote_inner_graph_of_Loop"] == 1
    (loop,) = [n for n in opt.graph.nodes if isinstance(n.op, Loop)]
    assert not any(isinstance(n.op, ops.Neg) for n in loop.op.step.nodes)


def test_per_step_outputs_nothing_reads_are_dropped():
    from symkeras.graph.rewrite import optimize

    xt, ht = placeholder((None, D)), placeholder((None, D))
    step, _ = capture_step([xt, ht], [ops.tanh(ht + xt), ht * xt])
    X, H = placeholder((None, None, D)), placeholder((None, D))
    states, products = Loop(step, 1, 1).make_node(X, H).outputs
    opt = optimize(Graph([X, H], [states]))
    (loop,) = [n for n in opt.graph.nodes if isinstance(n.op, Loop)]
    assert opt.fired["loop_outputs.dropped_unused_per_step_outputs"] == 1
    assert len(loop.outputs) == 1 and len(loop.op.step.outputs) == 1
    kept = optimize(Graph([X, H], [states, products]))
    assert [len(n.outputs) for n in kept.graph.nodes if isinstance(n.op, Loop)] == [2]


def test_per_step_outputs_that_the_rewrites_make_equal_are_stored_once(rng):
    from symkeras.codegen.reference import evaluate
    from symkeras.graph.rewrite import optimize

    xt, ht = placeholder((None, D)), placeholder((None, D))
    # two spellings of one product: equal once the rewrites inside the step graph have run
    step, _ = capture_step([xt, ht], [ops.tanh(ht + xt), ht * xt, ops.neg(ops.neg(ht * xt))])
    X, H = placeholder((None, None, D)), placeholder((None, D))
    states, first, second = Loop(step, 1, 1).make_node(X, H).outputs
    outputs = [states, first * 2.0, second + 1.0]
    opt = optimize(Graph([X, H], outputs))
    assert opt.fired["merged_loop_outputs.merged_equal_per_step_outputs"] == 1
    (loop,) = [n for n in opt.graph.nodes if isinstance(n.op, Loop)]
    assert len(loop.outputs) == 2 and len(loop.op.step.outputs) == 2
    values = {X: rng.normal(size=(4, 3, D)).astype("float32"), H: rng.normal(size=(3, D)).astype("float32")}
    for got, want in zip(evaluate(opt.graph.outputs, values), evaluate(outputs, values)):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    f = K.function([X, H], outputs, backend="numba")
    for got, want in zip(f([values[X], values[H]]), evaluate(outputs, values)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_small_expressions_of_constants_stay_inside_the_step_as_constants():
    from symkeras.graph.basic import constant

    xt = placeholder((None, D))
    one = ops.exp(constant(np.zeros((1, 1), "float32")))  # computed from a constant: no input of the loop
    step, captured = capture_step([xt], [xt * one])
    assert captured == [] and step.inputs == [xt]
    (leaf,) = [t for t in step.leaves if t is not xt]
    assert leaf.kind == "constant" and leaf.value.tolist() == [[1.0]]


def test_the_reverse_steps_groups_of_one_shape_become_one_kernel(rng):
    from symkeras.graph.ops.fused import FusedGroup
    from symkeras.graph.rewrite import optimize

    X, H0, C0 = K.placeholder((None, None, D)), K.placeholder((None, D)), K.placeholder((None, D))
    w = rng.normal(size=(D, D)).astype("float32")
    W = K.variable(w)
    hs, cs, outs = two_states(X, H0, C0, W)
    cost = ops.reduce_sum(outs * outs) + ops.reduce_sum(hs[-1])
    wanted = [cost, *gradients(cost, [X, H0, C0, W])]
    opt = optimize(Graph([X, H0, C0], wanted, allow_missing=True))
    (reverse,) = [n.op.step for n in opt.graph.nodes if isinstance(n.op, Loop) and n.op.backwards]
    groups = [n for n in reverse.nodes if isinstance(n.op, FusedGroup)]
    assert groups and all(len(n.outputs) >= 2 for n in groups)
    # each of a group's results is read outside it (or is a step output): none is written for nothing
    readers = {i for n in reverse.nodes if n not in groups for i in n.inputs} | set(reverse.outputs)
    assert all(o in readers for n in groups for o in n.outputs)
    x, h0, c0 = (rng.normal(size=s).astype("float32") for s in ((T, B, D), (B, D), (B, D)))
    results = {b: K.function([X, H0, C0], wanted, backend=b)([x, h0, c0]) for b in ("reference", "numba")}
    for ref, got in zip(results["reference"], results["numba"]):
        np.testing.assert_allclose(got, ref, rtol=2e-5, atol=2e-5)


def test_sequences_and_weights_the_step_does_not_read_are_dropped(rng):
    from symkeras.codegen.reference import evaluate
    from symkeras.graph.rewrite import optimize

    xt, yt, ht, wt = placeholder((None, D)), placeholder((None, D)), placeholder((None, D)), placeholder((D, D))
    step = Graph([xt, yt, ht, wt], [ht + xt])  # y_t and the weight are inputs nothing in the step reads
    X, Y, H, W = placeholder((None, None, D)), placeholder((None, None, D)), placeholder((None, D)), \
        placeholder((D, D))
    (out,) = Loop(step, 2, 1).make_node(X, Y, H, W).outputs
    opt = optimize(Graph([X, Y, H, W], [out]))
    (loop,) = [n for n in opt.graph.nodes if isinstance(n.op, Loop)]
    assert loop.op.n_sequences == 1 and list(loop.inputs) == [X, H]
    assert opt.fired["loop_outputs.dropped_unread_loop_inputs"] == 2
    x, y, h = rng.normal(size=(T, B, D)), rng.normal(size=(T, B, D)), rng.normal(size=(B, D))
    feed = {X: x.astype("float32"), Y: y.astype("float32"), H: h.astype("float32"), W: np.eye(D, dtype="float32")}
    np.testing.assert_allclose(evaluate(opt.graph.outputs, feed)[0], evaluate([out], feed)[0], rtol=1e-6)
