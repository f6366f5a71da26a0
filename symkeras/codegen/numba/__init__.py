"""The Numba CPU backend: per-op kernels registered by op type, a linker emitting one module per graph.

Importing the package registers the backend (``K.function(..., backend="numba")``,
the default); Numba itself is imported when a function is first compiled.
"""

from symkeras.codegen.backend import register_backend
from symkeras.codegen.numba.backend import NumbaBackend
from symkeras.codegen.numba.registry import kernel  # noqa: F401  (for ops defined outside the package)

register_backend(NumbaBackend())
