"""KerasClassifier and KerasRegressor in scikit-learn's cross_val_score and GridSearchCV."""

import numpy as np
import pytest

from symkeras.layers import Dense
from symkeras.models import Sequential
from symkeras.wrappers.scikit_learn import KerasClassifier, KerasRegressor

sklearn = pytest.importorskip("sklearn", reason="scikit-learn (the demo extra) is not installed")
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402


def _classifier(hidden=8, classes=3, loss="sparse_categorical_crossentropy"):
    model = Sequential([Dense(hidden, activation="relu", input_dim=4), Dense(classes, activation="softmax")])
    model.compile("adam", loss, metrics=["accuracy"])
    return model


def _data(rng, n=60):
    x = rng.normal(size=(n, 4)).astype("float32")
    y = np.array(["a", "b", "c"])[(x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int)]
    return x, y


def test_a_classifier_in_cross_val_score_and_grid_search(rng):
    x, y = _data(rng)
    clf = KerasClassifier(build_fn=_classifier, epochs=3, batch_size=16, verbose=0)
    scores = cross_val_score(clf, x, y, cv=3)
    assert scores.shape == (3,) and ((0 <= scores) & (scores <= 1)).all()
    search = GridSearchCV(KerasClassifier(build_fn=_classifier, verbose=0), {"hidden": [4, 8], "epochs": [1, 2]},
                          cv=2)
    search.fit(x, y)
    assert set(search.best_params_) == {"hidden", "epochs"} and len(search.cv_results_["mean_test_score"]) == 4
    clf.fit(x, y)
    predicted = clf.predict(x[:5])
    assert predicted.shape == (5,) and set(predicted) <= {"a", "b", "c"}
    proba = clf.predict_proba(x[:5])
    assert proba.shape == (5, 3) and np.allclose(proba.sum(axis=1), 1, atol=1e-5)
    assert clf.score(x, y) == pytest.approx(np.mean(clf.predict(x) == y), abs=1e-6)


def test_categorical_crossentropy_gets_one_hot_targets_and_a_sigmoid_two_columns(rng):
    x, y = _data(rng)
    clf = KerasClassifier(build_fn=lambda: _classifier(loss="categorical_crossentropy"), epochs=1, verbose=0)
    clf.fit(x, y)
    assert 0 <= clf.score(x, y) <= 1

    def binary():
        model = Sequential([Dense(1, activation="sigmoid", input_dim=4)])
        model.compile("sgd", "binary_crossentropy")
        return model

    two = KerasClassifier(build_fn=binary, epochs=1, verbose=0)
    two.fit(x, (x[:, 0] > 0).astype(int))
    assert two.predict_proba(x[:3]).shape == (3, 2)
    with pytest.raises(ValueError, match="You should pass `metrics=.*accuracy"):
        two.score(x, (x[:, 0] > 0).astype(int))


def test_a_regressor_scores_the_negated_loss(rng):
    x = rng.normal(size=(40, 4)).astype("float32")
    y = x @ np.array([1.0, -2.0, 0.5, 0.0], "float32")

    def build(units=4):
        model = Sequential([Dense(units, input_dim=4), Dense(1)])
        model.compile("adam", "mse")
        return model

    reg = KerasRegressor(build_fn=build, epochs=2, batch_size=8, verbose=0)
    scores = cross_val_score(reg, x, y, cv=2)
    assert scores.shape == (2,) and (scores <= 0).all()
    reg.fit(x, y)
    assert reg.predict(x[:4]).shape == (4,)
    assert reg.score(x, y) == pytest.approx(-float(reg.model.evaluate(x, y, verbose=0)), rel=1e-6)


def test_parameters_are_checked_and_settable():
    with pytest.raises(ValueError, match="epochz is not a legal parameter"):
        KerasClassifier(build_fn=_classifier, epochz=3)
    clf = KerasClassifier(build_fn=_classifier, epochs=2)
    assert clf.get_params() == {"build_fn": _classifier, "epochs": 2}
    assert clf.set_params(hidden=5, batch_size=4).get_params()["hidden"] == 5
    with pytest.raises(ValueError, match="Invalid shape for y"):
        clf.fit(np.zeros((2, 4)), np.zeros((2, 1, 1)))
