"""Keras 2 backend math and tensor-manipulation functions, as thin wrappers over graph ops."""

from __future__ import annotations

import builtins

import numpy as np

from symkeras import config
from symkeras.graph import dtypes, ops, shapes
from symkeras.graph.basic import Tensor, constant


def _t(x) -> Tensor:
    (x,) = ops.operands(x)
    return x


def _float(x) -> Tensor:
    x = _t(x)
    return x if dtypes.is_float(x.dtype) else ops.cast(x, config.floatx())


# --- reductions -----------------------------------------------------------------

def sum(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    return ops.reduce_sum(x, axis, keepdims)


def prod(x, axis=None, keepdims=False) -> Tensor:
    return ops.reduce_prod(x, axis, keepdims)


def mean(x, axis=None, keepdims=False) -> Tensor:
    return ops.reduce_mean(_float(x), axis, keepdims)


def max(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    return ops.reduce_max(x, axis, keepdims)


def min(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    return ops.reduce_min(x, axis, keepdims)


def var(x, axis=None, keepdims=False) -> Tensor:
    return ops.reduce_var(_float(x), axis, keepdims)


def std(x, axis=None, keepdims=False) -> Tensor:
    return ops.reduce_std(_float(x), axis, keepdims)


def any(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    return ops.reduce_any(ops.cast(x, "bool"), axis, keepdims)


def all(x, axis=None, keepdims=False) -> Tensor:  # noqa: A001
    return ops.reduce_all(ops.cast(x, "bool"), axis, keepdims)


def argmax(x, axis=-1) -> Tensor:
    return ops.argmax(x, axis)


def argmin(x, axis=-1) -> Tensor:
    return ops.argmin(x, axis)


def logsumexp(x, axis=None, keepdims=False) -> Tensor:
    return ops.logsumexp(_float(x), axis, keepdims)


def cumsum(x, axis=0) -> Tensor:
    """Cumulative sum, as a product with a triangular constant (exact gradient for free)."""
    x = _t(x)
    axis = shapes.normalize_axis(axis, x.ndim)
    n = x.shape[axis]
    if n is None:
        raise ValueError(f"cumsum needs a static size along axis {axis}; shape is {x.shape}.")
    tri = constant(np.triu(np.ones((n, n))), dtype=x.dtype)
    moved = ops.tensordot(x, tri, (axis, 0))
    perm = list(range(x.ndim - 1))
    perm.insert(axis, x.ndim - 1)
    return ops.transpose(moved, perm)


# --- elementwise -------------------------------------------------------------------

def square(x) -> Tensor:
    return ops.square(x)


def abs(x) -> Tensor:  # noqa: A001
    return ops.abs_(x)


def sqrt(x) -> Tensor:
    """sqrt of x clipped at 0 from below, as Keras 2's TF backend."""
    return ops.sqrt(ops.clip(_t(x), 0.0, np.inf))


def exp(x) -> Tensor:
    return ops.exp(x)


def log(x) -> Tensor:
    return ops.log(x)


def log1p(x) -> Tensor:
    return ops.log1p(x)


def expm1(x) -> Tensor:
    return ops.expm1(x)


def round(x) -> Tensor:  # noqa: A001
    return ops.round_(x)


def sign(x) -> Tensor:
    return ops.sign(x)


def pow(x, a) -> Tensor:  # noqa: A001
    return ops.power(x, a)


def clip(x, min_value, max_value) -> Tensor:
    if max_value is None:
        max_value = np.inf
    if min_value is None:
        min_value = -np.inf
    return ops.clip(x, min_value, max_value)


def equal(x, y) -> Tensor:
    return ops.equal(x, y)


def not_equal(x, y) -> Tensor:
    return ops.not_equal(x, y)


def greater(x, y) -> Tensor:
    return ops.greater(x, y)


def greater_equal(x, y) -> Tensor:
    return ops.greater_equal(x, y)


def less(x, y) -> Tensor:
    return ops.less(x, y)


def less_equal(x, y) -> Tensor:
    return ops.less_equal(x, y)


def maximum(x, y) -> Tensor:
    return ops.maximum(x, y)


def minimum(x, y) -> Tensor:
    return ops.minimum(x, y)


def sin(x) -> Tensor:
    return ops.sin(x)


def cos(x) -> Tensor:
    return ops.cos(x)


def cast(x, dtype) -> Tensor:
    return ops.cast(x, dtype)


def stop_gradient(variables):
    """Block gradients through a tensor (or each tensor of a list)."""
    if isinstance(variables, (list, tuple)):
        return [ops.stop_gradient(v) for v in variables]
    return ops.stop_gradient(variables)


# --- linear algebra ---------------------------------------------------------------

def dot(x, y) -> Tensor:
    """Keras K.dot: an nD x nD product contracting x's last axis and y's second-to-last."""
    return ops.dot(x, y)


def batch_dot(x, y, axes=None) -> Tensor:
    return ops.batch_dot(x, y, axes)


def transpose(x) -> Tensor:
    return ops.transpose(x)


# --- shapes ------------------------------------------------------------------------

def reshape(x, shape) -> Tensor:
    return ops.reshape(x, shape)


def permute_dimensions(x, pattern) -> Tensor:
    return ops.transpose(x, tuple(pattern))


def flatten(x) -> Tensor:
    return ops.flatten(x, 1)


def batch_flatten(x) -> Tensor:
    """(batch, ...) -> (batch, product of the rest)."""
    return ops.flatten(x, 2)


def expand_dims(x, axis=-1) -> Tensor:
    return ops.expand_dims(x, axis)


def squeeze(x, axis) -> Tensor:
    return ops.squeeze(x, axis)


def concatenate(tensors, axis=-1) -> Tensor:
    return ops.concatenate(tensors, axis)


def stack(x, axis=0) -> Tensor:
    return ops.stack(x, axis)


def tile(x, n) -> Tensor:
    return ops.tile(x, n)


def repeat_elements(x, rep, axis) -> Tensor:
    return ops.repeat_elements(x, rep, axis)


def repeat(x, n) -> Tensor:
    """(batch, dim) -> (batch, n, dim)."""
    x = _t(x)
    if x.ndim != 2:
        raise ValueError(f"repeat needs a 2D tensor; got shape {x.shape}.")
    return ops.tile(ops.expand_dims(x, 1), (1, n, 1))


def reverse(x, axes) -> Tensor:
    x = _t(x)
    axes = shapes.normalize_axes(axes, x.ndim)
    index = tuple(builtins.slice(None, None, -1) if i in axes else builtins.slice(None) for i in range(x.ndim))
    return x[index]


def slice(x, start, size) -> Tensor:  # noqa: A001
    """x[start[i] : start[i] + size[i]] on each axis (size -1 runs to the end)."""
    x = _t(x)
    index = tuple(
        builtins.slice(b, None if s == -1 else b + s) for b, s in zip(start, size)
    )
    return x[index]


def gather(reference, indices) -> Tensor:
    return ops.gather(reference, indices)


def one_hot(indices, num_classes) -> Tensor:
    indices = _t(indices)
    if not dtypes.is_int(indices.dtype):
        indices = ops.cast(indices, "int64")
    return ops.one_hot(indices, num_classes, config.floatx())


def arange(start, stop=None, step=1, dtype="int32") -> Tensor:
    return constant(np.arange(start, stop, step), dtype=dtype)


def temporal_padding(x, padding=(1, 1)) -> Tensor:
    """Pad axis 1 of a 3D tensor."""
    x = _t(x)
    return ops.pad(x, ((0, 0), tuple(padding), (0, 0)))


def _data_format(data_format):
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Unknown data_format: {data_format!r}.")
    return data_format


def spatial_2d_padding(x, padding=((1, 1), (1, 1)), data_format=None) -> Tensor:
    x = _t(x)
    pads = [tuple(p) for p in padding]
    if _data_format(data_format) == "channels_first":
        return ops.pad(x, [(0, 0), (0, 0)] + pads)
    return ops.pad(x, [(0, 0)] + pads + [(0, 0)])


def spatial_3d_padding(x, padding=((1, 1), (1, 1), (1, 1)), data_format=None) -> Tensor:
    x = _t(x)
    pads = [tuple(p) for p in padding]
    if _data_format(data_format) == "channels_first":
        return ops.pad(x, [(0, 0), (0, 0)] + pads)
    return ops.pad(x, [(0, 0)] + pads + [(0, 0)])


def bias_add(x, bias, data_format=None) -> Tensor:
    """Add a bias along the channel axis (last for channels_last)."""
    x, bias = ops.operands(x, bias)
    if bias.ndim != 1 and bias.ndim != x.ndim - 1:
        raise ValueError(f"Unexpected bias dimensions {bias.ndim}; expected 1 or {x.ndim - 1}.")
    if _data_format(data_format) == "channels_first" and x.ndim > 2:
        if bias.ndim == 1:
            shape = (1, bias.shape[0]) + (1,) * (x.ndim - 2)
        else:
            shape = (1, bias.shape[-1]) + bias.shape[:-1]
            bias = ops.transpose(bias, (bias.ndim - 1,) + tuple(range(bias.ndim - 1)))
        return x + ops.reshape(bias, shape)
    if bias.ndim == 1:
        return x + bias
    return x + ops.expand_dims(bias, 0)


def switch(condition, then_expression, else_expression) -> Tensor:
    """``then`` where ``condition`` holds, else ``else``; callables are called.

    A condition of lower rank than the branches is broadcast over their
    trailing axes, as in Keras 2.
    """
    if callable(then_expression):
        then_expression = then_expression()
    if callable(else_expression):
        else_expression = else_expression()
    cond = _t(condition)
    then_t, else_t = ops.operands(then_expression, else_expression)
    rank = builtins.max(then_t.ndim, else_t.ndim)
    if 0 < cond.ndim < rank:
        for _ in range(rank - cond.ndim):
            cond = ops.expand_dims(cond, -1)
    return ops.where(cond, then_t, else_t)
