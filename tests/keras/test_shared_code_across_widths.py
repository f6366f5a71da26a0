"""Layers of different widths share their compiled code (issue 13, defect 9: memory per distinct model).

Numba never frees compiled code, so a loop over models of different widths (a hyperparameter search) grew
the process by every model's kernels: 12 MB and ~5 s of compiling per LSTM width, 5 MB per Conv2D
filter count, 8 MB per Embedding width, 5.7 MB per BatchNormalization width; a sequence length of its own
compiled its loops again.  Kernels and steps now read widths from their arrays (Emitter.shared_dim, slices as
fractions of a run-time size, loops.SHARED_WIDTH), so two such models compile one set of modules; each
still trains to the values the reference evaluator computes.
"""

import numpy as np
import pytest

from symkeras import config
from symkeras.codegen.cache import source_key
from symkeras.layers import (
    GRU,
    LSTM,
    Activation,
    BatchNormalization,
    Conv2D,
    Dense,
    Embedding,
    Flatten,
    MaxPooling2D,
    SimpleRNN,
)
from symkeras.models import Sequential


def _normal(shape):
    return lambda rng: rng.normal(size=shape).astype("float32")


def _recurrent(layer):
    def build(width):
        return Sequential([layer(width, input_shape=(5, 3)), Dense(2)]), _normal((4, 5, 3))
    return build


def _sequence_length(length):
    return Sequential([LSTM(16, input_shape=(length, 3)), Dense(2)]), _normal((4, length, 3))


def _embedding(width):
    return Sequential([Embedding(50, width, input_length=6), LSTM(16), Dense(2)]), \
        lambda rng: rng.integers(0, 50, size=(4, 6)).astype("int32")


def _batch_norm(width):
    return Sequential([Dense(width, input_shape=(8,)), BatchNormalization(), Activation("relu"), Dense(2)]), \
        _normal((4, 8))


def _conv(width):
    return Sequential([Conv2D(width, 3, activation="relu", input_shape=(8, 8, 2)), MaxPooling2D(), Flatten(),
                       Dense(2)]), _normal((4, 8, 8, 2))


def _trained(build, width, backend):
    config.set_backend(backend)
    try:
        model, data = build(width)
        model.compile("sgd", "mse")
        rng = np.random.default_rng(width)
        x = data(rng)
        values = [rng.normal(scale=0.3, size=w.shape).astype("float32") for w in model.get_weights()]
        # (a variance must be positive: the values then stay finite)
        model.set_weights([np.abs(v) + 0.5 if "variance" in w.name else v for v, w in zip(values, model.weights)])
        model.train_on_batch(x, np.ones((len(x), 2), "float32"))
        return model, model.predict(x)
    finally:
        config.set_backend("numba")


@pytest.mark.parametrize("build", [_recurrent(LSTM), _recurrent(GRU), _recurrent(SimpleRNN), _sequence_length,
                                   _embedding, _batch_norm, _conv],
                         ids=["LSTM", "GRU", "SimpleRNN", "LSTM sequence length", "Embedding+LSTM",
                              "BatchNormalization", "Conv2D+MaxPooling2D"])
def test_two_widths_compile_one_set_of_modules_and_train_to_their_own_values(build):
    compiled = []
    for width in (16, 20):
        model, predicted = _trained(build, width, "numba")
        reference, wanted = _trained(build, width, "reference")
        for got, want in zip(model.get_weights(), reference.get_weights()):
            np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)
        assert np.isfinite(predicted).all()
        np.testing.assert_allclose(predicted, wanted, rtol=2e-5, atol=2e-6)
        # (a module's key leaves its comments out: they name the layer and its shapes)
        compiled.append([(f.program.path, sorted(source_key(k) for k in f.program.layout.kernel_sources))
                         for f in (model.train_function, model.predict_function)])
    assert compiled[0] == compiled[1]
