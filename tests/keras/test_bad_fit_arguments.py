"""fit/evaluate/predict arguments and empty data (issue 13, defects 6 and 8): a ValueError or TypeError that
names the argument and what it accepts, raised before anything is trained; 0 samples predict to arrays of
the outputs' shapes and dtypes."""

import numpy as np
import pytest

from symkeras.layers import Conv1D, Dense, Input
from symkeras.models import Model, Sequential


@pytest.fixture
def model():
    m = Sequential([Dense(3, input_shape=(4,))])
    m.compile("sgd", "mse")
    return m


X = np.ones((10, 4), "float32")
Y = np.ones((10, 3), "float32")

BAD = [
    ("fit", dict(batch_size=-4), ValueError, "batch_size must be a positive integer; got -4"),
    ("fit", dict(batch_size=0), ValueError, "batch_size must be a positive integer; got 0"),
    ("fit", dict(batch_size=8.5), TypeError, "batch_size must be an integer; got 8.5"),
    ("fit", dict(batch_size=True), TypeError, "batch_size must be an integer; got True"),
    ("fit", dict(epochs=-1), ValueError, "epochs must be an integer >= 0; got -1"),
    ("fit", dict(epochs=2.5), TypeError, "epochs must be an integer; got 2.5"),
    ("fit", dict(steps_per_epoch=0), ValueError, "steps_per_epoch must be a positive integer"),
    ("fit", dict(validation_split=0.99), ValueError, "validation_split=0.99 leaves no training samples of the 10"),
    ("fit", dict(validation_split=1.5), ValueError, r"validation_split must be a number in \[0, 1\); got 1.5"),
    ("fit", dict(validation_split="0.2"), ValueError, "validation_split must be a number"),
    ("evaluate", dict(batch_size=0), ValueError, "batch_size must be a positive integer"),
    ("evaluate", dict(steps=-1), ValueError, "steps must be a positive integer"),
    ("predict", dict(batch_size=-2), ValueError, "batch_size must be a positive integer"),
    ("predict", dict(batch_size="32"), TypeError, "batch_size must be an integer; got '32'"),
]


@pytest.mark.parametrize("method,kwargs,error,message", BAD, ids=[f"{m}-{list(k)[0]}={list(k.values())[0]!r}"
                                                                  for m, k, _, _ in BAD])
def test_bad_arguments_are_clear_errors_and_change_nothing(model, method, kwargs, error, message):
    before = model.get_weights()
    args = (X,) if method == "predict" else (X, Y)
    extra = {} if method == "predict" else {"verbose": 0}
    with pytest.raises(error, match=message):
        getattr(model, method)(*args, **kwargs, **extra)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_no_data_is_a_value_error_naming_the_method(model):
    for method, call in [("fit", lambda: model.fit(None, Y, verbose=0)), ("predict", lambda: model.predict(None)),
                         ("evaluate", lambda: model.evaluate(None, Y, verbose=0)),
                         ("train_on_batch", lambda: model.train_on_batch(None, Y)),
                         ("predict_on_batch", lambda: model.predict_on_batch(None))]:
        with pytest.raises(ValueError, match=rf"{method}: no input data \(x is None\)"):
            call()
    with pytest.raises(ValueError, match="fit: the data has 0 samples; there is nothing to train on"):
        model.fit(X[:0], Y[:0], verbose=0)
    with pytest.raises(ValueError, match="evaluate: the data has 0 samples"):
        model.evaluate(X[:0], Y[:0], verbose=0)


def test_predicting_no_samples_gives_the_outputs_shapes_and_dtypes(model):
    out = model.predict(X[:0])
    assert out.shape == (0, 3) and out.dtype == np.float32
    inputs = Input(shape=(None, 2))  # a size known only at run time: the function runs on the empty batch
    two = Model(inputs, [Conv1D(5, 3)(inputs), Dense(1)(inputs)])
    first, second = two.predict(np.ones((0, 7, 2), "float32"))
    assert first.shape == (0, 5, 5) and second.shape == (0, 7, 1) and first.dtype == np.float32
