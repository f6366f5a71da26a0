"""What a generated step takes besides its fed inputs (the linker's result beside the module's text).

Kept apart from the linker, which needs Numba, so that a program restored from the cache is bound to its
graph without importing Numba (see native.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symkeras.graph.basic import Tensor


@dataclass
class Layout:
    """What ``step`` takes, in order, besides the fed inputs, and the kernel modules it imports."""

    variables: list[Tensor] = field(default_factory=list)
    data: list[Tensor] = field(default_factory=list)
    random_nodes: list = field(default_factory=list)
    #: sources of the kernel modules, to load before the step module
    kernel_sources: list[str] = field(default_factory=list)
    #: per kernel module, the argument types the step calls it with (see precompile)
    kernel_signatures: list[list[tuple]] = field(default_factory=list)
    #: the functions called through addresses, in the order of ``fns``: (kernel index, argument types, result,
    #: the module's function: ``kernel``, or a body's ``work``)
    functions: list[tuple] = field(default_factory=list)
