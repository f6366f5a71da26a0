"""Reductions over any axes, with keepdims; mean/var/std/logsumexp composed from them."""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor, constant
from symkeras.graph.ops import elemwise as ew
from symkeras.graph.ops.broadcast import broadcast_like


class _OverAxes:
    """Shapes of ops that reduce ``self.axis`` (sorted, non-negative), keeping them as size 1 with ``keepdims``."""

    axis: tuple
    keepdims: bool

    def out_shape(self, x: Tensor) -> tuple:
        if self.keepdims:
            return tuple(1 if i in self.axis else d for i, d in enumerate(x.shape))
        return tuple(d for i, d in enumerate(x.shape) if i not in self.axis)

    def expand(self, t: Tensor) -> Tensor:
        """Re-insert the reduced axes (as size 1) into a reduced result."""
        if self.keepdims or not self.axis:
            return t
        from symkeras.graph.ops.shape import expand_dims_many

        return expand_dims_many(t, self.axis)


class Reduce(_OverAxes, Op):
    """Base of reductions. ``axis`` is a sorted tuple of non-negative axes."""

    __props__ = ("axis", "keepdims")
    nin = 1

    def __init__(self, axis, keepdims=False):
        self.axis = tuple(int(a) for a in axis)
        self.keepdims = bool(keepdims)

    def infer(self, inputs):
        (x,) = inputs
        return self.out_dtype(x.dtype), self.out_shape(x)

    def out_dtype(self, dtype: str) -> str:
        return dtype

    def perform(self, inputs, rng=None):
        return self.fn(inputs[0], axis=self.axis, keepdims=self.keepdims)


class Sum(Reduce):
    reduction = "sum"
    fn = staticmethod(np.sum)

    def out_dtype(self, dtype):
        return "int64" if dtype == "bool" else dtype

    def grad(self, inputs, out, gz):
        return [broadcast_like(self.expand(gz), inputs[0])]


class Prod(Reduce):
    reduction = "prod"
    fn = staticmethod(np.prod)

    def grad(self, inputs, out, gz):
        (x,) = inputs
        others = ExclusiveProd(self.axis)(x)
        return [broadcast_like(self.expand(gz), x) * others]


def _groups_last(x: np.ndarray, axis: tuple):
    """Move the reduced axes last and flatten: (rows, group) plus the undo permutation."""
    rest = [i for i in range(x.ndim) if i not in axis]
    perm = rest + list(axis)
    moved = np.transpose(x, perm)
    return moved.reshape(-1, int(np.prod([x.shape[a] for a in axis], dtype=np.int64))), moved.shape, perm


def _exclusive_last(a: np.ndarray) -> np.ndarray:
    """Product of all other entries along the last axis, without dividing."""
    ones = np.ones(a.shape[:-1] + (1,), dtype=a.dtype)
    left = np.cumprod(np.concatenate([ones, a[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, a[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return left * right


class ExclusiveProd(Op):
    """For each element, the product of the other elements of its reduction group.

    Exact where the input holds zeros (unlike prod / x).  Used by Prod's gradient.
    """

    __props__ = ("axis",)
    nin = 1

    def __init__(self, axis):
        self.axis = tuple(int(a) for a in axis)

    def infer(self, inputs):
        return inputs[0].dtype, inputs[0].shape

    def perform(self, inputs, rng=None):
        (x,) = inputs
        flat, moved_shape, perm = _groups_last(x, self.axis)
        return np.transpose(_exclusive_last(flat).reshape(moved_shape), np.argsort(perm))

    def grad(self, inputs, out, gz):
        # VJP_j = sum_{k != j} gz_k * prod_{i != j, k} x_i.  Where x_j != 0 this is
        # (S - gz_j * out_j) / x_j with S the group sum of gz * out; at zeros the
        # exact (first-order only) op below takes over.
        (x,) = inputs
        group_sum = broadcast_like(Sum(self.axis, keepdims=True)(gz * out), x)
        is_zero = ew.equal(x, 0)
        fast = (group_sum - gz * out) / ew.where(is_zero, 1.0, x)
        return [ew.where(is_zero, ExclusiveProdGradAtZero(self.axis)(x, gz), fast)]


class ExclusiveProdGradAtZero(Op):
    """Exact VJP of ExclusiveProd, evaluated for groups holding a zero (elsewhere 0)."""

    __props__ = ("axis",)
    nin = 2
    differentiable = False

    def __init__(self, axis):
        self.axis = tuple(int(a) for a in axis)

    def infer(self, inputs):
        return inputs[0].dtype, inputs[0].shape

    def perform(self, inputs, rng=None):
        x, gz = inputs
        xf, moved_shape, perm = _groups_last(x, self.axis)
        gf, _, _ = _groups_last(np.broadcast_to(gz, x.shape), self.axis)
        result = np.zeros_like(xf)
        for j in range(xf.shape[-1]):
            rows = xf[:, j] == 0
            if not rows.any():
                continue
            y = xf[rows].copy()
            y[:, j] = 1
            others = _exclusive_last(y)
            others[:, j] = 0
            result[rows, j] = (gf[rows] * others).sum(axis=-1)
        return np.transpose(result.reshape(moved_shape), np.argsort(perm))


class Max(Reduce):
    reduction = "max"
    fn = staticmethod(np.max)

    def grad(self, inputs, out, gz):
        (x,) = inputs
        hit = ew.cast(ew.equal(x, broadcast_like(self.expand(out), x)), gz.dtype)
        return [broadcast_like(self.expand(gz), x) * hit]


class Min(Max):
    reduction = "min"
    fn = staticmethod(np.min)


class Any(Reduce):
    reduction = "any"
    differentiable = False
    fn = staticmethod(np.any)

    def out_dtype(self, dtype):
        return "bool"


class All(Any):
    reduction = "all"
    fn = staticmethod(np.all)


class _ArgReduce(Op):
    """Index of the max/min along one axis (int64)."""

    __props__ = ("axis", "keepdims")
    nin = 1
    differentiable = False

    def __init__(self, axis, keepdims=False):
        self.axis = int(axis)
        self.keepdims = bool(keepdims)

    def infer(self, inputs):
        (x,) = inputs
        shape = list(x.shape)
        if self.keepdims:
            shape[self.axis] = 1
        else:
            del shape[self.axis]
        return "int64", tuple(shape)

    def perform(self, inputs, rng=None):
        return self.fn(inputs[0], axis=self.axis, keepdims=self.keepdims)


class Argmax(_ArgReduce):
    fn = staticmethod(np.argmax)


class Argmin(_ArgReduce):
    fn = staticmethod(np.argmin)


class Moments(_OverAxes, Op):
    """Mean and population variance over ``axis``: one node with two outputs.

    BatchNormalization's batch statistics: one kernel reads the input twice
    (the mean, then the squared deviations from it), where a mean and a
    variance built from reductions take three kernels.  Outputs are
    floatx-typed for integer input.
    """

    __props__ = ("axis", "keepdims")
    nin = 1
    nout = 2

    def __init__(self, axis, keepdims=False):
        self.axis = tuple(sorted(int(a) for a in axis))
        self.keepdims = bool(keepdims)

    def infer(self, inputs):
        (x,) = inputs
        for a in self.axis:
            if not 0 <= a < x.ndim:
                raise ValueError(f"Moments over axis {a} of a tensor of rank {x.ndim}.")
        dtype = dtypes.float_of(x.dtype)
        shape = self.out_shape(x)
        return [(dtype, shape), (dtype, shape)]

    def perform(self, inputs, rng=None):
        (x,) = inputs
        x = x.astype(dtypes.float_of(x.dtype.name), copy=False)
        return (np.mean(x, axis=self.axis, keepdims=self.keepdims),
                np.var(x, axis=self.axis, keepdims=self.keepdims))

    def vjp(self, inputs, outputs, output_grads):
        (x,) = inputs
        mean, _ = outputs
        g_mean, g_var = output_grads
        n = count(x, self.axis)
        grad = None
        if g_mean is not None:
            grad = broadcast_like(self.expand(g_mean), x) / n
        if g_var is not None:
            centered = x - broadcast_like(self.expand(mean), x)
            term = broadcast_like(self.expand(g_var), x) * centered * (2.0 / n)
            grad = term if grad is None else grad + term
        return [grad if dtypes.is_float(x.dtype) else None]


# --- builders -----------------------------------------------------------------

def _reduce(op_type, x, axis, keepdims) -> Tensor:
    (x,) = ew.operands(x)
    axes = shapes.normalize_axes(axis, x.ndim)
    if not axes and op_type in (Sum, Prod, Max, Min):
        return x
    return op_type(axes, keepdims)(x)


def reduce_sum(x, axis=None, keepdims=False) -> Tensor:
    return _reduce(Sum, x, axis, keepdims)


def reduce_prod(x, axis=None, keepdims=False) -> Tensor:
    return _reduce(Prod, x, axis, keepdims)


def reduce_max(x, axis=None, keepdims=False) -> Tensor:
    return _reduce(Max, x, axis, keepdims)


def reduce_min(x, axis=None, keepdims=False) -> Tensor:
    return _reduce(Min, x, axis, keepdims)


def reduce_any(x, axis=None, keepdims=False) -> Tensor:
    return _reduce(Any, x, axis, keepdims)


def reduce_all(x, axis=None, keepdims=False) -> Tensor:
    return _reduce(All, x, axis, keepdims)


def count(x, axis=None) -> Tensor:
    """Number of elements reduced over ``axis`` as a scalar of x's float type."""
    (x,) = ew.operands(x)
    axes = shapes.normalize_axes(axis, x.ndim)
    dtype = dtypes.float_of(x.dtype)
    static = shapes.size([x.shape[a] for a in axes if x.shape[a] is not None])
    dynamic = [a for a in axes if x.shape[a] is None]
    if not dynamic:
        return constant(static, dtype=dtype)
    from symkeras.graph.ops.shape import shape_of

    shape = shape_of(x)
    n = ew.cast(shape[dynamic[0]], dtype)
    for a in dynamic[1:]:
        n = n * ew.cast(shape[a], dtype)
    return n * static if static != 1 else n


def reduce_mean(x, axis=None, keepdims=False) -> Tensor:
    (x,) = ew.operands(x)
    if not dtypes.is_float(x.dtype):
        x = ew.cast(x, dtypes.float_of(x.dtype))
    return reduce_sum(x, axis, keepdims) / count(x, axis)


def reduce_var(x, axis=None, keepdims=False) -> Tensor:
    """Population variance (ddof=0), as Keras's K.var."""
    (x,) = ew.operands(x)
    centered = x - reduce_mean(x, axis, keepdims=True)
    return reduce_mean(ew.square(centered), axis, keepdims)


def moments(x, axis=None, keepdims=False) -> tuple[Tensor, Tensor]:
    """(mean, population variance) of ``x`` over ``axis``, from one Moments node."""
    (x,) = ew.operands(x)
    return Moments(shapes.normalize_axes(axis, x.ndim), keepdims)(x)


def reduce_std(x, axis=None, keepdims=False) -> Tensor:
    return ew.sqrt(reduce_var(x, axis, keepdims))


def logsumexp(x, axis=None, keepdims=False) -> Tensor:
    """log(sum(exp(x))) computed stably around the maximum."""
    (x,) = ew.operands(x)
    m = ew.stop_gradient(reduce_max(x, axis, keepdims=True))
    out = ew.log(reduce_sum(ew.exp(x - m), axis, keepdims=True)) + m
    if keepdims:
        return out
    from symkeras.graph.ops.shape import squeeze

    return squeeze(out, shapes.normalize_axes(axis, x.ndim))


def argmax(x, axis=-1, keepdims=False) -> Tensor:
    (x,) = ew.operands(x)
    if axis is None:
        from symkeras.graph.ops.shape import flatten

        return Argmax(0, keepdims)(flatten(x))
    return Argmax(shapes.normalize_axis(axis, x.ndim), keepdims)(x)


def argmin(x, axis=-1, keepdims=False) -> Tensor:
    (x,) = ew.operands(x)
    if axis is None:
        from symkeras.graph.ops.shape import flatten

        return Argmin(0, keepdims)(flatten(x))
    return Argmin(shapes.normalize_axis(axis, x.ndim), keepdims)(x)
