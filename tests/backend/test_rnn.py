"""K.rnn: Keras 2's contract (outputs, last output, states; go_backwards, masks, constants, unroll) as one Loop
node, checked against NumPy; the loop and the unrolled graph give the same values and gradients."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.graph import ops

B, T, D, U = 3, 4, 2, 5
MASK = np.array([[1, 1, 0, 1], [1, 0, 0, 0], [0, 1, 1, 1]], bool)


@pytest.fixture
def weights(rng):
    return rng.normal(size=(D, U)).astype("float32"), (rng.normal(size=(U, U)) * 0.5).astype("float32")


def numpy_rnn(x, h0, w, r, mask, backwards, scale=1.0):
    """Keras 2's semantics: a masked step keeps the state and repeats the previous output (zeros at first)."""
    h, previous, outputs = h0, np.zeros_like(h0), []
    for t in (range(T - 1, -1, -1) if backwards else range(T)):
        new = np.tanh(x[:, t] @ w + h @ r) * scale
        out = new
        if mask is not None:
            m = mask[:, t][:, None]
            out, new = np.where(m, new, previous), np.where(m, new, h)
        previous, h = out, new
        outputs.append(out)
    return outputs[-1], np.stack(outputs, 1), h


def run_rnn(weights, x, h0, mask, backwards, unroll, with_grads=False):
    W, R = (K.variable(w) for w in weights)
    scale = K.variable(np.float32(1.0))

    def step(x_t, states):
        h = K.tanh(K.dot(x_t, W) + K.dot(states[0], R)) * states[1]  # states[1]: the constant
        return h, [h]

    X, H, M = K.placeholder((None, T, D)), K.placeholder((None, U)), K.placeholder((None, T), dtype="bool")
    last, outputs, states = K.rnn(step, X, [H], go_backwards=backwards, mask=None if mask is None else M,
                                  constants=[scale], unroll=unroll)
    wanted = [last, outputs, states[0]]
    if with_grads:
        wanted += K.gradients(K.sum(outputs * outputs) + K.sum(last) + K.sum(states[0]), [W, R, X, H])
    feeds, values = [X, H], [x, h0]
    if mask is not None:
        feeds, values = feeds + [M], values + [mask]
    return K.function(feeds, wanted)(values)


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("backwards", [False, True])
@pytest.mark.parametrize("unroll", [False, True])
def test_values_match_keras_semantics(backend, rng, weights, masked, backwards, unroll):
    x, h0 = rng.normal(size=(B, T, D)).astype("float32"), rng.normal(size=(B, U)).astype("float32")
    mask = MASK if masked else None
    got = run_rnn(weights, x, h0, mask, backwards, unroll)
    for value, expected in zip(got, numpy_rnn(x, h0, *weights, mask, backwards)):
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)
    assert [g.shape for g in got] == [(B, U), (B, T, U), (B, U)]


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("backwards", [False, True])
def test_the_loop_and_the_unrolled_graph_have_the_same_gradients(backend, rng, weights, masked, backwards):
    x, h0 = rng.normal(size=(B, T, D)).astype("float32"), rng.normal(size=(B, U)).astype("float32")
    mask = MASK if masked else None
    looped = run_rnn(weights, x, h0, mask, backwards, unroll=False, with_grads=True)
    unrolled = run_rnn(weights, x, h0, mask, backwards, unroll=True, with_grads=True)
    for a, b in zip(looped, unrolled):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-5)


def test_the_loop_is_one_node():
    X, H = K.placeholder((None, T, D)), K.placeholder((None, U))
    _, outputs, _ = K.rnn(lambda x, s: (x[:, :1] + s[0], [x[:, :1] + s[0]]), X, [K.zeros_like(H)])
    from symkeras.graph.fgraph import Graph

    loops = [n for n in Graph([X, H], [outputs]).nodes if isinstance(n.op, ops.Loop)]
    assert len(loops) == 1


def test_bad_arguments_raise_clear_errors():
    X, H = K.placeholder((None, T, D)), K.placeholder((None, U))

    def step(x, s):
        return s[0], [s[0]]

    with pytest.raises(ValueError, match="at least 3-D"):
        K.rnn(step, K.placeholder((None, D)), [H])
    with pytest.raises(ValueError, match="fixed number of time steps"):
        K.rnn(step, K.placeholder((None, None, D)), [H], unroll=True)
    with pytest.raises(ValueError, match="a mask needs at least one state"):
        K.rnn(lambda x, s: (x, []), X, [], mask=K.placeholder((None, T)))
    with pytest.raises(ValueError, match=r"the mask should be \(samples, time\)"):
        K.rnn(step, X, [H], mask=K.placeholder((None, T + 1)))
    with pytest.raises(ValueError, match="returned 2 states for 1 initial states"):
        K.rnn(lambda x, s: (s[0], [s[0], s[0]]), X, [H])
