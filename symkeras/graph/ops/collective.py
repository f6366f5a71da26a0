"""Collective ops: values combined across the ranks of a distributed run inside a compiled step.

An ``Allreduce`` node sums (or averages) all its inputs across the ranks in one call on one fused buffer
(Horovod's tensor fusion): the gradients of every layer of one dtype go in a single MPI allreduce per
step.  It is a side effect (``has_side_effects``): never removed, merged, folded or reordered with other
collectives, so every rank makes the same calls in the same order.  The call itself is
``symkeras.distributed.collectives.allreduce_in_place``; a process that never called
``symkeras.distributed.init()`` is a run of one rank, where the sum is the value itself.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph.basic import Op

#: how the values of the ranks combine
REDUCTIONS = ("average", "sum")
#: how the fused buffer travels: as it is, or as float16 (half the bytes; summed in float32 on arrival)
COMPRESSIONS = ("none", "fp16")


class Allreduce(Op):
    """The sum or the average over the ranks of each of ``count`` inputs, in one fused allreduce.

    Args:
        count: number of inputs (and outputs); all of one floating dtype.
        reduction: ``'average'`` or ``'sum'``.
        compression: ``'none'`` or ``'fp16'``.
    """

    has_side_effects = True
    __props__ = ("count", "reduction", "compression")

    def __init__(self, count: int, reduction: str = "average", compression: str = "none"):
        if reduction not in REDUCTIONS:
            raise ValueError(f"Allreduce: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        if compression not in COMPRESSIONS:
            raise ValueError(f"Allreduce: compression must be one of {COMPRESSIONS}, got {compression!r}")
        if int(count) < 1:
            raise ValueError(f"Allreduce: needs at least one input, got count={count!r}")
        self.count = int(count)
        self.reduction = reduction
        self.compression = compression
        self.nout = self.count
        self.nin = self.count

    def infer(self, inputs):
        dtypes = {x.dtype for x in inputs}
        if len(dtypes) != 1 or not next(iter(dtypes)).startswith("float"):
            raise ValueError(f"{self}: the inputs must share one floating dtype, got {sorted(dtypes)}")
        types = [(x.dtype, x.shape) for x in inputs]
        return types if self.count > 1 else types[0]

    def perform(self, inputs, rng=None):
        from symkeras.distributed.collectives import allreduce_in_place

        buffer = np.concatenate([np.asarray(x).ravel() for x in inputs]) if inputs else np.empty(0)
        allreduce_in_place(buffer, self.reduction == "average", self.compression == "fp16")
        outputs, offset = [], 0
        for x in inputs:
            size = int(np.prod(np.shape(x), dtype=np.int64))
            outputs.append(buffer[offset:offset + size].reshape(np.shape(x)))
            offset += size
        return tuple(outputs) if self.count > 1 else outputs[0]

    def vjp(self, inputs, outputs, output_grads):
        # y_r = sum_s x_s (or its mean) on every rank r: the transpose is the same reduction of the
        # ranks' output gradients
        from symkeras.graph.ops.broadcast import zeros_like

        grads = [zeros_like(o) if g is None else g for o, g in zip(outputs, output_grads)]
        reduced = Allreduce(self.count, self.reduction, self.compression)(*grads)
        return list(reduced) if self.count > 1 else [reduced]


def allreduce(tensors, reduction: str = "average", compression: str = "none") -> list:
    """``tensors`` summed or averaged across the ranks: one fused allreduce per dtype, in the order given.

    Args:
        tensors: symbolic tensors (gradients, say) of floating dtypes.
        reduction: ``'average'`` or ``'sum'``.
        compression: ``'none'`` or ``'fp16'`` (float16 on the wire).

    Returns:
        The reduced tensors, in the order of ``tensors``.
    """
    tensors = list(tensors)
    results: list = [None] * len(tensors)
    by_dtype: dict[str, list[int]] = {}
    for k, t in enumerate(tensors):
        by_dtype.setdefault(t.dtype, []).append(k)
    for where in by_dtype.values():
        reduced = Allreduce(len(where), reduction, compression)(*[tensors[k] for k in where])
        for k, r in zip(where, reduced if len(where) > 1 else [reduced]):
            results[k] = r
    return results
