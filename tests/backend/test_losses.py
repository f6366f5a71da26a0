"""Backend cross-entropies: Keras 2 formulas (renormalize, clip to epsilon, logits forms)."""

import numpy as np
import pytest

import symkeras.backend as K

pytestmark = pytest.mark.usefixtures("backend")

RNG = np.random.default_rng(11)
EPS = 1e-7


def ev(fn, *values):
    phs = [K.placeholder(shape=np.shape(v), dtype=np.asarray(v).dtype.name) for v in values]
    return K.function(phs, [fn(*phs)])(list(values))[0]


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def test_categorical_crossentropy_probabilities_and_logits():
    logits = RNG.normal(size=(5, 4)).astype("float32") * 3
    probs = _softmax(logits)
    target = np.eye(4, dtype="float32")[RNG.integers(0, 4, 5)]
    want = -(target * np.log(np.clip(probs / probs.sum(-1, keepdims=True), EPS, 1 - EPS))).sum(-1)
    np.testing.assert_allclose(ev(K.categorical_crossentropy, target, probs), want, rtol=1e-5)
    from_logits = ev(lambda t, o: K.categorical_crossentropy(t, o, from_logits=True), target, logits)
    np.testing.assert_allclose(from_logits, -(target * np.log(probs)).sum(-1), rtol=1e-5)
    # unnormalized "probabilities" are renormalized first
    np.testing.assert_allclose(ev(K.categorical_crossentropy, target, probs * 3), want, rtol=1e-5)
    # a zero probability is clipped, never inf
    hard = np.array([[1.0, 0.0]], dtype="float32")
    got = ev(K.categorical_crossentropy, np.array([[0.0, 1.0]], "float32"), hard)
    np.testing.assert_allclose(got, [-np.log(np.float32(EPS))], rtol=1e-4)
    # the class axis may be another one
    moved = ev(lambda t, o: K.categorical_crossentropy(t, o, axis=0), target.T, probs.T)
    np.testing.assert_allclose(moved, want, rtol=1e-5)


@pytest.mark.parametrize("target_shape", ["flat", "column"])
def test_sparse_categorical_crossentropy(target_shape):
    logits = RNG.normal(size=(6, 5)).astype("float32")
    probs = _softmax(logits)
    labels = RNG.integers(0, 5, 6)
    target = labels.astype("float32") if target_shape == "flat" else labels.reshape(6, 1).astype("float32")
    got = ev(K.sparse_categorical_crossentropy, target, probs)
    assert got.shape == (6,)
    np.testing.assert_allclose(got, -np.log(probs[np.arange(6), labels]), rtol=1e-5)
    got_logits = ev(lambda t, o: K.sparse_categorical_crossentropy(t, o, from_logits=True), target, logits)
    np.testing.assert_allclose(got_logits, -np.log(probs[np.arange(6), labels]), rtol=1e-5)


def test_sparse_categorical_crossentropy_on_sequences_and_bad_shapes():
    probs = _softmax(RNG.normal(size=(2, 3, 4)).astype("float32"))
    labels = RNG.integers(0, 4, (2, 3)).astype("int32")
    got = ev(K.sparse_categorical_crossentropy, labels, probs)
    want = -np.log(np.take_along_axis(probs, labels[..., None], -1)[..., 0])
    np.testing.assert_allclose(got, want, rtol=1e-5)
    with pytest.raises(ValueError, match="do not fit"):
        K.sparse_categorical_crossentropy(K.placeholder((2,)), K.placeholder((2, 3, 4)))


def test_binary_crossentropy():
    probs = RNG.uniform(0.01, 0.99, size=(4, 3)).astype("float32")
    target = RNG.integers(0, 2, (4, 3)).astype("float32")
    want = -(target * np.log(probs) + (1 - target) * np.log(1 - probs))
    np.testing.assert_allclose(ev(K.binary_crossentropy, target, probs), want, rtol=1e-4)
    logits = RNG.normal(size=(4, 3)).astype("float32") * 20
    x = logits.astype("float64")
    # -z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x)), written with logaddexp
    want_logits = target * np.logaddexp(0, -x) + (1 - target) * np.logaddexp(0, x)
    got = ev(lambda t, o: K.binary_crossentropy(t, o, from_logits=True), target, logits)
    assert np.all(np.isfinite(got))
    np.testing.assert_allclose(got, want_logits, rtol=1e-4, atol=1e-5)
    # probabilities of exactly 0 and 1 are clipped to [epsilon, 1 - epsilon] in float32, as Keras does
    edge = ev(K.binary_crossentropy, np.array([1.0, 0.0], "float32"), np.array([0.0, 1.0], "float32"))
    low, high = np.float32(EPS), np.float32(1 - EPS)
    np.testing.assert_allclose(edge, [np.log((1 - low) / low), np.log(high / (1 - high))], rtol=1e-5)


def test_epsilon_setting_changes_the_clip():
    K.set_epsilon(1e-3)
    got = ev(K.binary_crossentropy, np.array([1.0], "float32"), np.array([0.0], "float32"))
    np.testing.assert_allclose(got, [-np.log(1e-3)], rtol=1e-4)
