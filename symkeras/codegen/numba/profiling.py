"""The profiler's clock inside compiled steps: the CPU's cycle counter (one instruction, no call).

A profiled step adds each node's cycles to its ``prof`` argument; the program converts them to seconds
with the step's wall time measured around the calls (see NumbaProgram.node_seconds).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def cycles(typingctx):
    """The CPU's cycle counter (``llvm.readcyclecounter``) as an int64."""

    def codegen(context, builder, sig, args):
        fnty = ir.FunctionType(ir.IntType(64), [])
        return builder.call(builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=fnty), [])

    return types.int64(), codegen
