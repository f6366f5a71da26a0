"""Losses, metrics and optimizer steps against Keras 2 (tf-keras) numbers: tests/fixtures/keras2_models.npz,
made by tests/fixtures/make_keras2_model_fixtures.py from the cases in keras2_model_cases.py."""

import os

import numpy as np
import pytest
from fixtures.keras2_model_cases import (
    INITIAL_WEIGHTS,
    LOSS_INPUTS,
    LOSSES,
    METRICS,
    OPTIMIZERS,
    STEPS,
    TRAIN_X,
    TRAIN_Y,
)

import symkeras.backend as K
from symkeras import losses, metrics, optimizers
from symkeras.layers import Dense
from symkeras.models import Sequential

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_models.npz"))


def _evaluate(fn, inputs, **kwargs):
    y_true, y_pred = (K.constant(a) for a in LOSS_INPUTS[inputs])
    return K.function([], [fn(y_true, y_pred, **kwargs)])([])[0]


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_match_keras2(name, backend):
    np.testing.assert_allclose(_evaluate(losses.get(name), LOSSES[name]), FIXTURES[f"loss/{name}"],
                               rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metrics_match_keras2(name, backend):
    kwargs = {"k": 2} if "top_k" in name else {}
    got = _evaluate(getattr(metrics, name), METRICS[name], **kwargs)
    # (tf-keras keeps a trailing axis of 1 on the sparse top-k result: the per-sample values are compared)
    np.testing.assert_allclose(got, FIXTURES[f"metric/{name}"].reshape(got.shape), rtol=1e-6)


@pytest.mark.parametrize("case", sorted(OPTIMIZERS))
def test_optimizer_steps_match_keras2(case):
    class_name, arguments = OPTIMIZERS[case]
    model = Sequential([Dense(3, activation="tanh", input_shape=(4,)), Dense(2)])
    model.set_weights(INITIAL_WEIGHTS)
    model.compile(optimizer=getattr(optimizers, class_name)(**arguments), loss="mse")
    step_losses = [model.train_on_batch(TRAIN_X, TRAIN_Y) for _ in range(STEPS)]
    np.testing.assert_allclose(step_losses, FIXTURES[f"optimizer/{case}/losses"], rtol=1e-5)
    for i, weight in enumerate(model.get_weights()):
        np.testing.assert_allclose(weight, FIXTURES[f"optimizer/{case}/weight{i}"], rtol=1e-4, atol=1e-6)


def test_a_tf_keras_adagrad_config_keeps_its_initial_accumulator_value():
    """tf-keras writes initial_accumulator_value (its default 0.1): loading honours it, with no warning, so
    training continues as it would in tf-keras (the steps match the fixture's)."""
    import warnings

    config = {"class_name": "Adagrad", "config": {"name": "Adagrad", "learning_rate": 0.1, "decay": 0.0,
                                                  "initial_accumulator_value": 0.1, "epsilon": 1e-07}}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer = optimizers.deserialize(config)
    assert optimizer.initial_accumulator_value == 0.1
    assert optimizer.get_config()["initial_accumulator_value"] == 0.1
    model = Sequential([Dense(3, activation="tanh", input_shape=(4,)), Dense(2)])
    model.set_weights(INITIAL_WEIGHTS)
    model.compile(optimizer=optimizer, loss="mse")
    step_losses = [model.train_on_batch(TRAIN_X, TRAIN_Y) for _ in range(STEPS)]
    np.testing.assert_allclose(step_losses, FIXTURES["optimizer/adagrad_initial_accumulator/losses"], rtol=1e-5)
    with pytest.raises(ValueError, match="initial_accumulator_value must be >= 0; got -1"):
        optimizers.Adagrad(initial_accumulator_value=-1)
