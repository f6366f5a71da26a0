"""Property: on random graphs, the optimized graph computes what the unoptimized one does."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from symkeras.codegen.reference import evaluate
from symkeras.graph import Graph, ops
from symkeras.graph.basic import constant, placeholder
from symkeras.graph.rewrite import optimize

UNARY = [ops.tanh, ops.sigmoid, ops.neg, ops.square, ops.abs_, lambda t: ops.exp(ops.tanh(t)),
         lambda t: ops.log(ops.softplus(t) + 1), ops.relu, lambda t: ops.softmax(t, -1),
         lambda t: ops.log_softmax(t, -1), lambda t: ops.identity(t) * 1.0 + 0.0,
         lambda t: ops.neg(ops.neg(t)), lambda t: ops.clip(t, -1, 1)]
BINARY = [ops.add, ops.sub, ops.mul, ops.maximum, ops.minimum,
          lambda a, b: ops.where(a > b, a, b), lambda a, b: a / (ops.abs_(b) + 1)]
REDUCE = [lambda t: ops.reduce_sum(t, -1, keepdims=True), lambda t: ops.reduce_max(t, 0, keepdims=True),
          lambda t: ops.reduce_mean(t, -1, keepdims=True), lambda t: ops.transpose(ops.transpose(t))]


@st.composite
def graphs(draw):
    leaves = [placeholder((None, 4), name="a"), placeholder((4,), name="b"), placeholder((1, 4), name="c"),
              constant(np.linspace(-1, 1, 4).astype("float32"))]
    pool = list(leaves)
    for _ in range(draw(st.integers(2, 10))):
        kind = draw(st.sampled_from(["unary", "binary", "reduce"]))
        if kind == "unary":
            pool.append(draw(st.sampled_from(UNARY))(draw(st.sampled_from(pool))))
        elif kind == "binary":
            pool.append(draw(st.sampled_from(BINARY))(draw(st.sampled_from(pool)), draw(st.sampled_from(pool))))
        else:
            t = draw(st.sampled_from(pool))
            if t.ndim >= 1:
                pool.append(draw(st.sampled_from(REDUCE))(t))
    outputs = [pool[-1]] + draw(st.lists(st.sampled_from(pool[4:] or pool), max_size=2))
    return leaves[:3], outputs


@settings(max_examples=80, deadline=None)
@given(graphs(), st.integers(1, 5))
def test_optimized_graph_matches_unoptimized(case, batch):
    inputs, outputs = case
    rng = np.random.default_rng(batch)
    feed = {inputs[0]: rng.normal(size=(batch, 4)).astype("float32"),
            inputs[1]: rng.normal(size=(4,)).astype("float32"),
            inputs[2]: rng.normal(size=(1, 4)).astype("float32")}
    graph = Graph(inputs, outputs, allow_missing=True)
    optimized = optimize(graph).graph
    want = evaluate(graph.outputs, feed)
    got = evaluate(optimized.outputs, feed)
    for w, g, o, n in zip(want, got, graph.outputs, optimized.outputs):
        assert g.dtype == w.dtype and n.dtype == o.dtype
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, equal_nan=True)


@settings(max_examples=25, deadline=None)
@given(graphs(), st.integers(1, 4))
def test_compiled_random_graphs_match_the_reference(case, batch):
    from helpers import assert_same

    from symkeras.codegen.function import Function

    inputs, outputs = case
    rng = np.random.default_rng(batch)
    values = [rng.normal(size=(batch, 4)).astype("float32"), rng.normal(size=(4,)).astype("float32"),
              rng.normal(size=(1, 4)).astype("float32")]
    want = evaluate(outputs, dict(zip(inputs, values)))
    got = Function(inputs, outputs, backend="numba")(values)
    for i, (g, w) in enumerate(zip(got, want)):
        assert_same(g, w, "float32", what=f"output {i}")


@settings(max_examples=40, deadline=None)
@given(graphs(), st.integers(1, 4))
def test_reference_backend_runs_optimized_graphs_as_the_unoptimized_ones(case, batch):
    """Through the backend protocol: the reference backend given the optimized graph (the default) computes
    what it computes from the graph as built (mode="none"), outputs and variable updates alike."""
    from symkeras import runtime
    from symkeras.codegen.function import Function

    inputs, outputs = case
    rng = np.random.default_rng(batch)
    values = [rng.normal(size=(batch, 4)).astype("float32"), rng.normal(size=(4,)).astype("float32"),
              rng.normal(size=(1, 4)).astype("float32")]
    results = []
    for mode in ("fast_run", "none"):
        v = runtime.variable(np.linspace(0, 1, 4), name="v")
        update = (v, v * 0.5 + ops.reduce_sum(ops.tanh(inputs[0]), 0))
        f = Function(inputs, outputs, updates=[update], backend="reference", mode=mode)
        results.append((f(values), runtime.get_value(v)))
    (got, got_v), (want, want_v) = results
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(got_v, want_v, rtol=1e-5, atol=1e-6)
