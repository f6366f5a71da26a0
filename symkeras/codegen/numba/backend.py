"""The Numba CPU backend behind the backend protocol: optimized graph -> one generated, jitted step."""

from __future__ import annotations

import importlib
import pkgutil

from symkeras.codegen.backend import Backend
from symkeras.codegen.numba.registry import KERNELS
from symkeras.runtime.storage import HOST


class NumbaBackend(Backend):
    """Kernels per op type (``registry.py``), a linker writing one step module per graph, Numba's JIT.

    The backend loads its own kernels: every ``kernels_*`` module of this
    package, the first time it compiles.  Kernels of ops defined elsewhere
    are registered by their own modules (``symkeras.codegen.numba.kernel``).
    """

    name = "numba"
    storage = HOST
    kernels = KERNELS

    def __init__(self):
        self._loaded = False

    def load_kernels(self) -> None:
        if self._loaded:
            return
        from symkeras.codegen.numba import scipy_blas

        scipy_blas.preload()  # before Numba's target first loads: it imports SciPy's BLAS modules
        package = importlib.import_module(__package__)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("kernels_"):
                importlib.import_module(f"{__package__}.{info.name}")
        from symkeras.codegen.numba import heap, threads

        threads.configure()
        heap.keep_freed_memory()
        self._loaded = True

    def compile(self, graph, inputs, outputs, updates, name, nan_guard=False, profile=False):
        from symkeras.codegen.numba.program import NumbaProgram

        self.load_kernels()
        return NumbaProgram(self, graph, list(inputs), list(outputs), list(updates), name, nan_guard=nan_guard,
                            profile=profile)
