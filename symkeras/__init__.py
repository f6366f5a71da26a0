"""symkeras: the Keras 2 API on a symbolic graph compiler.

``import symkeras as keras`` works where ``import keras`` did: the Keras 2
packages are attributes of the top-level package (``keras.layers.Dense``,
``keras.backend.function``) without importing submodules first.
"""

__version__ = "0.1.0"

from symkeras import (  # noqa: E402, F401  (Keras 2's top-level packages)
    activations,
    backend,
    callbacks,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    utils,
)
from symkeras.layers import Input  # noqa: E402, F401
from symkeras.models import Model, Sequential  # noqa: E402, F401
