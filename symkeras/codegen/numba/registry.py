"""The Numba backend's kernel registry: ``@kernel(OpType)`` registers how a node of that type is emitted.

A kernel appends the lines computing its node's outputs to an Emitter.  An
``inline`` kernel writes its lines into the step itself (views, BLAS
calls); the others become a kernel function in a module of their own,
shared by every node (of any graph) that generates the same code.
``inline`` may also be a predicate of the node.  Kernels may be registered
from any module (an op defined outside the package brings its own).
"""

from __future__ import annotations

from symkeras.codegen.registry import KernelRegistry

KERNELS = KernelRegistry("Numba")


def kernel(*op_types, inline=False, imports="", parallel=False):
    """Register the Numba emitter of one or more op types (see the module docstring).

    ``imports``: lines a kernel module of these ops needs (``from ... import gemm_into``, say);
    ``parallel``: its kernels use ``numba.prange`` (see threads.py).
    """
    return KERNELS.register(*op_types, inline=inline, imports=imports, parallel=parallel)


def find_kernel(op):
    return KERNELS.find(op)
