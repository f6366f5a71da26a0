"""Bad input at every public entry point (issue 13): each case a ValueError or TypeError whose message names
what is wrong; none crashes; the model's weights are unchanged after each."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.layers import Concatenate, Conv2D, Dense, Input
from symkeras.models import Model, load_model
from symkeras.utils import Sequence

XA = np.ones((4, 3), "float32")
XB = np.ones((4, 2), "float32")
Y = np.ones((4, 2), "float32")


class _Batches(Sequence):
    def __len__(self):
        return 2

    def __getitem__(self, i):
        return [XA, XB], Y


def _model():
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    model = Model([a, b], Dense(2, name="out")(Concatenate()([a, Dense(3, name="mix")(b)])))
    model.compile("sgd", "mse")
    return model


def _function(m):
    return K.function(m.inputs, m.outputs)


CASES = [
    # (name, call(model), error type, message fragment)
    ("strings", lambda m: m.fit([np.array([["a"] * 3] * 4), XB], Y, verbose=0), TypeError,
     "Input 'a' of function 'train_function' expects numeric data of dtype float32; got an array of dtype <U1"),
    ("objects", lambda m: m.predict([np.array([[object()] * 3] * 4, dtype=object), XB]), TypeError,
     "got an array of dtype object"),
    ("complex", lambda m: m.evaluate([XA.astype(complex), XB], Y, verbose=0), TypeError,
     "got an array of dtype complex128"),
    ("nan input", lambda m: m.fit([XA * np.nan, XB], Y, verbose=0), ValueError,
     r"input: a holds NaN or Inf \(first at index \(0, 0\), value nan\)"),
    ("inf target", lambda m: m.train_on_batch([XA, XB], Y * np.inf), ValueError, "target: out holds NaN or Inf"),
    ("nan predict", lambda m: m.predict_on_batch([XA, XB * np.nan]), ValueError, "input: b holds NaN or Inf"),
    ("wrong rank", lambda m: m.fit([XA[:, :, None], XB], Y, verbose=0), ValueError,
     r"expected a to have 2 dimensions, but got array with shape \(4, 3, 1\)"),
    ("wrong width", lambda m: m.predict([np.ones((4, 5), "float32"), XB]), ValueError,
     r"expected a to have shape \(3,\) but got array with shape \(5,\)"),
    ("too few inputs", lambda m: m.fit([XA], Y, verbose=0), ValueError, "not the size the model expected"),
    ("too many inputs", lambda m: m.predict([XA, XB, XB]), ValueError, "not the size the model expected"),
    ("missing dict key", lambda m: m.fit({"a": XA, "c": XB}, Y, verbose=0), ValueError, 'No data provided for "b"'),
    ("mismatched samples", lambda m: m.fit([XA, XB[:3]], Y, verbose=0), ValueError,
     "should have the same number of samples"),
    ("target width", lambda m: m.train_on_batch([XA, XB], np.ones((4, 3), "float32")), ValueError,
     r"A target array with shape \(4, 3\) was passed for an output of shape \(None, 2\)"),
    ("empty fit", lambda m: m.fit([XA[:0], XB[:0]], Y[:0], verbose=0), ValueError, "fit: the data has 0 samples"),
    ("batch_size 0", lambda m: m.fit([XA, XB], Y, batch_size=0, verbose=0), ValueError,
     "batch_size must be a positive integer; got 0"),
    ("batch_size float", lambda m: m.predict([XA, XB], batch_size=2.5), TypeError, "batch_size must be an integer"),
    ("sample_weight length", lambda m: m.fit([XA, XB], Y, sample_weight=np.ones(3), verbose=0), ValueError,
     r"sample_weight array with shape \(3,\)"),
    ("unknown fit argument", lambda m: m.fit([XA, XB], Y, verbose=0, bogus=1), TypeError, "bogus"),
    ("unknown predict argument", lambda m: m.predict([XA, XB], bogus=1), TypeError, "bogus"),
    ("fit_generator steps", lambda m: m.fit_generator(_Batches(), steps_per_epoch=-1, verbose=0), ValueError,
     "steps_per_epoch must be a positive integer; got -1"),
    ("predict_generator steps", lambda m: m.predict_generator(_Batches(), steps=0), ValueError,
     "steps must be a positive integer; got 0"),
    ("evaluate_generator steps", lambda m: m.evaluate_generator(_Batches(), steps=1.5), TypeError,
     "steps must be an integer"),
    ("set_weights count", lambda m: m.set_weights(m.get_weights()[:2]), ValueError, "with a weight list of length 2"),
    ("set_weights shape", lambda m: m.set_weights([w.T for w in m.get_weights()]), ValueError,
     "not compatible with provided weight shape"),
    ("compile loss", lambda m: m.compile("sgd", "nope"), ValueError, "Unknown loss function: nope"),
    ("compile optimizer", lambda m: m.compile("nope", "mse"), ValueError, "Unknown optimizer: nope"),
    ("compile argument", lambda m: m.compile("sgd", "mse", bogus=1), TypeError, "bogus"),
    ("K.function count", lambda m: _function(m)([XA]), ValueError, r"takes 2 input\(s\) \(a, b\); got 1"),
    ("K.function dtype", lambda m: _function(m)([np.array([["s"] * 3]), XB]), TypeError,
     "expects numeric data of dtype float32"),
    ("K.function option", lambda m: K.function(m.inputs, m.outputs, bogus=1), ValueError,
     "Invalid argument"),
    ("Dense units", lambda m: Dense("x"), TypeError, "units must be a positive integer; got 'x'"),
    ("Dense negative", lambda m: Dense(-1), ValueError, "needs a positive number of units; got -1"),
    ("layer argument", lambda m: Dense(3, bogus=2), TypeError, "Keyword argument not understood: 'bogus'"),
    ("layer rank", lambda m: Conv2D(2, 3)(Input(shape=(3,))), ValueError, "expects an input of rank 4"),
    ("load_model path", lambda m: load_model("/nonexistent/model.h5"), FileNotFoundError, "No such file"),
    ("load_weights file", lambda m: m.load_weights(__file__), ValueError, "is not a readable HDF5 file"),
]


@pytest.mark.parametrize("name,call,error,message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_clear_error_and_changes_nothing(name, call, error, message):
    model = _model()
    before = model.get_weights()
    with pytest.raises(error, match=message):
        call(model)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
