"""Recurrent layers against Keras 2 (tf-keras 2.21): tests/fixtures/keras2_recurrent.npz, made by
tests/fixtures/make_keras2_recurrent_fixtures.py from the cases in keras2_recurrent_cases.py.  Forward values
(every output, states included), the gradients with respect to the input and every weight, masks, backwards
runs, both GRU variants, wrappers, and a stateful layer over two batches with and without reset_states."""

import os

import numpy as np
import pytest
from fixtures.keras2_recurrent_cases import CASES, STATEFUL

import symkeras.backend as K
from symkeras import layers
from symkeras.layers import Input
from symkeras.models import Model, Sequential

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_recurrent.npz"))


def _stored(prefix: str) -> list:
    count = len([k for k in FIXTURES.files if k.startswith(prefix) and k[len(prefix):].isdigit()])
    return [FIXTURES[f"{prefix}{i}"] for i in range(count)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras2(name, backend):
    build, _, masked = CASES[name]
    x = FIXTURES[f"{name}/input"]
    inputs = Input(batch_shape=x.shape)
    layer = build(layers)
    hidden = layers.Masking(0.0)(inputs) if masked else inputs
    outputs = layer(hidden)
    outputs = outputs if isinstance(outputs, list) else [outputs]
    layer.set_weights(_stored(f"{name}/weight"))
    expected = _stored(f"{name}/output")
    assert len(outputs) == len(expected)
    cost = sum(K.sum(o * K.constant(p)) for o, p in zip(outputs, _stored(f"{name}/projection")))
    grads = K.gradients(cost, [inputs] + layer.trainable_weights)
    values = K.function([inputs], outputs + grads)([x])
    for k, (got, want) in enumerate(zip(values, expected)):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5, err_msg=f"output {k}")
    want_grads = _stored(f"{name}/grad")
    assert len(want_grads) == len(grads)
    for i, (got, want) in enumerate(zip(values[len(outputs):], want_grads)):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-5, err_msg=f"gradient {i}")


def test_stateful_layer_carries_its_states_between_batches_as_keras2(backend):
    build, input_shape = STATEFUL
    model = Sequential([layers.InputLayer(batch_input_shape=input_shape), build(layers)])
    model.set_weights(_stored("stateful/weight"))
    first, second = FIXTURES["stateful/input0"], FIXTURES["stateful/input1"]
    np.testing.assert_allclose(model.predict(first, batch_size=2), FIXTURES["stateful/output0"], rtol=2e-5,
                               atol=2e-6)
    np.testing.assert_allclose(model.predict(second, batch_size=2), FIXTURES["stateful/output1"], rtol=2e-5,
                               atol=2e-6)
    model.reset_states()
    np.testing.assert_allclose(model.predict(second, batch_size=2), FIXTURES["stateful/output_after_reset"],
                               rtol=2e-5, atol=2e-6)


def test_functional_use_matches_too(backend):
    name = "lstm_sequences_state"
    build, _, _ = CASES[name]
    x = FIXTURES[f"{name}/input"]
    inputs = Input(shape=x.shape[1:])
    layer = build(layers)
    model = Model(inputs, layer(inputs))
    layer.set_weights(_stored(f"{name}/weight"))
    for got, want in zip(model.predict(x), _stored(f"{name}/output")):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
