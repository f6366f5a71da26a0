"""symkeras: the Keras 2 API on a symbolic graph compiler.

``import symkeras as keras`` works where ``import keras`` did: the Keras 2
packages are attributes of the top-level package (``keras.layers.Dense``,
``keras.backend.function``) without importing submodules first.  Each is
imported when first used, so ``import symkeras`` stays light (and loads no
compiler: Numba is imported when a function is first compiled).
"""

import importlib

from symkeras import _blas_spin  # noqa: F401  (first: before anything can load SciPy's BLAS)

__version__ = "0.1.0"

#: Keras 2's top-level packages, imported on first use
PACKAGES = ("activations", "applications", "backend", "callbacks", "constraints", "datasets", "initializers",
            "layers", "losses", "metrics", "models", "optimizers", "preprocessing", "regularizers", "utils", "wrappers")
#: names Keras 2 exposes at the top level, and where they live
_NAMES = {"Input": "symkeras.layers", "Model": "symkeras.models", "Sequential": "symkeras.models"}


def __getattr__(name):
    if name in PACKAGES:
        return importlib.import_module(f"symkeras.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'symkeras' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(PACKAGES) | set(_NAMES))
