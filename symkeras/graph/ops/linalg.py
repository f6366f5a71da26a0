"""Tensor contractions: one Einsum op carries dot, tensordot, batch_dot and matmul."""

from __future__ import annotations

import string

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor
from symkeras.graph.ops import elemwise as ew
from symkeras.graph.ops.shape import expand_dims


class Einsum(Op):
    """A two-operand contraction ``"ab,bc->ac"``.

    Every index appears in the output or in both operands, and no operand
    repeats an index, so each operand's gradient is again such a contraction.
    """

    __props__ = ("spec",)
    nin = 2

    def __init__(self, spec):
        self.spec = str(spec)
        lhs, self.out_idx = self.spec.split("->")
        self.a_idx, self.b_idx = lhs.split(",")
        for name, idx in (("first", self.a_idx), ("second", self.b_idx)):
            if len(set(idx)) != len(idx):
                raise ValueError(f"Einsum {self.spec!r}: the {name} operand repeats an index.")
        for i in self.a_idx + self.b_idx:
            if i not in self.out_idx and not (i in self.a_idx and i in self.b_idx):
                raise ValueError(f"Einsum {self.spec!r}: index {i!r} must be kept or shared.")

    def __str__(self):
        return f"Einsum{{{self.spec}}}"

    def infer(self, inputs):
        a, b = inputs
        if a.ndim != len(self.a_idx) or b.ndim != len(self.b_idx):
            raise ValueError(f"Einsum {self.spec!r} does not fit shapes {shapes.fmt(a.shape)} "
                             f"and {shapes.fmt(b.shape)}.")
        sizes: dict[str, int | None] = {}
        for idx, t in ((self.a_idx, a), (self.b_idx, b)):
            for i, d in zip(idx, t.shape):
                prev = sizes.get(i)
                if prev is not None and d is not None and prev != d:
                    raise ValueError(f"Cannot contract shapes {shapes.fmt(a.shape)} and {shapes.fmt(b.shape)}: "
                                     f"dimension {i!r} is {prev} in one and {d} in the other.")
                sizes[i] = d if prev is None else prev
        return dtypes.upcast(a.dtype, b.dtype), tuple(sizes[i] for i in self.out_idx)

    def perform(self, inputs, rng=None):
        a, b = inputs
        return np.einsum(self.spec, a, b, optimize=True)

    def grad(self, inputs, out, gz):
        a, b = inputs
        ga = Einsum(f"{self.out_idx},{self.b_idx}->{self.a_idx}")(gz, b) if dtypes.is_float(a.dtype) else None
        gb = Einsum(f"{self.a_idx},{self.out_idx}->{self.b_idx}")(a, gz) if dtypes.is_float(b.dtype) else None
        return [ga, gb]

    def size_source(self, inputs, out, axis):
        """An output axis has the run-time size of the operand axis with the same letter."""
        letter = self.out_idx[axis]
        for position, (operand, idx) in enumerate(zip(inputs, (self.a_idx, self.b_idx))):
            if letter in idx and operand.shape[idx.index(letter)] == out.shape[axis]:
                return position, idx.index(letter)
        return None


_LETTERS = string.ascii_letters


def tensordot(a, b, axes) -> Tensor:
    """Contract ``axes[0]`` of ``a`` with ``axes[1]`` of ``b``; output: a's free axes then b's."""
    a, b = ew.operands(a, b)
    ax_a, ax_b = axes
    ax_a = [shapes.normalize_axis(i, a.ndim) for i in ([ax_a] if isinstance(ax_a, int) else ax_a)]
    ax_b = [shapes.normalize_axis(i, b.ndim) for i in ([ax_b] if isinstance(ax_b, int) else ax_b)]
    if len(ax_a) != len(ax_b):
        raise ValueError(f"tensordot needs as many axes of each operand; got {ax_a} and {ax_b}.")
    a_idx = list(_LETTERS[: a.ndim])
    b_idx = list(_LETTERS[a.ndim: a.ndim + b.ndim])
    for i, j in zip(ax_a, ax_b):
        b_idx[j] = a_idx[i]
    out = [c for k, c in enumerate(a_idx) if k not in ax_a] + [c for k, c in enumerate(b_idx) if k not in ax_b]
    return Einsum(f"{''.join(a_idx)},{''.join(b_idx)}->{''.join(out)}")(a, b)


def dot(a, b) -> Tensor:
    """Keras's K.dot (NumPy dot): contract a's last axis with b's second-to-last (or only) axis."""
    a, b = ew.operands(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return tensordot(a, b, (a.ndim - 1, max(b.ndim - 2, 0)))


def matmul(a, b) -> Tensor:
    """The ``@`` operator: NumPy matmul for equal-rank batches, dot otherwise."""
    a, b = ew.operands(a, b)
    if a.ndim <= 2 or b.ndim <= 2 or a.ndim != b.ndim:
        if a.ndim > 2 and b.ndim > 2:
            raise ValueError(f"matmul of ranks {a.ndim} and {b.ndim} needs equal batch ranks.")
        if b.ndim > 2:
            raise ValueError("matmul with a batched right operand needs a batched left operand.")
        return dot(a, b)
    batch = _LETTERS[: a.ndim - 2]
    i, k, j = _LETTERS[a.ndim - 2: a.ndim + 1]
    return Einsum(f"{batch}{i}{k},{batch}{k}{j}->{batch}{i}{j}")(a, b)


def batch_dot(x, y, axes=None) -> Tensor:
    """Keras's batch_dot: per sample along axis 0, contract ``axes[0]`` of x with ``axes[1]`` of y.

    The result holds the batch axis, x's remaining axes, then y's; a rank-1
    result is expanded to (batch, 1) as in Keras 2.
    """
    x, y = ew.operands(x, y)
    if x.ndim < 2 or y.ndim < 2:
        raise ValueError(f"batch_dot needs tensors of rank >= 2; got shapes {shapes.fmt(x.shape)}, "
                         f"{shapes.fmt(y.shape)}.")
    if axes is None:
        axes = (x.ndim - 1, y.ndim - 2 if y.ndim > 2 else 1)
    if isinstance(axes, int):
        axes = (axes, axes)
    ax, ay = (shapes.normalize_axis(int(a), n) for a, n in zip(axes, (x.ndim, y.ndim)))
    if ax == 0 or ay == 0:
        raise ValueError(f"batch_dot cannot contract the batch axis (axes={tuple(axes)}).")
    x_idx = list(_LETTERS[: x.ndim])
    y_idx = [x_idx[0]] + list(_LETTERS[x.ndim: x.ndim + y.ndim - 1])
    y_idx[ay] = x_idx[ax]
    out = [x_idx[0]] + [c for k, c in enumerate(x_idx) if k not in (0, ax)] \
        + [c for k, c in enumerate(y_idx) if k not in (0, ay)]
    result = Einsum(f"{''.join(x_idx)},{''.join(y_idx)}->{''.join(out)}")(x, y)
    if result.ndim == 1:
        result = expand_dims(result, 1)
    return result
