"""Convolution-family layers against Keras 2 (tf-keras 2.21): tests/fixtures/keras2_layers.npz, made by
tests/fixtures/make_keras2_layer_fixtures.py from the cases in keras2_layer_cases.py.  Forward values and the
gradients with respect to the input and every weight, on both backends."""

import os

import numpy as np
import pytest
from fixtures.keras2_layer_cases import CASES, FLATTEN_CASE

import symkeras.backend as K
from symkeras import layers
from symkeras.layers import Input

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_layers.npz"))
ALL = dict(CASES, flatten_channels_first=FLATTEN_CASE)


def _run(name, class_name, arguments):
    x = FIXTURES[f"{name}/input"]
    weights = [FIXTURES[f"{name}/weight{i}"] for i in range(len([k for k in FIXTURES.files
                                                                  if k.startswith(f"{name}/weight")]))]
    inputs = Input(batch_shape=x.shape, dtype="int32" if x.dtype.kind == "i" else "float32")
    layer = getattr(layers, class_name)(**arguments)
    output = layer(inputs)
    if name == "flatten_channels_first":
        output = layers.Flatten(data_format="channels_first")(output)
    layer.set_weights(weights)
    projection = K.constant(FIXTURES[f"{name}/projection"])
    sources = ([] if x.dtype.kind == "i" else [inputs]) + layer.trainable_weights
    grads = K.gradients(K.sum(output * projection), sources)
    return K.function([inputs], [output] + grads)([x])


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("name", sorted(ALL))
def test_layer_matches_keras2(name, backend):
    class_name, arguments, _ = ALL[name]
    output, *grads = _run(name, class_name, arguments)
    np.testing.assert_allclose(output, FIXTURES[f"{name}/output"], rtol=2e-5, atol=2e-5)
    expected = [FIXTURES[f"{name}/grad{i}"] for i in range(len(grads))]
    assert len(expected) == len([k for k in FIXTURES.files if k.startswith(f"{name}/grad")])
    for i, (got, want) in enumerate(zip(grads, expected)):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5, err_msg=f"gradient {i}")
