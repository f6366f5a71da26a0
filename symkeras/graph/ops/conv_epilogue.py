"""A convolution whose output goes straight through elementwise steps (bias, activation) in one op.

The rewrite ``conv_epilogue`` (graph/rewrite/epilogue.py) builds it after fusion
from ``Fused(..., Conv(x, w), ...)`` when the convolution's output has no other
reader and every other operand of the steps is a scalar or varies along the
channels only (a bias): a kernel then applies the steps to each block of output
while that block is still in cache, instead of a second pass over the whole
output.  It exists only in optimized graphs, so it has no gradient of its own.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph.basic import Op
from symkeras.graph.ops.conv import Conv
from symkeras.graph.ops.fused import Fused, _Meta


class ConvEpilogue(Op):
    """``epilogue(..., conv(x, w), ...)`` on inputs ``(x, w, *others)``: the convolution's output takes
    input ``position`` of the ``epilogue`` (a Fused op without a reduction), ``others`` the rest in order."""

    __props__ = ("conv", "epilogue", "position")
    differentiable = False  # made after the gradients, by the last pass

    def __init__(self, conv: Conv, epilogue: Fused, position: int):
        if epilogue.reduce is not None:
            raise ValueError(f"A convolution's epilogue is elementwise; got {epilogue}.")
        self.conv, self.epilogue, self.position = conv, epilogue, int(position)

    @property
    def nin(self) -> int:
        return 2 + self.epilogue.n_inputs - 1

    def __str__(self) -> str:
        return f"{self.conv}->{self.epilogue}"

    def epilogue_operands(self, conv_out, others: list) -> list:
        """The epilogue's inputs: ``others`` with the convolution's output at ``position``."""
        return [*others[:self.position], conv_out, *others[self.position:]]

    def infer(self, inputs):
        x, w, *others = inputs
        return self.epilogue.infer(self.epilogue_operands(_Meta(*self.conv.infer([x, w])), others))

    def perform(self, inputs, rng=None):
        x, w, *others = inputs
        z = self.conv.perform([x, w])
        return np.asarray(self.epilogue.perform(self.epilogue_operands(z, others)), dtype=self.infer(
            [_Meta(np.asarray(v).dtype.name, np.shape(v)) for v in inputs])[0])

    def size_source(self, inputs, out, axis):
        return self.conv.size_source(inputs[:2], out, axis)

    # JSON ------------------------------------------------------------------------
    def to_attrs(self) -> dict:
        from symkeras.graph.printing import _jsonable

        return {"conv": {k: _jsonable(v) for k, v in self.conv.to_attrs().items()},
                "epilogue": self.epilogue.to_attrs(), "position": self.position}

    @classmethod
    def from_attrs(cls, attrs: dict) -> ConvEpilogue:
        from symkeras.graph.printing import _tuples

        conv = Conv.from_attrs({k: _tuples(v) for k, v in attrs["conv"].items()})
        return cls(conv, Fused.from_attrs(attrs["epilogue"]), attrs["position"])
