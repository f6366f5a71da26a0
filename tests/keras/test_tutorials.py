"""The tutorial examples of the seeds, run with only the import line changed (data made here)."""

import warnings

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.layers import Activation, Dense, Dropout, Input
from symkeras.models import Model, Sequential
from symkeras.optimizers import SGD
from symkeras.utils import to_categorical


def _separable(rng, n, features, classes):
    """Inputs whose class is the argmax of a fixed linear map (learnable, not trivial)."""
    x = rng.random((n, features)).astype("float32")
    w = np.random.default_rng(99).normal(size=(features, classes))
    return x, to_categorical(((x - 0.5) @ w).argmax(1), classes)


def test_mlp_softmax_classifier_with_nesterov_sgd(rng):
    np.random.seed(1)
    x, y = _separable(rng, 600, 20, 4)
    model = Sequential()
    model.add(Dense(64, activation="relu", input_dim=20))
    model.add(Dropout(0.5))
    model.add(Dense(64, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(4, activation="softmax"))
    with pytest.warns(DeprecationWarning, match="use `learning_rate`"):
        sgd = SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True)
    model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["accuracy"])
    before = model.evaluate(x, y, batch_size=128, verbose=0)
    history = model.fit(x, y, epochs=12, batch_size=32, verbose=0)
    after = model.evaluate(x, y, batch_size=128, verbose=0)
    assert model.metrics_names == ["loss", "accuracy"]
    assert list(history.history) == ["loss", "accuracy"] and len(history.history["loss"]) == 12
    assert after[0] < before[0] - 0.3 and after[1] > 0.8
    assert int(K.get_value(sgd.iterations)) == 12 * int(np.ceil(600 / 32))


def test_binary_mlp_with_rmsprop(rng):
    np.random.seed(2)
    x = rng.random((400, 20)).astype("float32")
    y = (x[:, :10].sum(1) > x[:, 10:].sum(1)).astype("float32")
    model = Sequential()
    model.add(Dense(64, input_dim=20, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(64, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["acc"])
    history = model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    loss, acc = model.evaluate(x, y, verbose=0)
    assert list(history.history) == ["loss", "acc"]
    assert acc > 0.85
    # binary accuracy: rounded probabilities against the 0/1 labels
    probabilities = model.predict(x)
    assert probabilities.shape == (400, 1)
    np.testing.assert_allclose(acc, np.mean(np.round(probabilities[:, 0]) == y), atol=1e-6)
    classes = model.predict_classes(x)
    assert classes.shape == (400, 1) and set(np.unique(classes)) <= {0, 1}


def test_functional_input_dense_model(rng):
    x, y = _separable(rng, 300, 16, 3)
    inputs = Input(shape=(16,))
    h = Dense(32, activation="relu")(inputs)
    h = Dense(32, activation="relu")(h)
    predictions = Dense(3, activation="softmax")(h)
    model = Model(inputs=inputs, outputs=predictions)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after[0] < before[0] and after[1] > 0.7  # three classes: chance is 1/3
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense", "Dense"]
    assert model.predict(x, batch_size=64).shape == (300, 3)


def test_linear_regression_with_keras1_spellings_reaches_w_3():
    rng = np.random.default_rng(3)
    x = np.linspace(-1, 1, 200).astype("float32")
    y = 3 * x + 2 + rng.normal(0, 0.05, 200).astype("float32")
    model = Sequential()
    with pytest.warns(DeprecationWarning) as caught:
        model.add(Dense(output_dim=1, input_dim=1, init="uniform"))
    assert {"use `units` instead", "use `kernel_initializer` instead"} <= {str(w.message).split("; ")[1][:-1] for w in
                                                                          caught}
    model.compile(loss="mse", optimizer="sgd")
    with pytest.warns(DeprecationWarning, match="`nb_epoch` is deprecated; use `epochs`"):
        model.fit(x, y, nb_epoch=60, batch_size=10, verbose=0)
    w, b = model.layers[0].get_weights()
    assert abs(w[0, 0] - 3) < 0.1 and abs(b[0] - 2) < 0.1


def test_height_weight_age_classifier_reaches_tutorial_accuracy():
    # people described by height (cm), weight (kg) and age; the label depends on all three, with noise
    rng = np.random.default_rng(4)
    n = 1000
    height = rng.normal(170, 10, n)
    weight = rng.normal(70, 12, n)
    age = rng.uniform(18, 70, n)
    score = (weight - 0.9 * (height - 100)) / 8 + (age - 44) / 15
    label = (score + rng.normal(0, 0.8, n) > 0).astype("float32")
    x = np.stack([height, weight, age], 1).astype("float32")
    x = (x - x.mean(0)) / x.std(0)
    np.random.seed(5)
    model = Sequential([Dense(16, input_shape=(3,)), Activation("relu"), Dense(1), Activation("sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x[:800], label[:800], epochs=20, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x[800:], label[800:], verbose=0)
    best_possible = np.mean((score > 0) == label)  # the noise caps any classifier near 0.88 on these data
    assert 0.8 < accuracy <= best_possible + 0.03


def test_validation_split_holds_out_the_last_samples_before_shuffling(rng):
    x = rng.random((100, 5)).astype("float32")
    y = rng.random((100, 2)).astype("float32")
    model = Sequential([Dense(2, input_dim=5)])
    model.compile(optimizer=SGD(learning_rate=0.0), loss="mse", metrics=["mae"])
    expected = model.evaluate(x[80:], y[80:], verbose=0)
    history = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}
    np.testing.assert_allclose(history.history["val_loss"], [expected[0]] * 2, rtol=1e-5)
    np.testing.assert_allclose(history.history["val_mae"], [expected[1]] * 2, rtol=1e-5)
    assert history.epoch == [0, 1]


def test_pop_removes_the_last_layer(rng):
    model = Sequential([Dense(8, input_dim=4, name="hidden"), Activation("relu"), Dense(3, name="out")])
    assert len(model.layers) == 3 and model.output_shape == (None, 3)
    model.pop()
    assert [layer.name for layer in model.layers][0] == "hidden" and len(model.layers) == 2
    assert model.output_shape == (None, 8)
    x = rng.random((5, 4)).astype("float32")
    w, b = model.get_layer("hidden").get_weights()
    np.testing.assert_allclose(model.predict(x), np.maximum(x @ w + b, 0), rtol=1e-5)
    model.pop()
    model.pop()
    with pytest.raises(TypeError, match="There are no layers in the model"):
        model.pop()


def test_intermediate_layer_model_predicts_the_hidden_activations(rng):
    model = Sequential([Dense(6, activation="tanh", input_dim=4, name="features"), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x = rng.random((7, 4)).astype("float32")
    inner = Model(inputs=model.input, outputs=model.get_layer("features").output)
    w, b = model.get_layer("features").get_weights()
    np.testing.assert_allclose(inner.predict(x), np.tanh(x @ w + b), rtol=1e-5, atol=1e-6)


def test_custom_metric_written_with_the_backend(rng):
    def mean_pred(y_true, y_pred):
        return K.mean(y_pred)

    x = rng.random((50, 3)).astype("float32")
    y = (rng.random((50, 1)) > 0.5).astype("float32")
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3)])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy", mean_pred])
    assert model.metrics_names == ["loss", "accuracy", "mean_pred"]
    history = model.fit(x, y, epochs=1, batch_size=50, verbose=0)
    assert "mean_pred" in history.history
    _, _, value = model.evaluate(x, y, batch_size=50, verbose=0)
    np.testing.assert_allclose(value, model.predict(x).mean(), rtol=1e-5)


def test_warnings_are_not_errors_for_modern_spellings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Sequential([Dense(units=2, input_shape=(3,), kernel_initializer="he_normal")])
        SGD(learning_rate=0.1)
