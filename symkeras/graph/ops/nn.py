"""Neural-network ops: softmax, log_softmax, gather (embeddings), one_hot, l2_normalize."""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor, as_tensor, constant
from symkeras.graph.ops import elemwise as ew
from symkeras.graph.ops.broadcast import broadcast_like
from symkeras.graph.ops.reduce import reduce_sum


class Softmax(Op):
    __props__ = ("axis",)
    nin = 1

    def __init__(self, axis):
        self.axis = int(axis)

    def infer(self, inputs):
        (x,) = inputs
        return dtypes.float_of(x.dtype), x.shape

    def perform(self, inputs, rng=None):
        (x,) = inputs
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        return e / np.sum(e, axis=self.axis, keepdims=True)

    def grad(self, inputs, out, gz):
        inner = broadcast_like(reduce_sum(gz * out, self.axis, keepdims=True), out)
        return [out * (gz - inner)]


class LogSoftmax(Op):
    __props__ = ("axis",)
    nin = 1

    def __init__(self, axis):
        self.axis = int(axis)

    def infer(self, inputs):
        (x,) = inputs
        return dtypes.float_of(x.dtype), x.shape

    def perform(self, inputs, rng=None):
        (x,) = inputs
        shifted = x - np.max(x, axis=self.axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=self.axis, keepdims=True))

    def grad(self, inputs, out, gz):
        total = broadcast_like(reduce_sum(gz, self.axis, keepdims=True), out)
        return [gz - ew.exp(out) * total]


class Gather(Op):
    """``reference[indices]`` along axis 0 (Embedding lookups).

    Negative indices count from the end unless ``strict``: then every index
    must lie in ``[0, rows)`` (Embedding), and one outside is a ValueError.
    """

    __props__ = ("strict",)
    nin = 2

    def __init__(self, strict=False):
        self.strict = bool(strict)

    def infer(self, inputs):
        ref, idx = inputs
        if not dtypes.is_int(idx.dtype):
            raise TypeError(f"gather indices must be integers; got {idx.dtype}.")
        if ref.ndim == 0:
            raise ValueError("gather needs a reference tensor of rank >= 1.")
        return ref.dtype, idx.shape + ref.shape[1:]

    def perform(self, inputs, rng=None):
        ref, idx = inputs
        n = ref.shape[0]
        low = 0 if self.strict else -n
        if idx.size and (idx.min() < low or idx.max() >= n):
            bad = idx[(idx < low) | (idx >= n)].flat[0]
            if self.strict:
                raise ValueError(f"index {bad} is outside [0, {n}) (the rows of the table)")
            raise IndexError(f"gather index {bad} is out of range for a reference of {n} rows.")
        return np.take(ref, idx, axis=0)

    def grad(self, inputs, out, gz):
        ref, idx = inputs
        return [GatherGrad()(gz, idx, ref), None]


class GatherGrad(Op):
    """Scatter-add ``g`` into zeros shaped like ``ref`` at ``indices`` (the adjoint of Gather)."""

    nin = 3

    def infer(self, inputs):
        g, idx, ref = inputs
        return g.dtype, ref.shape

    def perform(self, inputs, rng=None):
        g, idx, ref = inputs
        out = np.zeros(ref.shape, dtype=g.dtype)
        np.add.at(out, idx, g)
        return out

    def grad(self, inputs, out, gz):
        g, idx, ref = inputs
        return [Gather()(gz, idx), None, None]


class OneHot(Op):
    """One-hot encoding along a new last axis; out-of-range indices give all-zero rows."""

    __props__ = ("num_classes", "dtype")
    nin = 1
    differentiable = False

    def __init__(self, num_classes, dtype):
        self.num_classes = int(num_classes)
        self.dtype = dtypes.normalize(dtype)

    def infer(self, inputs):
        (idx,) = inputs
        if not dtypes.is_int(idx.dtype):
            raise TypeError(f"one_hot needs integer indices; got {idx.dtype}.")
        return self.dtype, idx.shape + (self.num_classes,)

    def perform(self, inputs, rng=None):
        (idx,) = inputs
        return (idx[..., None] == np.arange(self.num_classes)).astype(self.dtype)


def softmax(x, axis=-1) -> Tensor:
    (x,) = ew.operands(x)
    return Softmax(shapes.normalize_axis(axis, x.ndim))(x)


def log_softmax(x, axis=-1) -> Tensor:
    (x,) = ew.operands(x)
    return LogSoftmax(shapes.normalize_axis(axis, x.ndim))(x)


def gather(reference, indices) -> Tensor:
    reference = as_tensor(reference)
    if not isinstance(indices, Tensor):
        indices = constant(np.asarray(indices, dtype="int64"))
    return Gather()(reference, indices)


def one_hot(indices, num_classes, dtype=None) -> Tensor:
    indices = as_tensor(indices)
    return OneHot(num_classes, dtype)(indices)


def l2_normalize(x, axis=None, epsilon=1e-12) -> Tensor:
    """x / sqrt(max(sum(x**2, axis), epsilon)), as Keras 2."""
    (x,) = ew.operands(x)
    square_sum = reduce_sum(ew.square(x), axis, keepdims=True)
    return x / ew.sqrt(ew.maximum(square_sum, epsilon))
