"""to_categorical and normalize (NumPy helpers of Keras 2)."""

from __future__ import annotations

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """Class indices (any shape) -> one-hot rows: shape ``y.shape + (num_classes,)`` (a trailing 1 dropped)."""
    y = np.array(y, dtype="int")
    input_shape = y.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    y = y.ravel()
    if num_classes is None:
        num_classes = int(np.max(y)) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"to_categorical: class indices must lie in [0, {num_classes}); got values from "
                         f"{y.min()} to {y.max()}.")
    categorical = np.zeros((y.shape[0], num_classes), dtype=dtype)
    categorical[np.arange(y.shape[0]), y] = 1
    return categorical.reshape(input_shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """``x`` scaled to unit ``order``-norm along ``axis`` (zero rows stay zero)."""
    norms = np.atleast_1d(np.linalg.norm(x, order, axis))
    norms[norms == 0] = 1
    return x / np.expand_dims(norms, axis)
