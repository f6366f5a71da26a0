"""The Numba CPU backend: per-op kernels registered by op type, a linker emitting one module per graph.

Importing the package registers the backend (``K.function(..., backend="numba")``,
the default); Numba itself is imported when a function is first compiled.
"""

import warnings

from symkeras.codegen.backend import register_backend
from symkeras.codegen.numba.backend import NumbaBackend
from symkeras.codegen.numba.registry import kernel  # noqa: F401  (for ops defined outside the package)

register_backend(NumbaBackend())

# the objmode blocks of a step (a print, an allreduce) run with the GIL, by design: Numba's note that they do
# is noise.  Set here, at import, not where the kernels are: a compile in a background thread may import
# them while the main thread is inside warnings.catch_warnings, whose exit would drop the filter.
warnings.filterwarnings("ignore", message="Code running in object mode won't allow parallel execution")
