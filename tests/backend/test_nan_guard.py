"""The NaN guard (issue 13): per function (K.function(..., nan_guard=True)) or for every function
(SYMKERAS_NAN_GUARD=1), each node's float outputs are checked as the step runs; the first NaN or Inf is a
FloatingPointError naming the node, its op, its place and its Keras layer, on both backends alike, and no
update is applied."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.layers import Dense, Input, Lambda
from symkeras.models import Model


def _logs_model():
    x = Input(shape=(3,))
    h = Dense(4, name="hidden", kernel_initializer="ones", bias_initializer="zeros")(x)
    return x, Lambda(lambda t: K.log(t) * 2.0, name="logs")(h)


def test_the_first_node_producing_nan_is_named_with_its_layer(backend):
    x, y = _logs_model()
    guarded = K.function([x], [y], backend=backend, nan_guard=True)
    plain = K.function([x], [y], backend=backend)
    finite = np.array([[1.0, 2.0, 0.5]], "float32")
    np.testing.assert_allclose(guarded([finite])[0], plain([finite])[0], rtol=1e-6)
    negative = np.array([[1.0, -3.0, 0.5]], "float32")
    with np.errstate(invalid="ignore"):
        assert np.isnan(plain([negative])[0]).any()  # without the guard: NaN in the result, no error
        with pytest.raises(FloatingPointError, match=r"NaN guard: node \d+ of \d+ \(in run order\) of the optimized "
                                                     r"graph of function 'function' \(.*Log.*, from layer "
                                                     r"hidden \+ logs\) produced NaN or Inf in its output "
                                                     r"\(float32 \(None, 4\)\); f.debugprint\(\) shows it as "):
            guarded([negative])


def test_a_stopped_step_applies_no_update(backend):
    x = K.placeholder((None, 2))
    v = K.variable(np.ones((2,), "float32"), name="v")
    f = K.function([x], [K.sum(x)], updates=[K.update(v, v + K.log(K.sum(x, axis=0)))], backend=backend,
                   nan_guard=True)
    f([np.ones((3, 2), "float32")])
    np.testing.assert_allclose(K.get_value(v), 1.0 + np.log(3.0), rtol=1e-6)
    with np.errstate(invalid="ignore"), pytest.raises(FloatingPointError, match="NaN guard"):
        f([-np.ones((3, 2), "float32")])
    np.testing.assert_allclose(K.get_value(v), 1.0 + np.log(3.0), rtol=1e-6)


def test_the_environment_variable_guards_a_model_s_training(monkeypatch):
    monkeypatch.setenv("SYMKERAS_NAN_GUARD", "1")
    x, y = _logs_model()
    model = Model(x, y)
    model.compile("sgd", "mse")
    before = model.get_weights()
    with np.errstate(invalid="ignore"), \
            pytest.raises(FloatingPointError,
                          match=r"function 'train_function' \(Fused\{Add\|Log\}, from layer hidden \+ logs\)"):
        model.fit(np.array([[1.0, -5.0, 0.5]], "float32"), np.zeros((1, 4), "float32"), verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.train_function.nan_guard
    monkeypatch.delenv("SYMKERAS_NAN_GUARD")
    assert not K.function([x], [y]).nan_guard
