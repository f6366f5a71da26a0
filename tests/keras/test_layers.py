"""Layers against NumPy: values, output shapes, config round trips, weights."""

import numpy as np
import pytest

from symkeras import layers
from symkeras.layers import Dense, Input
from symkeras.models import Model, Sequential


def _run(layer, x):
    inputs = Input(shape=x.shape[1:])
    model = Model(inputs, layer(inputs))
    return model.predict(x)


ACTIVATION_LAYERS = [
    (layers.LeakyReLU(alpha=0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (layers.ELU(alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1))),
    (layers.ThresholdedReLU(theta=0.3), lambda x: np.where(x > 0.3, x, 0)),
    (layers.Softmax(axis=1), lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    (layers.PReLU(alpha_initializer="ones", shared_axes=[1]), lambda x: np.where(x > 0, x, x)),
    (layers.Reshape((-1, 2)), lambda x: x.reshape(len(x), -1, 2)),
    (layers.Permute((2, 1)), lambda x: x.transpose(0, 2, 1)),
    (layers.Flatten(), lambda x: x.reshape(len(x), -1)),
    (layers.Lambda(lambda t: t ** 2 + 1.0), lambda x: x ** 2 + 1),
]


@pytest.mark.parametrize("layer, reference", ACTIVATION_LAYERS, ids=lambda v: type(v).__name__)
def test_layer_values_shapes_and_config(rng, layer, reference):
    x = rng.normal(size=(4, 3, 6)).astype("float32")
    got = _run(layer, x)
    np.testing.assert_allclose(got, reference(x), rtol=1e-5, atol=1e-6)
    assert layer.output_shape == (None, *got.shape[1:])
    assert tuple(layer.compute_output_shape((None, 3, 6))) == layer.output_shape
    clone = type(layer).from_config(layer.get_config())
    assert clone.name == layer.name and type(clone) is type(layer)
    if layer.weights:
        clone.build((None, 3, 6))
        clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_run(clone, x), got, rtol=1e-6)  # the config rebuilds the same layer


def test_layer_names_weights_and_shape_checked_set_weights():
    model = Sequential([Dense(3, input_dim=2), Dense(1)])
    first, second = model.layers
    assert (first.name, second.name) == ("dense_1", "dense_2")
    assert [w.name for w in first.weights] == ["dense_1/kernel:0", "dense_1/bias:0"]
    with pytest.raises(ValueError, match=r"Layer weight shape \(2, 3\) not compatible with provided weight shape "
                                         r"\(3, 2\)"):
        first.set_weights([np.zeros((3, 2)), np.zeros(3)])
    with pytest.raises(ValueError, match="was expecting 2 weights"):
        first.set_weights([np.zeros((2, 3))])
    assert model.get_layer(index=1) is second and model.get_layer(name="dense_1", index=1) is second
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="only has 2 layers"):
        model.get_layer(index=5)


def test_shared_layer_nodes():
    shared = Dense(2, name="shared")
    a, b = Input(shape=(3,)), Input(shape=(4, 3))
    out_a, out_b = shared(a), shared(b)
    assert shared.get_output_at(0) is out_a and shared.get_output_at(1) is out_b
    assert shared.get_input_shape_at(1) == (None, 4, 3) and shared.get_output_shape_at(1) == (None, 4, 2)
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        _ = shared.output


def test_model_used_as_a_layer_shares_weights(rng):
    inner_in = Input(shape=(3,))
    inner = Model(inner_in, Dense(2, activation="relu")(inner_in))
    outer_in = Input(shape=(3,))
    outer = Model(outer_in, Dense(1)(inner(outer_in)))
    assert len(outer.weights) == 4
    x = rng.random((5, 3)).astype("float32")
    w1, b1, w2, b2 = outer.get_weights()
    np.testing.assert_allclose(outer.predict(x), np.maximum(x @ w1 + b1, 0) @ w2 + b2, rtol=1e-5)


MERGES = [
    ("add", lambda a, b: a + b),
    ("subtract", lambda a, b: a - b),
    ("multiply", lambda a, b: a * b),
    ("average", lambda a, b: (a + b) / 2),
    ("maximum", np.maximum),
    ("minimum", np.minimum),
]


@pytest.mark.parametrize("name, reference", MERGES, ids=[m[0] for m in MERGES])
def test_merge_layers_and_their_functions(rng, name, reference):
    a, b = Input(shape=(4,)), Input(shape=(4,))
    layer_class = getattr(layers, name.capitalize())
    by_layer = Model([a, b], layer_class()([a, b]))
    by_function = Model([a, b], getattr(layers, name)([a, b]))
    xa, xb = rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")
    np.testing.assert_allclose(by_layer.predict([xa, xb]), reference(xa, xb), rtol=1e-6)
    np.testing.assert_allclose(by_function.predict([xa, xb]), reference(xa, xb), rtol=1e-6)


def test_merge_broadcasts_lower_rank_inputs_after_the_batch_axis(rng):
    a, b = Input(shape=(3,)), Input(shape=(2, 3))
    model = Model([a, b], layers.add([a, b]))
    xa, xb = rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 2, 3)).astype("float32")
    np.testing.assert_allclose(model.predict([xa, xb]), xa[:, None, :] + xb, rtol=1e-6)
    with pytest.raises(ValueError, match="could not be broadcast together"):
        layers.add([Input(shape=(3,)), Input(shape=(4,))])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.subtract([a, a, a])


def test_concatenate_and_dot(rng):
    a, b = Input(shape=(2, 3)), Input(shape=(2, 5))
    joined = layers.concatenate([a, b])
    assert joined._keras_shape == (None, 2, 8)
    with pytest.raises(ValueError, match="matching shapes except for the concat axis"):
        layers.concatenate([a, b], axis=1)
    u, v = Input(shape=(4,)), Input(shape=(4,))
    model = Model([a, b, u, v], [joined, layers.dot([u, v], axes=1), layers.Dot(axes=-1, normalize=True)([u, v])])
    xa, xb = rng.normal(size=(3, 2, 3)).astype("float32"), rng.normal(size=(3, 2, 5)).astype("float32")
    xu, xv = rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(3, 4)).astype("float32")
    cat, dotted, cosine = model.predict([xa, xb, xu, xv])
    np.testing.assert_allclose(cat, np.concatenate([xa, xb], -1), rtol=1e-6)
    np.testing.assert_allclose(dotted, (xu * xv).sum(1, keepdims=True), rtol=1e-5)
    expected = (xu * xv).sum(1) / np.linalg.norm(xu, axis=1) / np.linalg.norm(xv, axis=1)
    np.testing.assert_allclose(cosine[:, 0], expected, rtol=1e-5)


def test_batch_normalization_trains_on_batch_statistics_and_infers_with_moving_ones(rng):
    bn = layers.BatchNormalization(momentum=0.9, input_shape=(3,))
    model = Sequential([bn])
    model.compile(optimizer="sgd", loss="mse")
    assert [w.name for w in bn.weights] == ["batch_normalization_1/gamma:0", "batch_normalization_1/beta:0",
                                            "batch_normalization_1/moving_mean:0",
                                            "batch_normalization_1/moving_variance:0"]
    assert len(bn.trainable_weights) == 2 and len(bn.non_trainable_weights) == 2
    x = (rng.normal(size=(8, 3)) * [1, 2, 3] + [5, -1, 0]).astype("float32")
    # training: the loss is computed on the batch-normalized output
    normed = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    loss = model.train_on_batch(x, np.zeros_like(x))
    np.testing.assert_allclose(loss, np.mean(normed ** 2), rtol=1e-4)
    # the moving averages moved 10% of the way to the batch statistics (unbiased variance)
    gamma, beta, mean, var = bn.get_weights()
    np.testing.assert_allclose(mean, 0.1 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(0) * 8 / (8 - 1.001), rtol=1e-5)
    # inference uses the moving statistics
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(model.predict(x), expected, rtol=1e-4, atol=1e-5)


def test_batch_normalization_on_images_normalizes_per_channel(rng):
    inputs = Input(shape=(4, 4, 2))
    model = Model(inputs, layers.BatchNormalization(axis=-1, center=False, scale=False)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x = rng.normal(size=(3, 4, 4, 2)).astype("float32") * 3
    model.train_on_batch(x, np.zeros_like(x))
    moving_mean, _ = model.layers[1].get_weights()
    np.testing.assert_allclose(moving_mean, 0.01 * x.mean(axis=(0, 1, 2)), rtol=1e-4, atol=1e-7)


def test_functional_and_sequential_configs_rebuild_the_same_models(rng):
    from symkeras.layers import deserialize

    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    shared = Dense(4, activation="relu", name="shared")
    merged = layers.concatenate([shared(a), Dense(4, name="side")(b)])
    out = Dense(1, name="out")(layers.add([merged, merged]))
    model = Model([a, b], [out, shared(a)], name="two_heads")
    config = model.get_config()
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["out", 0, 0], ["shared", 1, 0]]
    clone = Model.from_config(config)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    clone.set_weights(model.get_weights())
    xa, xb = rng.random((4, 3)).astype("float32"), rng.random((4, 2)).astype("float32")
    for got, want in zip(clone.predict([xa, xb]), model.predict([xa, xb])):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    sequential = Sequential([Dense(3, input_dim=2, activation="tanh"), layers.Dropout(0.3), Dense(1)])
    rebuilt = deserialize({"class_name": "Sequential", "config": sequential.get_config()})
    rebuilt.set_weights(sequential.get_weights())
    x = rng.random((5, 2)).astype("float32")
    np.testing.assert_allclose(rebuilt.predict(x), sequential.predict(x), rtol=1e-6)
    assert [type(layer).__name__ for layer in rebuilt.layers] == ["Dense", "Dropout", "Dense"]
