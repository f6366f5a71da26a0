"""Initializers, activations, the trainable flag and the first layer's shape arguments."""

import numpy as np
import pytest

from symkeras import activations, initializers
from symkeras.layers import Activation, Dense, Input, InputLayer
from symkeras.models import Model, Sequential


@pytest.mark.parametrize("name, check", [
    ("zeros", lambda w: np.all(w == 0)),
    ("ones", lambda w: np.all(w == 1)),
    ("random_normal", lambda w: abs(w.std() - 0.05) < 0.005),
    ("random_uniform", lambda w: w.min() >= -0.05 and w.max() <= 0.05 and w.max() > 0.04),
    ("truncated_normal", lambda w: np.abs(w).max() <= 0.1),
    ("glorot_uniform", lambda w: np.abs(w).max() <= np.sqrt(6 / (200 + 300)) and np.abs(w).max() > 0.1),
    ("glorot_normal", lambda w: abs(w.std() - np.sqrt(2 / 500)) < 0.006 and np.abs(w).max() <= 2 * 0.0725),
    ("he_uniform", lambda w: np.abs(w).max() <= np.sqrt(6 / 200)),
    ("he_normal", lambda w: abs(w.std() - np.sqrt(2 / 200)) < 0.01),
    ("lecun_uniform", lambda w: np.abs(w).max() <= np.sqrt(3 / 200)),
    ("lecun_normal", lambda w: abs(w.std() - np.sqrt(1 / 200)) < 0.006),
    ("variance_scaling", lambda w: abs(w.std() - np.sqrt(1 / 200)) < 0.006 and np.abs(w).max() <= 2 * 0.0804),
    ("orthogonal", lambda w: np.allclose(w.T @ w, np.eye(300), atol=1e-4) if w.shape[0] >= w.shape[1]
        else np.allclose(w @ w.T, np.eye(200), atol=1e-4)),
])
def test_initializers_by_name_and_object(name, check):
    np.random.seed(0)
    by_name = initializers.get(name)((200, 300))
    assert by_name.dtype == np.float32 and by_name.shape == (200, 300)
    assert check(by_name)
    obj = initializers.get(initializers.serialize(initializers.get(name)))
    assert check(obj((200, 300)))


def test_constant_identity_and_seeded_initializers():
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)), np.full((2, 2), 2.5, "float32"))
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)), 3 * np.eye(2, 3, dtype="float32"))
    with pytest.raises(ValueError, match="only be used for 2D matrices"):
        initializers.Identity()((2, 2, 2))
    a, b = initializers.glorot_uniform(seed=5)((3, 4)), initializers.glorot_uniform(seed=5)((3, 4))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="Unknown initializer: glorious"):
        Dense(2, kernel_initializer="glorious")


@pytest.mark.parametrize("name, reference", [
    ("linear", lambda x: x),
    ("relu", lambda x: np.maximum(x, 0)),
    ("elu", lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    ("selu", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1))),
    ("softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (1 + np.abs(x))),
    ("tanh", np.tanh),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("hard_sigmoid", lambda x: np.clip(0.2 * x + 0.5, 0, 1)),
    ("exponential", np.exp),
])
def test_activations_by_name(rng, name, reference):
    x = rng.normal(size=(4, 3, 5)).astype("float32") * 2
    model = Sequential([Activation(name, input_shape=(3, 5))])
    np.testing.assert_allclose(model.predict(x), reference(x), rtol=1e-5, atol=1e-6)
    assert activations.get(name).__name__ == name


def test_activation_from_any_callable_and_softmax_needs_2d(rng):
    model = Sequential([Activation(lambda t: t * 3.0, input_shape=(2,))])
    np.testing.assert_allclose(model.predict(np.ones((2, 2), "float32")), 3.0)
    with pytest.raises(ValueError, match="Cannot apply softmax to a tensor that is 1D"):
        activations.softmax(Input(batch_shape=(3,)))


def test_frozen_layers_keep_their_weights_and_count_as_non_trainable(rng, capsys):
    frozen = Dense(3, input_dim=2, trainable=False)
    model = Sequential([frozen, Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    before = frozen.get_weights()
    model.fit(rng.random((8, 2)), rng.random((8, 1)), epochs=2, verbose=0)
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    model.summary()
    assert "Trainable params: 4\nNon-trainable params: 9" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, batch_shape", [
    ({"input_shape": (5,)}, (None, 5)),
    ({"input_dim": 5}, (None, 5)),
    ({"batch_input_shape": (7, 5)}, (7, 5)),
    ({"input_shape": (5,), "batch_size": 7}, (7, 5)),
    ({"input_dim": 5, "input_length": 3}, (None, 3, 5)),
])
def test_first_layer_shape_arguments(kwargs, batch_shape):
    model = Sequential([Dense(2, **kwargs)])
    assert model.input_shape == batch_shape
    assert model.output_shape == (*batch_shape[:-1], 2)


def test_input_layer_added_first_and_model_inputs_outputs():
    model = Sequential()
    model.add(InputLayer(input_shape=(4,), name="features"))
    model.add(Dense(2))
    assert model.input.name == "features" and model.input_shape == (None, 4)
    assert model.inputs == [model.input] and model.outputs == [model.output]
    x = Input(shape=(4,), batch_shape=None)
    functional = Model(x, model(x))
    assert functional.output_shape == (None, 2)


def test_norm_constraints_match_numpy(rng):
    from symkeras import backend as K
    from symkeras import constraints

    w = rng.normal(size=(4, 3)).astype("float32") * 3
    variable = K.variable(w)
    norms = np.linalg.norm(w, axis=0, keepdims=True)
    cases = {
        "unit_norm": w / (1e-7 + norms),
        "max_norm": w * np.clip(norms, 0, 2) / (1e-7 + norms),
        "non_neg": w * (w >= 0),
        "min_max_norm": w * (0.5 * np.clip(norms, 1.0, 2.0) + 0.5 * norms) / (1e-7 + norms),
    }
    objects = {"unit_norm": constraints.UnitNorm(), "max_norm": constraints.MaxNorm(2),
               "non_neg": constraints.NonNeg(), "min_max_norm": constraints.MinMaxNorm(1.0, 2.0, rate=0.5)}
    for name, expected in cases.items():
        np.testing.assert_allclose(K.eval(objects[name](variable)), expected, rtol=1e-5, err_msg=name)
        assert type(constraints.get(name)) is type(objects[name])


def test_lambda_with_arguments_and_a_callable_output_shape(rng):
    from symkeras import backend as K
    from symkeras.layers import Lambda

    def scaled_sum(x, scale):
        return K.sum(x, axis=-1, keepdims=True) * scale

    layer = Lambda(scaled_sum, output_shape=lambda shape: (shape[0], 1), arguments={"scale": 3.0})
    model = Sequential([Dense(4, input_dim=2), layer])
    x = rng.random((5, 2)).astype("float32")
    w, b = model.layers[0].get_weights()
    np.testing.assert_allclose(model.predict(x), 3 * (x @ w + b).sum(1, keepdims=True), rtol=1e-5)
    assert layer.output_shape == (None, 1)


def test_dropout_seed_and_noise_shape():
    from symkeras import backend as K
    from symkeras.layers import Dropout

    x = Input(shape=(4, 6))
    drop = Dropout(0.5, noise_shape=(None, 1, 6), seed=3)
    train = K.function([x], [drop(x, training=True)])
    (out,) = train([np.ones((2, 4, 6), "float32")])
    assert set(np.unique(out)) <= {0.0, 2.0}
    np.testing.assert_array_equal(out, out[:, :1, :].repeat(4, axis=1))  # one mask per sample and feature
    again = K.function([x], [Dropout(0.5, noise_shape=(None, 1, 6), seed=3)(x, training=True)])
    np.testing.assert_array_equal(again([np.ones((2, 4, 6), "float32")])[0], out)
