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
        self._loaded = self._prepared = False

    def load_kernels(self) -> None:
        if self._loaded:
            return
        self.prepare()
        package = importlib.import_module(__package__)
        for info in pkgutil.iter_modules(package.__path__):
            if info.name.startswith("kernels_"):
                importlib.import_module(f"{__package__}.{info.name}")
        self._loaded = True

    def prepare(self) -> None:
        """Set up what programs run with (BLAS, threads, the heap); a program from the cache needs this
        alone, not the kernels' emitters."""
        if self._prepared:
            return
        from symkeras.codegen.numba import scipy_blas

        scipy_blas.preload()  # before Numba's target first loads: it imports SciPy's BLAS modules
        from symkeras.codegen.numba import blas_pools, heap  # noqa: F401  (blas_pools registers BLAS's symbols)

        heap.keep_freed_memory()
        self._prepared = True

    def compile(self, graph, inputs, outputs, updates, name, nan_guard=False, profile=False):
        from symkeras.codegen.numba.program import NumbaProgram

        self.load_kernels()
        return NumbaProgram(self, graph, list(inputs), list(outputs), list(updates), name, nan_guard=nan_guard,
                            profile=profile)

    def program_context(self) -> str | None:
        from symkeras.codegen import cache
        from symkeras.codegen.numba import blas_pools

        self.prepare()
        if not KERNELS.is_own():
            return None
        return f"numba|parts={blas_pools.parts()}|{cache.versions()}"

    def restore(self, canonical, graph, inputs, name, optimized):
        from symkeras.codegen import program_cache
        from symkeras.codegen.numba.program import NumbaProgram

        payload = program_cache.load(canonical.key)
        if payload is None:
            return None
        try:
            program = NumbaProgram.restore(self, payload, canonical, graph, list(inputs), name, optimized)
        except (KeyError, IndexError, TypeError, ValueError):  # a payload of another shape: made again
            return None
        program.program_key = canonical.key
        return program

    def remember(self, canonical, program) -> None:
        from symkeras.codegen import program_cache

        payload = program.describe(canonical)
        if payload is not None:
            program_cache.store(canonical.key, payload)
            program.program_key = canonical.key
