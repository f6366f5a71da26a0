"""clone_model, layers.serialize, CustomObjectScope, serialize/deserialize_keras_object, get_source_inputs."""

import numpy as np
import pytest

import symkeras as keras
from symkeras import layers
from symkeras.layers import Dense, Input, concatenate
from symkeras.models import Model, Sequential, clone_model
from symkeras.utils import (
    CustomObjectScope,
    deserialize_keras_object,
    get_source_inputs,
    serialize_keras_object,
)


def _functional():
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    shared = Dense(4, activation="tanh", name="shared")
    joined = concatenate([shared(a), shared(layers.Dense(3, name="lift")(b))])
    return Model([a, b], Dense(1, name="out")(joined))


def test_clone_model_rebuilds_the_architecture_with_new_weights():
    np.random.seed(0)
    model = _functional()
    clone = clone_model(model)
    assert [type(x).__name__ for x in clone.layers] == [type(x).__name__ for x in model.layers]
    assert len(clone.weights) == len(model.weights) == 6  # (the shared layer once)
    assert not np.allclose(clone.get_weights()[0], model.get_weights()[0])
    clone.set_weights(model.get_weights())
    feed = [np.ones((2, 3), "float32"), np.ones((2, 2), "float32")]
    np.testing.assert_allclose(clone.predict(feed), model.predict(feed), rtol=1e-6)
    assert clone.get_layer("shared") is not model.get_layer("shared")


def test_clone_model_of_a_sequential_on_new_inputs_and_with_a_clone_function():
    model = Sequential([Dense(3, input_dim=2, name="d1"), Dense(1, name="d2")])
    plain = clone_model(model)
    assert isinstance(plain, Sequential) and [x.name for x in plain.layers] == ["d1", "d2"]
    x = Input(shape=(2,))
    on_x = clone_model(model, input_tensors=x)
    assert on_x.inputs[0] is x and on_x.output_shape == (None, 1)
    renamed = clone_model(model, clone_function=lambda layer: layer.__class__.from_config(
        {**layer.get_config(), "name": layer.name + "_copy"}))
    assert [x.name for x in renamed.layers] == ["d1_copy", "d2_copy"]
    with pytest.raises(ValueError, match="the model has 2 inputs but 1 input tensors were given"):
        clone_model(_functional(), input_tensors=[Input(shape=(3,))])


def test_layers_serialize_round_trips_through_deserialize():
    layer = Dense(5, activation="relu", name="dense_x")
    config = layers.serialize(layer)
    assert config["class_name"] == "Dense" and config["config"]["units"] == 5
    again = layers.deserialize(config)
    assert isinstance(again, Dense) and again.get_config() == layer.get_config()


def test_custom_object_scope_and_keras_object_serialization():
    class Scaled(Dense):
        pass

    config = layers.serialize(Scaled(2, name="scaled"))
    with pytest.raises(ValueError, match="Unknown"):
        layers.deserialize(config)
    with CustomObjectScope({"Scaled": Scaled}):
        assert isinstance(layers.deserialize(config), Scaled)
    assert serialize_keras_object(keras.activations.relu) == "relu"
    assert deserialize_keras_object("relu", module_objects={"relu": keras.activations.relu}) is keras.activations.relu
    with pytest.raises(ValueError, match="Unknown activation: nope"):
        deserialize_keras_object("nope", printable_module_name="activation")


def test_get_source_inputs_finds_the_inputs_a_tensor_comes_from():
    model = _functional()
    sources = get_source_inputs(model.outputs[0])
    assert sources == model.inputs
    assert get_source_inputs(model.inputs[1]) == [model.inputs[1]]
