"""compile/fit/evaluate/predict: bad input errors, the model left unchanged, backends, regularizers, constraints."""

import io

import numpy as np
import pytest

import symkeras.backend as K
from symkeras import config, constraints, regularizers
from symkeras.callbacks import Callback, EarlyStopping, History
from symkeras.layers import Dense, Dropout, Input
from symkeras.models import Model, Sequential
from symkeras.optimizers import SGD
from symkeras.utils import Progbar


def _model():
    model = Sequential([Dense(4, activation="relu", input_dim=3, name="hidden"), Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(rng, n=20):
    x = rng.random((n, 3)).astype("float32")
    y = np.eye(2, dtype="float32")[rng.integers(0, 2, n)]
    return x, y


def test_fit_before_compile_is_a_runtime_error(rng):
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(RuntimeError, match="You must compile your model before using it"):
        model.fit(*_data(rng))


@pytest.mark.parametrize("case, error, message", [
    ("samples", ValueError, "Found 20 input samples and 19 target samples"),
    ("input_shape", ValueError, "expected hidden_input to have shape \\(3,\\) but got array with shape \\(5,\\)"),
    ("input_rank", ValueError, "expected hidden_input to have 2 dimensions, but got array with shape \\(20, 3, 1\\)"),
    ("int_labels", ValueError, "`categorical_crossentropy` expects targets to be binary matrices"),
    ("label_width", ValueError, "A target array with shape \\(20, 3\\) was passed for an output of shape "
                                "\\(None, 2\\) while using as loss `categorical_crossentropy`"),
    ("split", ValueError, "validation_split must be a number in \\[0, 1\\); got 1.0"),
    ("validation_tuple", ValueError, "it must contain 2 \\(x_val, y_val\\) or 3"),
])
def test_bad_input_raises_clear_errors_and_leaves_the_model_unchanged(rng, case, error, message):
    model = _model()
    x, y = _data(rng)
    before = model.get_weights()
    kwargs = {}
    if case == "samples":
        y = y[:19]
    elif case == "input_shape":
        x = rng.random((20, 5)).astype("float32")
    elif case == "input_rank":
        x = x[..., None]
    elif case == "int_labels":
        y = y.argmax(1)[:, None]
    elif case == "label_width":
        y = np.zeros((20, 3), "float32")
    elif case == "split":
        kwargs = {"validation_split": 1.0}
    elif case == "validation_tuple":
        kwargs = {"validation_data": (x,)}
    with pytest.raises(error, match=message):
        model.fit(x, y, verbose=0, **kwargs)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


def test_unknown_names_in_compile_are_value_errors():
    model = Sequential([Dense(2, input_dim=3)])
    with pytest.raises(ValueError, match="Unknown loss function: nonsense"):
        model.compile(optimizer="sgd", loss="nonsense")
    with pytest.raises(ValueError, match="Unknown optimizer: nonsense"):
        model.compile(optimizer="nonsense", loss="mse")
    with pytest.raises(ValueError, match="Unknown metric function: nonsense"):
        model.compile(optimizer="sgd", loss="mse", metrics=["nonsense"])


def test_training_matches_on_both_backends():
    """The same model, data and seed train to the same weights on the compiled and the reference backend."""
    trained = []
    for backend in ("numba", "reference"):
        config.set_backend(backend)
        np.random.seed(7)
        model = Sequential([Dense(5, activation="tanh", input_dim=3), Dense(2, activation="softmax")])
        model.compile(optimizer=SGD(learning_rate=0.1, momentum=0.9), loss="categorical_crossentropy",
                      metrics=["accuracy"])
        x, y = _data(np.random.default_rng(0), 40)
        history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
        assert model.train_function.backend.name == backend
        trained.append((history.history["loss"], model.get_weights()))
    (loss_a, weights_a), (loss_b, weights_b) = trained
    np.testing.assert_allclose(loss_a, loss_b, rtol=1e-5)
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_regularizers_add_their_penalty_to_the_loss(rng):
    x = rng.random((10, 3)).astype("float32")
    y = rng.random((10, 2)).astype("float32")
    layer = Dense(2, input_dim=3, kernel_regularizer=regularizers.l2(0.1), bias_initializer="ones",
                  bias_regularizer=regularizers.l1(0.5))
    model = Sequential([layer])
    model.compile(optimizer="sgd", loss="mse")
    w, b = layer.get_weights()
    expected = np.mean((x @ w + b - y) ** 2) + 0.1 * np.sum(w ** 2) + 0.5 * np.sum(np.abs(b))
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=10, verbose=0), expected, rtol=1e-5)


def test_constraints_apply_after_each_update(rng):
    x = rng.random((16, 3)).astype("float32") * 10
    y = rng.random((16, 4)).astype("float32") * 100
    dense = Dense(4, input_dim=3, kernel_constraint=constraints.max_norm(1.0), bias_constraint="non_neg")
    model = Sequential([dense])
    model.compile(optimizer=SGD(learning_rate=0.1), loss="mse")
    model.fit(x, -y, epochs=2, batch_size=4, verbose=0)
    w, b = dense.get_weights()
    assert np.all(np.linalg.norm(w, axis=0) <= 1.0 + 1e-5) and np.all(b >= 0)


def test_callbacks_see_every_hook_and_early_stopping_stops(rng):
    calls = []

    class Recorder(Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(("epoch", epoch, sorted(logs)))

        def on_batch_end(self, batch, logs=None):
            calls.append(("batch", batch, logs["size"]))

    model = _model()
    x, y = _data(rng)
    model.compile(optimizer=SGD(learning_rate=0.0), loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=10, batch_size=8, verbose=0, validation_data=(x, y),
                        callbacks=[Recorder(), EarlyStopping(monitor="val_loss", patience=1)])
    assert calls[0] == "train_begin"
    assert [c for c in calls if c[0] == "batch"][:3] == [("batch", 0, 8), ("batch", 1, 8), ("batch", 2, 4)]
    assert ("epoch", 0, ["loss", "val_loss"]) in calls
    assert isinstance(history, History) and history.epoch == [0, 1]  # lr 0: no improvement after epoch 0


def test_progress_output_to_a_file_has_no_backspaces(rng, capsys):
    model = _model()
    x, y = _data(rng, 64)
    model.fit(x, y, epochs=2, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert "\b" not in out and "\r" not in out
    lines = out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("64/64 [==============================] - ") and " - loss: " in lines[1]
    model.fit(x, y, epochs=2, batch_size=8, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4 and lines[1].startswith("64/64 - ") and "accuracy:" in lines[1]
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_redraws_in_place_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = Progbar(10, stream=stream, interval=0.0)
    bar.update(5, [("loss", 1.0)])
    bar.update(10, [("loss", 0.5)])
    text = stream.getvalue()
    assert " 5/10 [==============>...............] - ETA: " in text and "\r" in text
    assert text.endswith(" - loss: 0.7500\n")  # averaged over the samples seen


def test_multi_input_multi_output_model_with_dicts(rng):
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    shared = Dense(4, activation="relu", name="shared")
    merged = Dense(3, name="mix")(shared(a))
    out_class = Dense(2, activation="softmax", name="cls")(merged)
    out_reg = Dense(1, name="reg")(Dense(4)(b))
    model = Model(inputs=[a, b], outputs=[out_class, out_reg])
    model.compile(optimizer="adam", loss={"cls": "categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["acc"]})
    assert model.metrics_names == ["loss", "cls_loss", "reg_loss", "cls_acc"]
    xa, xb = rng.random((12, 3)).astype("float32"), rng.random((12, 2)).astype("float32")
    yc, yr = np.eye(2, dtype="float32")[rng.integers(0, 2, 12)], rng.random((12, 1)).astype("float32")
    history = model.fit({"a": xa, "b": xb}, {"cls": yc, "reg": yr}, epochs=2, batch_size=4, verbose=0)
    assert set(history.history) == {"loss", "cls_loss", "reg_loss", "cls_acc"}
    loss, cls_loss, reg_loss, _ = model.evaluate([xa, xb], [yc, yr], verbose=0)
    np.testing.assert_allclose(loss, cls_loss + 0.5 * reg_loss, rtol=1e-5)
    pred_c, pred_r = model.predict([xa, xb])
    assert pred_c.shape == (12, 2) and pred_r.shape == (12, 1)


def test_dropout_is_training_only(rng):
    model = Sequential([Dropout(0.5, input_shape=(100,))])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 100), "float32")
    np.testing.assert_array_equal(model.predict(x), x)
    # the training graph drops: train_on_batch's loss against x is not zero
    assert model.train_on_batch(x, x) > 0.1
    assert K.get_value(model.optimizer.iterations) == 1


def test_accuracy_follows_the_loss_and_weighted_metrics_use_sample_weights(rng):
    x = rng.random((6, 3)).astype("float32")
    labels = np.array([0, 2, 1, 2, 0, 1])
    model = Sequential([Dense(3, activation="softmax", input_dim=3)])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["acc"],
                  weighted_metrics=["accuracy"])
    assert model.metrics_names == ["loss", "acc", "weighted_accuracy"]
    weights = np.array([1, 0, 0, 1, 1, 1], "float32")
    correct = (model.predict(x).argmax(1) == labels).astype("float32")
    _, acc, weighted = model.evaluate(x, labels[:, None], sample_weight=weights, batch_size=6, verbose=0)
    np.testing.assert_allclose(acc, correct.mean(), rtol=1e-6)
    np.testing.assert_allclose(weighted, np.mean(correct * weights) / np.mean(weights != 0), rtol=1e-6)
    history = model.fit(x, labels, epochs=1, verbose=0)  # 1-D integer labels are accepted too
    assert set(history.history) == {"loss", "acc", "weighted_accuracy"}


def test_losses_and_loss_weights_as_lists(rng):
    a = Input(shape=(3,))
    first, second = Dense(2, name="first")(a), Dense(1, name="second")(a)
    model = Model(a, [first, second])
    model.compile(optimizer="sgd", loss=["mse", "mae"], loss_weights=[0.25, 2.0])
    x = rng.random((6, 3)).astype("float32")
    y1, y2 = rng.random((6, 2)).astype("float32"), rng.random((6, 1)).astype("float32")
    p1, p2 = model.predict(x)
    loss, l1, l2 = model.evaluate(x, [y1, y2], batch_size=6, verbose=0)
    np.testing.assert_allclose([l1, l2], [((p1 - y1) ** 2).mean(), np.abs(p2 - y2).mean()], rtol=1e-5)
    np.testing.assert_allclose(loss, 0.25 * l1 + 2.0 * l2, rtol=1e-5)
    with pytest.raises(ValueError, match="it should have one entry per model output"):
        model.compile(optimizer="sgd", loss=["mse"])


def test_the_training_graph_drops_even_after_clear_session():
    model = Sequential([Dropout(0.5, input_shape=(50,))])
    K.clear_session()  # a new session's learning phase is another placeholder
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 50), "float32")
    assert model.train_on_batch(x, x) > 0.1
    np.testing.assert_array_equal(model.predict(x), x)


def test_predict_proba_warns_outside_zero_one(rng):
    x = rng.random((5, 3)).astype("float32")
    probabilities = Sequential([Dense(2, activation="softmax", input_dim=3)])
    np.testing.assert_allclose(probabilities.predict_proba(x).sum(1), 1.0, rtol=1e-6)
    scores = Sequential([Dense(2, input_dim=3, kernel_initializer="ones", bias_initializer="ones")])
    with pytest.warns(UserWarning, match="invalid probability values"):
        scores.predict_proba(x)


def test_early_stopping_restores_the_best_weights_and_checkpoint_period(rng, tmp_path):
    from symkeras.callbacks import ModelCheckpoint

    model = _model()
    x, y = _data(rng)
    snapshots = []
    losses = iter([1.0, 0.5, 0.9, 0.8, 0.7])

    class Scripted(Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(losses)
            snapshots.append(self.model.get_weights())

    model.fit(x, y, epochs=5, verbose=0, callbacks=[
        Scripted(), EarlyStopping(patience=2, restore_best_weights=True),
        ModelCheckpoint(str(tmp_path / "every2.{epoch}.h5"), save_weights_only=True, period=2),
        ModelCheckpoint(str(tmp_path / "best.h5"), monitor="val_loss", mode="max", save_best_only=True,
                        save_weights_only=True)])
    # stopped after epoch 4 (two epochs without improving on 0.5), weights back to epoch 2's
    assert len(snapshots) == 4
    for a, b in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.h5", "every2.2.h5", "every2.4.h5"]
    model.load_weights(str(tmp_path / "best.h5"))  # mode="max": the first epoch's 1.0 was the best
    for a, b in zip(model.get_weights(), snapshots[0]):
        np.testing.assert_array_equal(a, b)


def test_per_output_weights_of_multi_output_models(rng):
    a = Input(shape=(3,))
    model = Model(a, [Dense(1, name="first")(a), Dense(1, name="second")(a)])
    model.compile(optimizer="sgd", loss="mse")
    x = rng.random((4, 3)).astype("float32")
    ys = [rng.random((4, 1)).astype("float32"), rng.random((4, 1)).astype("float32")]
    p1, p2 = model.predict(x)
    w = np.array([1, 0, 2, 1], "float32")
    by_name = model.evaluate(x, ys, sample_weight={"second": w}, batch_size=4, verbose=0)
    by_list = model.evaluate(x, ys, sample_weight=[None, w], batch_size=4, verbose=0)
    np.testing.assert_allclose(by_name, by_list)
    expected_second = np.mean(((p2 - ys[1]) ** 2)[:, 0] * w) / np.mean(w != 0)
    np.testing.assert_allclose(by_name[2], expected_second, rtol=1e-5)
    with pytest.raises(TypeError, match="multiple outputs, so `sample_weight` should be either a list"):
        model.evaluate(x, ys, sample_weight=w, verbose=0)
