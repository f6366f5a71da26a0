"""Kernel registries: each backend keeps one, mapping op types to the function that emits (or runs) them.

A kernel is looked up along the op class's MRO, so a kernel registered for
a base class serves its subclasses.  A missing kernel is a loud
NotImplementedError, never a slow fallback.
"""

from __future__ import annotations

from collections.abc import Callable


class KernelRegistry:
    """Op type -> kernel for one backend.

    ``register(*op_types, **attributes)`` is a decorator; the attributes are
    set on the kernel function (the Numba backend's ``inline``, say).
    Kernels may be registered from anywhere (a test module, another
    package), before the first graph using the op is compiled.
    """

    def __init__(self, backend_name: str):
        self.backend_name = backend_name
        self._kernels: dict[type, Callable] = {}

    def register(self, *op_types: type, **attributes):
        def decorate(fn):
            for name, value in attributes.items():
                setattr(fn, name, value)
            for op_type in op_types:
                self._kernels[op_type] = fn
            return fn

        return decorate

    def find(self, op) -> Callable:
        for klass in type(op).__mro__:
            if klass in self._kernels:
                return self._kernels[klass]
        raise NotImplementedError(f"The {self.backend_name} backend has no kernel for {op} "
                                  f"(op type {type(op).__name__}).")

    def is_own(self) -> bool:
        """Whether every op type of symkeras is served by a kernel of symkeras (whose code the program
        cache's key covers).  Kernels registered elsewhere for ops defined elsewhere do not count: a graph
        holding such an op is never kept."""
        return all((getattr(fn, "__module__", None) or "").startswith("symkeras.")
                   for op_type, fn in self._kernels.items() if (op_type.__module__ or "").startswith("symkeras."))

    def __contains__(self, op_type: type) -> bool:
        return any(klass in self._kernels for klass in op_type.__mro__)
