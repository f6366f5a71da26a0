"""Keras 2 activations: functions of a symbolic tensor, found by name with ``get``."""

from __future__ import annotations

import symkeras.backend as K
from symkeras.utils.generic_utils import deserialize_object


def softmax(x, axis=-1):
    """Softmax over ``axis`` (the last one by default); a 1-D tensor is refused as in Keras 2."""
    if K.ndim(x) == 1:
        raise ValueError("Cannot apply softmax to a tensor that is 1D.")
    return K.softmax(x, axis=axis)


def elu(x, alpha=1.0):
    return K.elu(x, alpha)


def selu(x):
    return K.selu(x)


def softplus(x):
    return K.softplus(x)


def softsign(x):
    return K.softsign(x)


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    return K.relu(x, alpha=alpha, max_value=max_value, threshold=threshold)


def tanh(x):
    return K.tanh(x)


def sigmoid(x):
    return K.sigmoid(x)


def hard_sigmoid(x):
    return K.hard_sigmoid(x)


def exponential(x):
    return K.exp(x)


def linear(x):
    return x


def serialize(activation) -> str:
    return getattr(activation, "__name__", activation)


def deserialize(name, custom_objects=None):
    return deserialize_object(name, _BY_NAME, custom_objects, kind="activation function")


def get(identifier):
    """None -> linear, a name -> that activation, a callable -> itself."""
    if identifier is None:
        return linear
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}")


_BY_NAME = {f.__name__: f for f in (softmax, elu, selu, softplus, softsign, relu, tanh, sigmoid, hard_sigmoid,
                                    exponential, linear)}
