"""The layer contract (in the spirit of Keras 2's layer_test), run over every layer symkeras exports.

For each layer: the output shape equals compute_output_shape, weights round trip through get/set_weights,
the config rebuilds an equal layer, the layer works in Sequential and functional models alike, and its
gradients (w.r.t. inputs and weights, float64) match finite differences.
"""

import inspect

import numpy as np
import pytest

import symkeras.backend as K
from symkeras import layers
from symkeras.engine.base_layer import Layer
from symkeras.graph.fgraph import clone_tensors
from symkeras.layers import Input
from symkeras.models import Model, Sequential
from symkeras.testing.gradcheck import verify_grad


class Fresh:
    """A constructor argument made anew for each layer built (a wrapped layer or a cell: in the floatx of
    the test, never shared between the layers a test builds)."""

    def __init__(self, make):
        self.make = make

    def __repr__(self):
        return "fresh"


def _layer(cls, kwargs, **extra):
    return cls(**{k: v.make() if isinstance(v, Fresh) else v for k, v in kwargs.items()}, **extra)


# (layer class, constructor arguments, input shapes without the batch axis, call arguments for the gradient check)
CASES = [
    (layers.Dense, {"units": 3, "activation": "tanh"}, [(4,)], {}),
    (layers.Dense, {"units": 2}, [(3, 4)], {}),
    (layers.Activation, {"activation": "softplus"}, [(5,)], {}),
    (layers.Dropout, {"rate": 0.4, "noise_shape": (None, 1)}, [(5,)], {}),
    (layers.Flatten, {}, [(2, 3)], {}),
    (layers.Reshape, {"target_shape": (3, -1)}, [(6,)], {}),
    (layers.Permute, {"dims": (2, 1)}, [(2, 3)], {}),
    (layers.RepeatVector, {"n": 3}, [(4,)], {}),
    (layers.Lambda, {"function": lambda x: K.sin(x) * 2.0, "output_shape": (4,)}, [(4,)], {}),
    (layers.LeakyReLU, {"alpha": 0.1}, [(6,)], {}),
    (layers.PReLU, {"alpha_initializer": "random_uniform"}, [(2, 3)], {}),
    (layers.ELU, {"alpha": 0.7}, [(6,)], {}),
    (layers.ThresholdedReLU, {"theta": 0.2}, [(6,)], {}),
    (layers.Softmax, {"axis": 1}, [(3, 2)], {}),
    (layers.BatchNormalization, {"momentum": 0.8, "gamma_initializer": "random_uniform"}, [(4,)],
     {"training": True}),
    (layers.BatchNormalization, {"axis": 1}, [(3, 2)], {}),
    (layers.Add, {}, [(3,), (3,)], {}),
    (layers.Subtract, {}, [(3,), (3,)], {}),
    (layers.Multiply, {}, [(3,), (3,)], {}),
    (layers.Average, {}, [(3,), (3,), (3,)], {}),
    (layers.Maximum, {}, [(3,), (3,)], {}),
    (layers.Minimum, {}, [(3,), (3,)], {}),
    (layers.Concatenate, {"axis": -1}, [(2, 3), (2, 1)], {}),
    (layers.Dot, {"axes": 1, "normalize": True}, [(4,), (4,)], {}),
    (layers.Conv1D, {"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, [(6, 2)], {}),
    (layers.Conv1D, {"filters": 2, "kernel_size": 2, "strides": 2}, [(5, 2)], {}),
    (layers.Conv2D, {"filters": 2, "kernel_size": (3, 2), "padding": "same", "strides": (2, 1),
                     "activation": "tanh"}, [(5, 4, 2)], {}),
    (layers.Conv2D, {"filters": 2, "kernel_size": 2, "data_format": "channels_first", "dilation_rate": 2},
     [(2, 5, 5)], {}),
    (layers.Conv3D, {"filters": 2, "kernel_size": 2, "padding": "same"}, [(3, 2, 3, 1)], {}),
    (layers.SeparableConv1D, {"filters": 2, "kernel_size": 2, "depth_multiplier": 2}, [(5, 2)], {}),
    (layers.SeparableConv2D, {"filters": 2, "kernel_size": 2, "padding": "same"}, [(4, 4, 2)], {}),
    (layers.DepthwiseConv2D, {"kernel_size": 2, "depth_multiplier": 2, "data_format": "channels_first"},
     [(2, 4, 3)], {}),
    (layers.Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, [(3, 3, 2)], {}),
    (layers.Conv2DTranspose, {"filters": 1, "kernel_size": 2, "strides": 2, "output_padding": 1,
                              "data_format": "channels_first"}, [(2, 2, 3)], {}),
    (layers.Conv3DTranspose, {"filters": 1, "kernel_size": 2, "strides": (1, 2, 1)}, [(2, 2, 2, 1)], {}),
    (layers.MaxPooling1D, {"pool_size": 2}, [(5, 2)], {}),
    (layers.AveragePooling1D, {"pool_size": 3, "strides": 2, "padding": "same"}, [(5, 2)], {}),
    (layers.MaxPooling2D, {"pool_size": (2, 2), "padding": "same"}, [(5, 4, 2)], {}),
    (layers.AveragePooling2D, {"pool_size": 2, "data_format": "channels_first"}, [(2, 4, 4)], {}),
    (layers.MaxPooling3D, {"pool_size": 2}, [(2, 4, 2, 1)], {}),
    (layers.AveragePooling3D, {"pool_size": (1, 2, 2), "padding": "same"}, [(2, 3, 3, 1)], {}),
    (layers.GlobalMaxPooling1D, {}, [(4, 3)], {}),
    (layers.GlobalAveragePooling1D, {}, [(4, 3)], {}),
    (layers.GlobalMaxPooling2D, {"data_format": "channels_first"}, [(2, 3, 3)], {}),
    (layers.GlobalAveragePooling2D, {}, [(3, 3, 2)], {}),
    (layers.GlobalMaxPooling3D, {}, [(2, 2, 2, 2)], {}),
    (layers.GlobalAveragePooling3D, {}, [(2, 2, 2, 2)], {}),
    (layers.ZeroPadding1D, {"padding": (1, 2)}, [(3, 2)], {}),
    (layers.ZeroPadding2D, {"padding": ((1, 0), (0, 2))}, [(3, 2, 2)], {}),
    (layers.ZeroPadding3D, {"padding": 1, "data_format": "channels_first"}, [(1, 2, 2, 2)], {}),
    (layers.Cropping1D, {"cropping": (1, 2)}, [(5, 2)], {}),
    (layers.Cropping2D, {"cropping": ((1, 0), (0, 1))}, [(3, 3, 2)], {}),
    (layers.Cropping3D, {"cropping": 1}, [(3, 3, 4, 1)], {}),
    (layers.UpSampling1D, {"size": 3}, [(2, 2)], {}),
    (layers.UpSampling2D, {"size": (2, 1), "data_format": "channels_first"}, [(2, 2, 3)], {}),
    (layers.UpSampling3D, {"size": 2}, [(1, 2, 2, 1)], {}),
    (layers.Embedding, {"input_dim": 7, "output_dim": 3, "input_length": 4}, [(4,)], {}),
    (layers.SpatialDropout1D, {"rate": 0.3}, [(3, 4)], {}),
    (layers.SpatialDropout2D, {"rate": 0.3, "data_format": "channels_first"}, [(2, 3, 3)], {}),
    (layers.SpatialDropout3D, {"rate": 0.3}, [(2, 2, 2, 2)], {}),
    (layers.GaussianNoise, {"stddev": 0.5}, [(4,)], {}),
    (layers.GaussianDropout, {"rate": 0.3}, [(4,)], {}),
    (layers.AlphaDropout, {"rate": 0.3}, [(4,)], {}),
    (layers.ActivityRegularization, {"l1": 0.1, "l2": 0.2}, [(4,)], {}),
    (layers.ReLU, {"max_value": 0.8, "negative_slope": 0.1, "threshold": 0.2}, [(5,)], {}),
    (layers.SimpleRNN, {"units": 3}, [(4, 2)], {}),
    (layers.SimpleRNN, {"units": 2, "return_sequences": True, "go_backwards": True, "activation": "sigmoid"},
     [(3, 2)], {}),
    (layers.GRU, {"units": 2}, [(3, 2)], {}),
    (layers.GRU, {"units": 2, "reset_after": False, "return_sequences": True}, [(3, 2)], {}),
    (layers.LSTM, {"units": 2}, [(3, 2)], {}),
    (layers.LSTM, {"units": 2, "return_sequences": True, "unroll": True, "go_backwards": True}, [(3, 2)], {}),
    (layers.LSTM, {"units": 2, "dropout": 0.3, "recurrent_dropout": 0.2, "unit_forget_bias": False}, [(3, 2)], {}),
    (layers.RNN, {"cell": Fresh(lambda: layers.LSTMCell(2))}, [(3, 2)], {}),
    (layers.RNN, {"cell": Fresh(lambda: [layers.SimpleRNNCell(2), layers.GRUCell(3)]), "return_sequences": True},
     [(3, 2)], {}),
    (layers.Masking, {"mask_value": 0.0}, [(3, 2)], {}),
    (layers.TimeDistributed, {"layer": Fresh(lambda: layers.Dense(2, activation="tanh"))}, [(3, 2)], {}),
    (layers.Bidirectional, {"layer": Fresh(lambda: layers.GRU(2, return_sequences=True))}, [(3, 2)], {}),
    (layers.Bidirectional, {"layer": Fresh(lambda: layers.SimpleRNN(2)), "merge_mode": "mul"}, [(3, 2)], {}),
]

#: cells are covered through the RNN cases that run them
CELLS = {layers.SimpleRNNCell, layers.GRUCell, layers.LSTMCell, layers.StackedRNNCells}


def _data(shapes, rng, batch=3):
    # values kept away from kinks (relu-like thresholds at 0 and 0.2) for the finite differences
    return [rng.choice([-1, 1], size=(batch, *s)) * rng.uniform(0.3, 1.0, size=(batch, *s)) for s in shapes]


def _call(layer, tensors):
    return layer(tensors if len(tensors) > 1 else tensors[0])


def _case_id(case):
    return f"{case[0].__name__}-{len(case[2])}in-" + "-".join(map(str, case[1].values()))[:30]


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_layer_contract(case, rng):
    cls, kwargs, shapes, _ = case
    data = [d.astype("float32") for d in _data(shapes, rng)]
    layer = _layer(cls, kwargs)
    inputs = [Input(shape=s) for s in shapes]
    output = _call(layer, inputs)
    batch_shapes = [(None, *s) for s in shapes]
    declared = layer.compute_output_shape(batch_shapes if len(shapes) > 1 else batch_shapes[0])
    assert tuple(declared) == K.int_shape(output) == layer.output_shape
    functional = Model(inputs, output)
    expected = functional.predict(data if len(data) > 1 else data[0])
    assert expected.shape == (3, *tuple(declared)[1:])

    weights = layer.get_weights()
    layer.set_weights(weights)
    for a, b in zip(weights, layer.get_weights()):
        np.testing.assert_array_equal(a, b)

    config = layer.get_config()
    rebuilt = cls.from_config(config)
    _call(rebuilt, [Input(shape=s) for s in shapes])
    rebuilt.set_weights(weights)
    assert type(rebuilt) is cls and rebuilt.name == layer.name
    if cls is not layers.Lambda:  # a lambda's code round trips, not byte for byte
        assert rebuilt.get_config() == config

    if len(shapes) == 1:
        sequential = Sequential([_layer(cls, kwargs, input_shape=shapes[0])])
        sequential.set_weights(weights)
        np.testing.assert_allclose(sequential.predict(data[0]), expected, rtol=1e-5, atol=1e-6)
    rebuilt_model = Model(rebuilt._inbound_nodes[0].input_tensors, rebuilt._inbound_nodes[0].output_tensors)
    np.testing.assert_allclose(rebuilt_model.predict(data if len(data) > 1 else data[0]), expected, rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_layer_gradients_match_finite_differences(case, rng):
    cls, kwargs, shapes, call_kwargs = case
    K.set_floatx("float64")
    layer = _layer(cls, kwargs)
    inputs = [Input(shape=s) for s in shapes]
    output = layer(inputs if len(inputs) > 1 else inputs[0], **call_kwargs)
    weights = layer.trainable_weights
    points = _data(shapes, rng) + [K.get_value(w) for w in weights]

    def rebuilt(*tensors):
        replace = dict(zip(inputs + weights, tensors))
        return clone_tensors([output], replace)[output]

    verify_grad(rebuilt, points, rng=np.random.default_rng(1))


def test_every_exported_layer_has_a_contract_case():
    exported = {obj for obj in vars(layers).values()
                if inspect.isclass(obj) and issubclass(obj, Layer) and obj not in (Layer, layers.InputLayer,
                                                                                    layers.Wrapper)}
    covered = {case[0] for case in CASES}
    for case in CASES:
        cell = case[1].get("cell")
        if cell is not None:
            cell = cell.make()
            covered |= {type(c) for c in (cell if isinstance(cell, list) else [cell])}
            covered |= {layers.StackedRNNCells} if isinstance(cell, list) else set()
    assert CELLS <= covered
    missing = sorted(c.__name__ for c in exported - covered)
    assert not missing, f"layers without a contract case: {missing}"
