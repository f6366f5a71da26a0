"""Shape-directed helpers of the gradient graph: broadcast to, sum back, fill."""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor, as_tensor


class BroadcastLike(Op):
    """Broadcast ``g`` to the run-time shape of ``ref`` (NumPy rules)."""

    elementwise = True
    cheap = True
    in_place = True
    shape_from = 1
    nin = 2

    def infer(self, inputs):
        g, ref = inputs
        if g.ndim > ref.ndim:
            raise ValueError(f"Cannot broadcast shape {g.shape} to the lower rank of {ref.shape}.")
        return g.dtype, shapes.broadcast(g.shape, ref.shape)

    def perform(self, inputs, rng=None):
        g, ref = inputs
        return np.broadcast_to(g, ref.shape)

    def grad(self, inputs, out, gz):
        g, ref = inputs
        return [sum_to_like(gz, g), None]


class SumToLike(Op):
    """Sum ``g`` over the axes along which ``ref`` was broadcast (the adjoint of BroadcastLike)."""

    shape_from = 1
    nin = 2

    def infer(self, inputs):
        g, ref = inputs
        return g.dtype, ref.shape

    def perform(self, inputs, rng=None):
        g, ref = inputs
        lead = g.ndim - ref.ndim
        if lead > 0:
            g = g.sum(axis=tuple(range(lead)))
        axes = tuple(i for i, (gd, rd) in enumerate(zip(g.shape, ref.shape)) if rd == 1 and gd != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        return g

    def grad(self, inputs, out, gz):
        g, ref = inputs
        return [broadcast_like(gz, g), None]


class FullLike(Op):
    """A tensor of ``ref``'s run-time shape filled with ``value``."""

    elementwise = True
    cheap = True
    in_place = True
    shape_from = 0
    __props__ = ("value", "dtype")
    nin = 1
    differentiable = False

    def __init__(self, value, dtype):
        self.value = float(value) if not isinstance(value, bool) else value
        self.dtype = dtypes.normalize(dtype)

    def infer(self, inputs):
        return self.dtype, inputs[0].shape

    def perform(self, inputs, rng=None):
        return np.full(inputs[0].shape, self.value, dtype=self.dtype)


def broadcast_like(g, ref) -> Tensor:
    g, ref = as_tensor(g), as_tensor(ref)
    if g.shape == ref.shape and None not in g.shape:
        return g
    return BroadcastLike()(g, ref)


def _sum_needed(g: Tensor, ref: Tensor) -> bool:
    if g.ndim != ref.ndim:
        return True
    return any(r in (None, 1) and gd != 1 for gd, r in zip(g.shape, ref.shape))


def sum_to_like(g, ref) -> Tensor:
    """Undo broadcasting: sum ``g`` down to ``ref``'s shape (no node when provably not needed)."""
    g, ref = as_tensor(g), as_tensor(ref)
    if not _sum_needed(g, ref):
        return g
    return SumToLike()(g, ref)


def zeros_like(x, dtype=None) -> Tensor:
    x = as_tensor(x)
    return FullLike(0, dtype or x.dtype)(x)


def ones_like(x, dtype=None) -> Tensor:
    x = as_tensor(x)
    return FullLike(1, dtype or x.dtype)(x)


def full_like(x, value, dtype=None) -> Tensor:
    x = as_tensor(x)
    return FullLike(value, dtype or x.dtype)(x)
