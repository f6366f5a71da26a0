"""fit options as Keras 2 documents them: sample/class weights, shuffling, epochs, steps, fixed batches."""

import csv

import numpy as np
import pytest

import symkeras.backend as K
from symkeras import callbacks as cbks
from symkeras import regularizers
from symkeras.layers import Dense, Input, Layer
from symkeras.models import Model, Sequential
from symkeras.optimizers import SGD


def _regression(rng, n=12, features=3, outputs=2):
    return rng.random((n, features)).astype("float32"), rng.random((n, outputs)).astype("float32")


def _linear(features=3, outputs=2, **kwargs):
    np.random.seed(0)
    model = Sequential([Dense(outputs, input_dim=features, **kwargs)])
    return model


def test_sample_weights_weight_each_sample_as_keras_does(rng):
    x, y = _regression(rng)
    model = _linear()
    model.compile(optimizer="sgd", loss="mse")
    w, b = model.layers[0].get_weights()
    per_sample = ((x @ w + b - y) ** 2).mean(1)
    weights = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], "float32")
    expected = np.mean(per_sample * weights) / np.mean(weights != 0)
    np.testing.assert_allclose(model.evaluate(x, y, sample_weight=weights, batch_size=12, verbose=0), expected,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="timestep-wise sample weighting"):
        model.evaluate(x, y, sample_weight=np.ones((12, 2)), verbose=0)


def test_temporal_sample_weights(rng):
    inputs = Input(shape=(4, 3))
    model = Model(inputs, Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="mae", sample_weight_mode="temporal")
    x = rng.random((5, 4, 3)).astype("float32")
    y = rng.random((5, 4, 2)).astype("float32")
    weights = (rng.random((5, 4)) > 0.5).astype("float32")
    per_step = np.abs(model.predict(x) - y).mean(-1)
    expected = np.mean(per_step * weights) / np.mean(weights != 0)
    np.testing.assert_allclose(model.evaluate(x, y, sample_weight=weights, verbose=0), expected, rtol=1e-5)


def test_class_weights_become_sample_weights(rng):
    x = rng.random((8, 3)).astype("float32")
    labels = np.array([0, 1, 1, 2, 2, 2, 0, 1])
    y = np.eye(3, dtype="float32")[labels]
    model = _linear(outputs=3, activation="softmax")
    model.compile(optimizer=SGD(learning_rate=0.5), loss="categorical_crossentropy")
    twin = _linear(outputs=3, activation="softmax")
    twin.compile(optimizer=SGD(learning_rate=0.5), loss="categorical_crossentropy")
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    model.fit(x, y, batch_size=8, epochs=1, class_weight=class_weight, verbose=0)
    twin.fit(x, y, batch_size=8, epochs=1, sample_weight=np.array([class_weight[c] for c in labels]), verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    with pytest.raises(ValueError, match="`class_weight` must contain all classes"):
        model.fit(x, y, class_weight={0: 1.0, 1: 2.0}, verbose=0)


def test_unshuffled_fit_is_the_sequence_of_train_on_batch(rng):
    x, y = _regression(rng, n=10)
    by_fit, by_hand = _linear(), _linear()
    for model in (by_fit, by_hand):
        model.compile(optimizer=SGD(learning_rate=0.3, momentum=0.5), loss="mse")
    by_fit.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    for _ in range(2):
        for start in (0, 4, 8):
            by_hand.train_on_batch(x[start:start + 4], y[start:start + 4])
    for a, b in zip(by_fit.get_weights(), by_hand.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_batch_shuffle_initial_epoch_and_steps_per_epoch(rng):
    x, y = _regression(rng, n=10)
    model = _linear()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=4, initial_epoch=2, shuffle="batch", verbose=0)
    assert history.epoch == [2, 3]
    assert int(K.get_value(model.optimizer.iterations)) == 2 * 3
    model.fit(x, y, epochs=2, steps_per_epoch=5, verbose=0)  # each step sees the whole arrays
    assert int(K.get_value(model.optimizer.iterations)) == 6 + 2 * 5


def test_validation_data_with_sample_weights(rng):
    x, y = _regression(rng)
    model = _linear()
    model.compile(optimizer=SGD(learning_rate=0.0), loss="mse")
    weights = np.linspace(0, 1, 12).astype("float32")
    history = model.fit(x, y, epochs=1, validation_data=(x, y, weights), verbose=0)
    expected = model.evaluate(x, y, sample_weight=weights, batch_size=32, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"], [expected], rtol=1e-5)


def test_a_second_compile_recompiles(rng):
    x, y = _regression(rng)
    model = _linear()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, verbose=0)
    first = model.train_function
    model.compile(optimizer="adam", loss="mae", metrics=["mse"])
    assert model.train_function is None and model.metrics_names == ["loss", "mse"]
    model.fit(x, y, verbose=0)
    assert model.train_function is not first and int(K.get_value(model.optimizer.iterations)) == 1


def test_fixed_batch_size_from_batch_input_shape(rng):
    model = Sequential([Dense(2, batch_input_shape=(4, 3))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _regression(rng, n=8)
    model.fit(x, y, epochs=1, verbose=0)  # batch_size defaults to the fixed 4
    assert int(K.get_value(model.optimizer.iterations)) == 2
    with pytest.raises(ValueError, match="fixed batch size of 4 .* got 10 samples"):
        model.fit(*_regression(rng, n=10), verbose=0)
    with pytest.raises(ValueError, match="fixed batch size of 4 .* got batch_size=8"):
        model.fit(x, y, batch_size=8, verbose=0)
    assert model.predict(x).shape == (8, 2)


def test_sequential_without_an_input_shape_is_built_from_the_data(rng):
    model = Sequential([Dense(5, activation="relu"), Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _regression(rng)
    model.fit(x, y, epochs=1, verbose=0)
    assert model.layers[0].get_weights()[0].shape == (3, 5)
    assert model.predict(x).shape == (12, 2)


def test_functional_summary_lists_connections(capsys):
    a, b = Input(shape=(3,), name="left"), Input(shape=(3,), name="right")
    from symkeras.layers import add

    model = Model([a, b], Dense(1, name="head")(add([a, b], name="sum")))
    model.summary()
    out = capsys.readouterr().out
    assert "Connected to" in out
    assert "sum (Add)" in out and "left[0][0]" in out and "right[0][0]" in out
    assert "Total params: 4" in out


def test_custom_layer_as_in_the_keras_docs(rng):
    class MyLayer(Layer):
        def __init__(self, output_dim, **kwargs):
            self.output_dim = output_dim
            super().__init__(**kwargs)

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[1], self.output_dim),
                                          initializer="uniform", trainable=True)
            super().build(input_shape)

        def call(self, x):
            return K.dot(x, self.kernel)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.output_dim)

    model = Sequential([MyLayer(2, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    x, y = _regression(rng)
    model.fit(x, y, verbose=0)
    (kernel,) = model.layers[0].get_weights()
    np.testing.assert_allclose(model.predict(x), x @ kernel, rtol=1e-5)

    class WrongShape(MyLayer):
        def compute_output_shape(self, input_shape):
            return (input_shape[0], self.output_dim + 1)

    with pytest.raises(ValueError, match=r"compute_output_shape returned \(None, 3\), but call\(\) produced a "
                                         r"tensor of shape \(None, 2\)"):
        Sequential([WrongShape(2, input_shape=(3,))])


def test_activity_regularizer_and_keras1_weight_regularizer(rng):
    x, y = _regression(rng)
    with pytest.warns(DeprecationWarning, match="`W_regularizer` is deprecated; use `kernel_regularizer`"):
        dense = Dense(2, input_dim=3, W_regularizer=regularizers.l2(0.01), activity_regularizer=regularizers.l1(0.1))
    model = Sequential([dense])
    model.compile(optimizer="sgd", loss="mse")
    w, b = dense.get_weights()
    out = x @ w + b
    expected = ((out - y) ** 2).mean() + 0.01 * (w ** 2).sum() + 0.1 * np.abs(out).sum()
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=12, verbose=0), expected, rtol=1e-5)


def test_learning_rate_callbacks_csv_logger_nan_and_lambda(rng, tmp_path):
    x, y = _regression(rng)
    model = _linear()
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
    seen = []
    log = tmp_path / "log.csv"
    model.fit(x, y, epochs=3, verbose=0, callbacks=[
        cbks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)),
        cbks.CSVLogger(str(log)),
        cbks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, round(logs["lr"], 6)))),
    ])
    assert seen == [(0, 0.1), (1, 0.05), (2, 0.033333)]
    rows = list(csv.DictReader(open(log)))
    assert [row["epoch"] for row in rows] == ["0", "1", "2"] and set(rows[0]) == {"epoch", "loss", "lr"}

    # the first epoch improves on "no loss yet"; every later one misses min_delta and halves lr (patience 0)
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
    model.fit(x, y, epochs=3, verbose=0, callbacks=[cbks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0,
                                                                           min_delta=10.0)])
    np.testing.assert_allclose(float(K.get_value(model.optimizer.lr)), 0.025, rtol=1e-6)

    def nan_loss(y_true, y_pred):
        return K.log(y_pred - y_pred - 1.0)

    model.compile(optimizer="sgd", loss=nan_loss)
    history = model.fit(x, y, epochs=5, batch_size=4, verbose=0, callbacks=[cbks.TerminateOnNaN()])
    assert len(history.epoch) == 1  # stopped in the first epoch
