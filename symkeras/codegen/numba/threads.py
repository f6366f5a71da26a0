"""One thread pool at a time: BLAS's own threads for matrix products, Numba's for the kernels that split work.

Kernels that split their samples over Numba's threads (convolutions; see launch.py) call BLAS from each of
their threads with BLAS's threads turned off for that thread (``blas_threads_local(1)``, OpenBLAS's
thread-local setting), so the two pools never both work at once.  Two more things keep them from fighting
at the hand-over:

- BLAS's threads, once a product is done, spin for 2^28 cycles by default before they sleep; symkeras
  asks SciPy's OpenBLAS (the one Numba's BLAS calls reach) to spin for 2^18 (``OPENBLAS_THREAD_TIMEOUT``,
  read when that library loads: set at ``import symkeras``, symkeras/_blas_spin.py, so it holds when SciPy
  is imported after symkeras; a user's setting wins);
- Numba's parallel loops run on its "workqueue" layer, whose threads sleep between loops.

If SciPy's OpenBLAS was loaded before symkeras was imported (and the user set no timeout), or is not
OpenBLAS, those kernels are emitted as serial loops (``parts()`` is 1), BLAS keeping its own threads; the
first case warns once, saying how to avoid it.

The thread-count functions are reached through LLVM symbols registered when blas_pools.py is imported
(the part of this that needs no Numba), so the compiled kernels stay cacheable across processes.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from symkeras.codegen.numba.blas_pools import (  # noqa: F401  (this module's names before the split)
    _GET,
    _SET,
    PARALLEL,
    SERIAL_WARNING,
    configure,
    numpy_blas_serial,
    parts,
)

configure()  # (the kernels that use these intrinsics may split their work over Numba's threads)


@intrinsic
def blas_threads_local(typingctx, n):
    """Set BLAS's thread count for the calling thread only; returns the previous one."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, signature, values):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), [ir.IntType(32)]), _SET)
        return builder.call(fn, [context.cast(builder, values[0], n, types.int32)])

    return types.int32(n), codegen


@intrinsic
def blas_threads(typingctx):
    """BLAS's thread count for the calling thread."""

    def codegen(context, builder, signature, values):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), _GET)
        return builder.call(fn, [])

    return types.int32(), codegen
