"""Keras 2 metrics: ``metric(y_true, y_pred)`` -> per-sample tensor, averaged over batches by fit."""

from __future__ import annotations

import symkeras.backend as K
from symkeras.losses import (  # noqa: F401  (metrics by the losses' names)
    MAE,
    MAPE,
    MSE,
    MSLE,
    binary_crossentropy,
    categorical_crossentropy,
    cosine,
    cosine_proximity,
    hinge,
    kullback_leibler_divergence,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from symkeras.utils.generic_utils import deserialize_object


def binary_accuracy(y_true, y_pred):
    return K.mean(K.cast(K.equal(y_true, K.round(y_pred)), K.floatx()), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return K.cast(K.equal(K.argmax(y_true, axis=-1), K.argmax(y_pred, axis=-1)), K.floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    labels = K.cast(K.max(y_true, axis=-1), "int64")
    return K.cast(K.equal(labels, K.cast(K.argmax(y_pred, axis=-1), "int64")), K.floatx())


def _in_top_k(y_pred, labels, k):
    """Whether each row's label is among its k largest predictions (ties counted for the label)."""
    label_scores = K.sum(y_pred * K.one_hot(labels, K.int_shape(y_pred)[-1]), axis=-1)
    larger = K.sum(K.cast(K.greater(y_pred, K.expand_dims(label_scores, -1)), K.floatx()), axis=-1)
    return K.cast(K.less(larger, float(k)), K.floatx())


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return _in_top_k(y_pred, K.argmax(y_true, axis=-1), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    return _in_top_k(y_pred, K.cast(K.max(y_true, axis=-1), "int64"), k)


acc = accuracy = categorical_accuracy  # resolved per output by the model (see training)

_BY_NAME = {name: obj for name, obj in globals().items() if callable(obj) and not name.startswith("_")
            and name not in ("K", "deserialize_object", "annotations")}


def serialize(metric):
    return getattr(metric, "__name__", metric)


def deserialize(name, custom_objects=None):
    return deserialize_object(name, _BY_NAME, custom_objects, kind="metric function")


def get(identifier):
    if isinstance(identifier, (str, dict)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric function identifier: {identifier!r}")
