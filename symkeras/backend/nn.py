"""Keras 2 backend activations, losses, dropout, random tensors and learning-phase switches."""

from __future__ import annotations

from symkeras import config
from symkeras.backend.math_ops import switch
from symkeras.backend.state import learning_phase
from symkeras.graph import dtypes, ops, shapes
from symkeras.graph.basic import Tensor
from symkeras.graph.ops.shape import expand_dims_many


def _t(x) -> Tensor:
    (x,) = ops.operands(x)
    return x


def relu(x, alpha=0.0, max_value=None, threshold=0.0) -> Tensor:
    return ops.relu(x, alpha, max_value, threshold)


def elu(x, alpha=1.0) -> Tensor:
    return ops.elu(x, alpha)


def selu(x) -> Tensor:
    return ops.selu(x)


def softmax(x, axis=-1) -> Tensor:
    return ops.softmax(x, axis)


def log_softmax(x, axis=-1) -> Tensor:
    return ops.log_softmax(x, axis)


def softplus(x) -> Tensor:
    return ops.softplus(x)


def softsign(x) -> Tensor:
    return ops.softsign(x)


def sigmoid(x) -> Tensor:
    return ops.sigmoid(x)


def hard_sigmoid(x) -> Tensor:
    return ops.hard_sigmoid(x)


def tanh(x) -> Tensor:
    return ops.tanh(x)


def l2_normalize(x, axis=None) -> Tensor:
    return ops.l2_normalize(x, axis)


# --- losses ---------------------------------------------------------------------

def categorical_crossentropy(target, output, from_logits=False, axis=-1) -> Tensor:
    """Cross-entropy between one-hot (or soft) targets and probabilities (or logits).

    Probabilities are renormalized along ``axis`` and clipped to
    [epsilon, 1 - epsilon], as in Keras 2.
    """
    target, output = ops.operands(target, output)
    axis = shapes.normalize_axis(axis, output.ndim)
    if from_logits:
        return -ops.reduce_sum(target * ops.log_softmax(output, axis), axis)
    output = output / ops.reduce_sum(output, axis, keepdims=True)
    eps = config.epsilon()
    output = ops.clip(output, eps, 1.0 - eps)
    return -ops.reduce_sum(target * ops.log(output), axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1) -> Tensor:
    """Cross-entropy with integer class targets, shaped like ``output`` without its class axis
    (a trailing axis of size 1 is accepted)."""
    target, output = ops.operands(target, output)
    axis = shapes.normalize_axis(axis, output.ndim)
    if axis != output.ndim - 1:
        perm = [i for i in range(output.ndim) if i != axis] + [axis]
        output = ops.transpose(output, perm)
    if from_logits:
        log_probs = ops.log_softmax(output)
    else:
        eps = config.epsilon()
        log_probs = ops.log_softmax(ops.log(ops.clip(output, eps, 1.0 - eps)))
    if target.ndim == output.ndim:
        target = ops.squeeze(target, -1)
    if target.ndim != output.ndim - 1:
        raise ValueError(f"sparse_categorical_crossentropy: targets of shape {target.shape} do not fit "
                         f"outputs of shape {output.shape}.")
    if not dtypes.is_int(target.dtype):
        target = ops.cast(target, "int64")
    n_classes = output.shape[-1]
    if n_classes is None:
        raise ValueError("sparse_categorical_crossentropy needs a static number of classes.")
    picked = ops.one_hot(target, n_classes, log_probs.dtype) * log_probs
    return -ops.reduce_sum(picked, -1)


def binary_crossentropy(target, output, from_logits=False) -> Tensor:
    """Elementwise binary cross-entropy; probabilities are clipped to [epsilon, 1 - epsilon]."""
    target, output = ops.operands(target, output)
    if not from_logits:
        eps = config.epsilon()
        output = ops.clip(output, eps, 1.0 - eps)
        output = ops.log(output / (1.0 - output))
    # max(x, 0) - x * z + log(1 + exp(-|x|)): stable for logits of any size
    return ops.relu(output) - output * target + ops.log1p(ops.exp(-ops.abs_(output)))


# --- randomness ------------------------------------------------------------------

def _shape_args(shape):
    """A shape tuple, or a symbolic shape tensor (K.shape(x)) -> (shape, like)."""
    if isinstance(shape, Tensor):
        owner = shape.owner
        if owner is not None and isinstance(owner.op, ops.Shape):
            return owner.inputs[0].shape, owner.inputs[0]
        raise ValueError("A symbolic shape must come from K.shape(x).")
    return shape, None


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    shape, like = _shape_args(shape)
    return ops.random_normal(shape, mean, stddev, dtype, seed, like)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None) -> Tensor:
    shape, like = _shape_args(shape)
    return ops.random_uniform(shape, minval, maxval, dtype, seed, like)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None) -> Tensor:
    shape, like = _shape_args(shape)
    return ops.truncated_normal(shape, mean, stddev, dtype, seed, like)


def random_binomial(shape, p=0.0, dtype=None, seed=None) -> Tensor:
    shape, like = _shape_args(shape)
    return ops.random_binomial(shape, p, dtype, seed, like)


def dropout(x, level, noise_shape=None, seed=None) -> Tensor:
    """Zero entries with probability ``level`` and scale the rest by 1 / (1 - level).

    ``noise_shape`` may hold None for sizes taken from x (e.g. (None, 1, features)).
    """
    x = _t(x)
    if not 0.0 <= level < 1.0:
        raise ValueError(f"Dropout level must be in [0, 1); got {level}.")
    retain = 1.0 - level
    shape = x.shape if noise_shape is None else tuple(noise_shape)
    if len(shape) != x.ndim:
        raise ValueError(f"noise_shape {shape} must have the rank of the input {x.shape}.")
    shape = tuple(None if s is None else int(s) for s in shape)
    mask = ops.random_binomial(shape, retain, x.dtype, seed, like=x if None in shape else None)
    return x * mask / retain


# --- learning phase --------------------------------------------------------------

def in_train_phase(x, alt, training=None):
    """``x`` in the training phase, ``alt`` otherwise (either may be a callable)."""
    if training is None:
        training = learning_phase()
    if isinstance(training, Tensor):
        return switch(training, x, alt)
    if training in (1, True):
        return x() if callable(x) else x
    return alt() if callable(alt) else alt


def in_test_phase(x, alt, training=None):
    return in_train_phase(alt, x, training=training)


def _along(t, axis: int, ndim: int):
    """A rank-1 statistic reshaped to broadcast along ``axis`` of a rank-``ndim`` tensor."""
    if t is None or ndim <= 1 or _t(t).ndim != 1 or axis == ndim - 1:
        return t
    return expand_dims_many(_t(t), tuple(a for a in range(ndim) if a != axis))


def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=1e-3) -> Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` (Keras 2's K.batch_normalization).

    Args:
        x: the input tensor.
        mean, var: the statistics, broadcastable to ``x``; rank-1 ones are
            taken along ``axis``.
        beta, gamma: offset and scale (None: none).
        axis: the feature axis of rank-1 statistics.
        epsilon: added to the variance.

    Returns:
        The normalized tensor, of x's shape.
    """
    x = _t(x)
    axis = shapes.normalize_axis(axis, x.ndim)
    mean, var, beta, gamma = (_along(t, axis, x.ndim) for t in (mean, var, beta, gamma))
    out = (x - mean) / ops.sqrt(var + epsilon)
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return out


def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=1e-3):
    """Normalizes ``x`` with the mean and variance of the batch (Keras 2's K.normalize_batch_in_training).

    The statistics come from one Moments node (two outputs: one kernel
    computes both).

    Args:
        x: the input tensor.
        gamma, beta: scale and offset of the kept axes' shape (None: none).
        reduction_axes: the axes the statistics are taken over.
        epsilon: added to the variance.

    Returns:
        ``(normalized, mean, variance)``; mean and variance have the shape of
        the axes not reduced (the population variance, as Keras 2).
    """
    x = _t(x)
    axes = shapes.normalize_axes(reduction_axes, x.ndim)
    mean, var = ops.moments(x, axes)
    kept = [a for a in range(x.ndim) if a not in axes]

    def broadcast(t):
        return None if t is None else expand_dims_many(_t(t), axes)

    if len(kept) == 1:
        normed = batch_normalization(x, mean, var, beta, gamma, axis=kept[0], epsilon=epsilon)
    else:
        normed = batch_normalization(x, broadcast(mean), broadcast(var), broadcast(beta), broadcast(gamma),
                                     epsilon=epsilon)
    return normed, mean, var
