"""Sliding-window sizes in generated kernels (convolutions and pooling share them)."""

from __future__ import annotations

import re

from symkeras.codegen.numba.emitter import int_max
from symkeras.graph.ops.conv import effective_size

#: a source made of numbers, operators and max(): computed here, written as a literal
_LITERAL = re.compile(r"^(max|[0-9 ()+\-*/,])+$")


class Geometry:
    """The sizes of one sliding window (convolution or pooling) as sources: input ``S``, output ``O`` and
    pads before ``lo``, literals when static (LLVM then sees the loop bounds), else run-time values."""

    def __init__(self, em, window, strides, dilation, padding, x_sizes, out_sizes=None):
        self.em = em
        self.S = [self._value(f"s{a}", size) for a, size in enumerate(x_sizes)]
        self.O, self.lo = [], []
        for a, size in enumerate(self.S):
            eff = effective_size(window[a], dilation[a])
            s = strides[a]
            if padding == "same":
                out = f"(-(-({size}) // {s}))"
                lo = f"{int_max(f'({out} - 1) * {s} + {eff} - ({size})', '0')} // 2"
            elif padding == "causal":
                out, lo = f"(-(-({size}) // {s}))", str(eff - 1)
            else:
                pad_lo, pad_hi = (0, 0) if padding == "valid" else padding[a]
                out, lo = f"(({size}) + {pad_lo + pad_hi} - {eff}) // {s} + 1", str(pad_lo)
            self.O.append(self._value(f"o{a}", out if out_sizes is None else out_sizes[a]))
            self.lo.append(self._value(f"lo{a}", lo))

    @classmethod
    def of_conv(cls, em, op, x_sizes, out_sizes=None) -> Geometry:
        return cls(em, op.kernel_size, op.strides, op.dilation, op.padding, x_sizes, out_sizes)

    @classmethod
    def of_pool(cls, em, op, x_sizes) -> Geometry:
        return cls(em, op.pool_size, op.strides, (1,) * op.rank, op.padding, x_sizes)

    def _value(self, name: str, source: str) -> str:
        if _LITERAL.match(source):
            return str(eval(source, {"max": max}))  # a literal: LLVM sees the loop bounds
        if source.isidentifier():
            return source
        self.em.line(f"{name} = {source}")
        return name

    @property
    def positions(self) -> str:
        return " * ".join(f"{o}" for o in self.O)
