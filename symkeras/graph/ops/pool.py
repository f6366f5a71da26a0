"""N-d max and average pooling (1-3 spatial dimensions, channels_last) and their gradient ops.

``padding`` is ``"valid"`` or ``"same"`` (TensorFlow's convention).  Max
pooling never picks a padded position; average pooling divides by the
number of input positions in each window (padding excluded, as Keras does).
Gradients: average pooling spreads ``gz / count`` over each window
(``AvgPoolGrad``, the adjoint of ``AvgPool``); max pooling routes ``gz`` to
the first maximum of each window (``MaxPoolGrad``), whose own gradient picks
the upstream values at those maxima (``MaxPoolSelect``).
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op
from symkeras.graph.ops.conv import _ints, output_size, pads_for


class _Pooling(Op):
    """The geometry of one pooling: window, strides, padding (dilation 1)."""

    __props__ = ("pool_size", "strides", "padding")

    def __init__(self, pool_size, strides=None, padding="valid"):
        pool_size = (pool_size,) if isinstance(pool_size, int) else tuple(pool_size)
        if not 1 <= len(pool_size) <= 3:
            raise ValueError(f"Pooling has 1 to 3 spatial dimensions; got pool_size {pool_size}.")
        rank = len(pool_size)
        self.pool_size = _ints(pool_size, rank, "pool_size")
        self.strides = self.pool_size if strides is None else _ints(strides, rank, "strides")
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(f"Pooling padding must be 'valid' or 'same'; got {padding!r}.")
        self.padding = padding

    @property
    def rank(self) -> int:
        return len(self.pool_size)

    def __str__(self) -> str:
        text = f"{self.name}{{{'x'.join(map(str, self.pool_size))}"
        if self.strides != self.pool_size:
            text += f", strides={self.strides}"
        return text + f", {self.padding}}}"

    def geometry(self, in_spatial) -> tuple[tuple, tuple]:
        """(output spatial sizes, (lo, hi) pads) for concrete (or static, None allowed) input sizes."""
        out = tuple(output_size(s, k, st, 1, self.padding, a)
                    for a, (s, k, st) in enumerate(zip(in_spatial, self.pool_size, self.strides)))
        if any(s is None for s in in_spatial):
            return out, None
        pads = tuple(pads_for(s, k, st, 1, self.padding, a)
                     for a, (s, k, st) in enumerate(zip(in_spatial, self.pool_size, self.strides)))
        return out, pads

    def size_source(self, inputs, out, axis):
        """The batch and channel axes are the input's."""
        if axis in (0, out.ndim - 1) and inputs[0].ndim == out.ndim:
            return 0, axis
        return None

    def _check_input(self, x) -> tuple:
        if x.ndim != self.rank + 2:
            raise ValueError(f"{self.rank}-D pooling needs an input of rank {self.rank + 2} (batch, {self.rank} "
                             f"spatial, channels); got shape {shapes.fmt(x.shape)}.")
        out, _ = self.geometry(x.shape[1:-1])
        for a, (size, o) in enumerate(zip(x.shape[1:-1], out)):
            if o is not None and o < 1:
                raise ValueError(f"Pooling window {self.pool_size[a]} is larger than the input along spatial axis "
                                 f"{a} (size {size}, {self.padding} padding).")
        return out

    # the reference: one step per window offset, vectorized over samples, positions and channels ------------
    def _padded(self, x, pads, fill):
        spatial = [s + lo + hi for s, (lo, hi) in zip(x.shape[1:-1], pads)]
        padded = np.full((x.shape[0], *spatial, x.shape[-1]), fill, dtype=x.dtype)
        padded[self._interior(pads, x.shape[1:-1])] = x
        return padded

    @staticmethod
    def _interior(pads, spatial):
        return (slice(None),) + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, spatial))

    def _slabs(self, out_spatial):
        for offset in np.ndindex(*self.pool_size):
            yield tuple(slice(k, k + (o - 1) * s + 1, s) for k, o, s in zip(offset, out_spatial, self.strides))

    def _first_maxima(self, x):
        """Per output element: the index (in window order) of the first maximum, and the pads and sizes."""
        out_spatial, pads = self.geometry(x.shape[1:-1])
        padded = self._padded(x, pads, -np.inf)
        best = np.full((x.shape[0], *out_spatial, x.shape[-1]), -np.inf)
        where = np.zeros(best.shape, dtype=np.int64)
        for i, slab in enumerate(self._slabs(out_spatial)):
            window = padded[(slice(None),) + slab + (slice(None),)]
            better = window > best
            best = np.where(better, window, best)
            where = np.where(better, i, where)
        return where, out_spatial, pads


class MaxPool(_Pooling):
    nin = 1

    def infer(self, inputs):
        (x,) = inputs
        return x.dtype, (x.shape[0], *self._check_input(x), x.shape[-1])

    def perform(self, inputs, rng=None):
        (x,) = inputs
        where, out_spatial, pads = self._first_maxima(x)
        padded = self._padded(x, pads, -np.inf)
        out = np.zeros(where.shape, dtype=x.dtype)
        for i, slab in enumerate(self._slabs(out_spatial)):
            out = np.where(where == i, padded[(slice(None),) + slab + (slice(None),)], out)
        return out

    def grad(self, inputs, out, gz):
        (x,) = inputs
        return [MaxPoolGrad(**self.props())(x, gz)]


class MaxPoolGrad(_Pooling):
    """``(x, gz)`` -> x-shaped: each window's ``gz`` added at its first maximum in ``x``."""

    nin = 2

    def size_source(self, inputs, out, axis):
        return 0, axis  # the result has x's shape (x's values are read: not a shape_from reference)

    def infer(self, inputs):
        x, gz = inputs
        return dtypes.upcast(x.dtype, gz.dtype), x.shape

    def perform(self, inputs, rng=None):
        x, gz = inputs
        where, out_spatial, pads = self._first_maxima(x)
        padded = np.zeros((x.shape[0], *[s + lo + hi for s, (lo, hi) in zip(x.shape[1:-1], pads)], x.shape[-1]),
                          dtype=np.result_type(x, gz))
        for i, slab in enumerate(self._slabs(out_spatial)):
            padded[(slice(None),) + slab + (slice(None),)] += np.where(where == i, gz, 0)
        return padded[self._interior(pads, x.shape[1:-1])]

    def grad(self, inputs, out, gz):
        x, g = inputs
        # piecewise constant in x (the maxima move only where x has ties); linear in g
        return [None, MaxPoolSelect(**self.props())(x, gz)]


class MaxPoolSelect(_Pooling):
    """``(x, v)`` -> pooled-shaped: ``v`` at each window's first maximum in ``x`` (MaxPoolGrad's adjoint)."""

    nin = 2

    def infer(self, inputs):
        x, v = inputs
        return dtypes.upcast(x.dtype, v.dtype), (x.shape[0], *self._check_input(x), x.shape[-1])

    def perform(self, inputs, rng=None):
        x, v = inputs
        where, out_spatial, pads = self._first_maxima(x)
        padded = self._padded(np.asarray(v, dtype=np.result_type(x, v)), pads, 0)
        out = np.zeros(where.shape, dtype=padded.dtype)
        for i, slab in enumerate(self._slabs(out_spatial)):
            out = np.where(where == i, padded[(slice(None),) + slab + (slice(None),)], out)
        return out

    def grad(self, inputs, out, gz):
        x, v = inputs
        return [None, MaxPoolGrad(**self.props())(x, gz)]


class AvgPool(_Pooling):
    nin = 1

    def infer(self, inputs):
        (x,) = inputs
        return dtypes.float_of(x.dtype), (x.shape[0], *self._check_input(x), x.shape[-1])

    def counts(self, in_spatial):
        """How many input positions each output position's window covers (padding excluded)."""
        out_spatial, pads = self.geometry(in_spatial)
        ones = self._padded(np.ones((1, *in_spatial, 1)), pads, 0)
        total = np.zeros((1, *out_spatial, 1))
        for slab in self._slabs(out_spatial):
            total += ones[(slice(None),) + slab + (slice(None),)]
        return total

    def perform(self, inputs, rng=None):
        (x,) = inputs
        out_spatial, pads = self.geometry(x.shape[1:-1])
        padded = self._padded(x.astype(dtypes.float_of(x.dtype.name)), pads, 0)
        total = np.zeros((x.shape[0], *out_spatial, x.shape[-1]), dtype=padded.dtype)
        for slab in self._slabs(out_spatial):
            total += padded[(slice(None),) + slab + (slice(None),)]
        return total / self.counts(x.shape[1:-1])

    def grad(self, inputs, out, gz):
        (x,) = inputs
        return [AvgPoolGrad(**self.props())(gz, x)]


class AvgPoolGrad(_Pooling):
    """``(gz, like)`` -> like-shaped: each window's ``gz / count`` spread over its input positions."""

    nin = 2
    shape_from = 1

    def infer(self, inputs):
        gz, like = inputs
        return gz.dtype, like.shape

    def perform(self, inputs, rng=None):
        gz, like = inputs
        spatial = like.shape[1:-1]
        out_spatial, pads = self.geometry(spatial)
        share = gz / AvgPool(**self.props()).counts(spatial)
        padded = np.zeros((gz.shape[0], *[s + lo + hi for s, (lo, hi) in zip(spatial, pads)], gz.shape[-1]),
                          dtype=gz.dtype)
        for slab in self._slabs(out_spatial):
            padded[(slice(None),) + slab + (slice(None),)] += share
        return padded[self._interior(pads, spatial)]

    def grad(self, inputs, out, gz):
        g, like = inputs
        return [AvgPool(**self.props())(gz), None]


def pool(x, pool_size, strides=None, padding="valid", mode="max"):
    """Channels_last max (``mode="max"``) or average (``"avg"``) pooling."""
    if mode not in ("max", "avg"):
        raise ValueError(f"Unknown pool_mode {mode!r}; expected 'max' or 'avg'.")
    return (MaxPool if mode == "max" else AvgPool)(pool_size, strides, padding)(x)
