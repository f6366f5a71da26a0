"""HDF5 files in Keras 2's layout: weights, whole models, optimizer state, ModelCheckpoint."""

import os

import h5py
import numpy as np
import pytest

import symkeras.backend as K
from symkeras.callbacks import ModelCheckpoint
from symkeras.layers import BatchNormalization, Dense, Dropout, Input
from symkeras.models import Model, Sequential, load_model
from symkeras.optimizers import Adam
from symkeras.saving.hdf5 import load_attributes


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def _trained(rng):
    model = Sequential([Dense(4, activation="relu", input_dim=3), Dropout(0.2), BatchNormalization(),
                        Dense(2, activation="softmax")])
    model.compile(optimizer=Adam(learning_rate=0.01), loss="categorical_crossentropy", metrics=["acc"])
    x = rng.random((16, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, 16)]
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    return model, x, y


def test_weights_file_layout_and_round_trip(rng, tmp_path):
    model, x, _ = _trained(rng)
    path = tmp_path / "w.h5"
    model.save_weights(str(path))
    with h5py.File(path, "r") as f:
        assert load_attributes(f, "layer_names") == ["dense_1", "dropout_1", "batch_normalization_1", "dense_2"]
        assert load_attributes(f["dense_1"], "weight_names") == ["dense_1/kernel:0", "dense_1/bias:0"]
        assert f["dense_1/dense_1/kernel:0"].shape == (3, 4)
        assert load_attributes(f["batch_normalization_1"], "weight_names")[2:] == [
            "batch_normalization_1/moving_mean:0", "batch_normalization_1/moving_variance:0"]
        assert len(f["dropout_1"].attrs["weight_names"]) == 0
    other = Sequential([Dense(4, activation="relu", input_dim=3), Dropout(0.2), BatchNormalization(),
                        Dense(2, activation="softmax")])
    other.load_weights(str(path))
    np.testing.assert_allclose(other.predict(x), model.predict(x), rtol=1e-6)


def test_loading_into_a_different_model_names_the_mismatch_and_changes_nothing(rng, tmp_path):
    model, _, _ = _trained(rng)
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    fewer = Sequential([Dense(4, input_dim=3)])
    with pytest.raises(ValueError, match="containing 3 layers into a model with 1 layers"):
        fewer.load_weights(path)
    wider = Sequential([Dense(5, activation="relu", input_dim=3), BatchNormalization(), Dense(2)])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r'Layer "dense_\d+": weight dense_\d+/kernel:0 has shape \(3, 5\), but the '
                                         r'saved weight of layer "dense_1" has shape \(3, 4\)'):
        wider.load_weights(path)
    for a, b in zip(before, wider.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_whole_model_round_trip_keeps_training_state(rng, tmp_path):
    model, x, y = _trained(rng)
    path = str(tmp_path / "m.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        assert f.attrs["keras_version"] == "2.2.4" and f.attrs["backend"] == "tensorflow"
        assert '"class_name": "Sequential"' in _text(f.attrs["model_config"])
        assert "optimizer_weights" in f
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    assert loaded.metrics_names == ["loss", "acc"]
    for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_allclose(a, b)
    assert int(K.get_value(loaded.optimizer.iterations)) == 4  # Adam resumes at step 5, not 1
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0), rtol=1e-6)


def test_functional_model_round_trip_with_a_custom_loss(rng, tmp_path):
    import symkeras.backend as K

    def doubled_mse(y_true, y_pred):
        return 2 * K.mean(K.square(y_pred - y_true), axis=-1)

    inputs = Input(shape=(3,))
    model = Model(inputs, Dense(1)(Dense(2, activation="tanh")(inputs)))
    model.compile(optimizer="sgd", loss=doubled_mse)
    path = str(tmp_path / "f.h5")
    model.save(path)
    with pytest.raises(ValueError, match="Unknown loss function: doubled_mse"):
        load_model(path)
    loaded = load_model(path, custom_objects={"doubled_mse": doubled_mse})
    x = rng.random((4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
    uncompiled = load_model(path, compile=False, custom_objects={"doubled_mse": doubled_mse})
    with pytest.raises(RuntimeError, match="must compile"):
        uncompiled.fit(x, x[:, :1], verbose=0)


def test_model_checkpoint_saves_the_best_epochs(rng, tmp_path):
    model, x, y = _trained(rng)
    pattern = str(tmp_path / "weights.{epoch:02d}.h5")
    losses = iter([0.5, 0.7, 0.4])

    class FakeValidation(ModelCheckpoint):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)
            super().on_epoch_end(epoch, logs)

    model.fit(x, y, epochs=3, verbose=0, callbacks=[FakeValidation(pattern, save_best_only=True,
                                                                   save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["weights.01.h5", "weights.03.h5"]
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ModelCheckpoint(str(tmp_path / "full.h5"), monitor="loss")])
    assert load_model(str(tmp_path / "full.h5")).metrics_names == ["loss", "acc"]


FIXTURES = os.path.join(os.path.dirname(__file__), "..", "fixtures")


def test_sequential_file_written_by_keras2_loads_and_keeps_training(tmp_path):
    expected = np.load(os.path.join(FIXTURES, "tfkeras_h5_expected.npz"))
    model = load_model(os.path.join(FIXTURES, "tfkeras_sequential.h5"))
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dropout", "BatchNormalization", "Dense"]
    x = expected["sequential/input0"]
    np.testing.assert_allclose(model.predict(x), expected["sequential/output0"], rtol=1e-5, atol=1e-6)
    assert model.metrics_names == ["loss", "accuracy"]
    assert int(K.get_value(model.optimizer.iterations)) == 4  # the legacy Adam's state came along
    model.fit(x, np.eye(2, dtype="float32")[np.arange(16) % 2], epochs=1, verbose=0)
    path = str(tmp_path / "again.h5")
    model.save(path)
    np.testing.assert_allclose(load_model(path).predict(x), model.predict(x), rtol=1e-6)


def test_functional_file_written_by_keras2_loads():
    expected = np.load(os.path.join(FIXTURES, "tfkeras_h5_expected.npz"))
    # the file's newer tf-keras RMSprop was never run: its state holds only the step count
    with pytest.warns(UserWarning, match="starting with a freshly initialized optimizer"):
        model = load_model(os.path.join(FIXTURES, "tfkeras_functional.h5"))
    inputs = [expected["functional/input0"], expected["functional/input1"]]
    for got, want in zip(model.predict(inputs), (expected["functional/output0"], expected["functional/output1"])):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert model.input_names == ["a", "b"] and model.metrics_names == ["loss", "out_loss", "shared_loss"]
    assert type(model.optimizer).__name__ == "RMSprop"
    np.testing.assert_allclose(model.optimizer.get_config()["rho"], 0.9, rtol=1e-6)
