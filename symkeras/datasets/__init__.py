"""Keras 2's data sets (``keras.datasets.mnist.load_data()`` and the rest), with Keras 2's signatures and
return formats.

Each reads Keras's own cache (``~/.keras/datasets/``, or ``KERAS_HOME``), so files a Keras user already has
are used, checked against the original's hash; or a file (or folder) the caller names by an absolute
``path``, used as it is.  A file missing from the cache is downloaded through ``utils.get_file`` where there
is a network; where there is none the error says where to put it.  Their pickles are read without running
stored code.  Submodules are imported on first use.
"""

import importlib

SUBMODULES = ("boston_housing", "cifar10", "cifar100", "fashion_mnist", "imdb", "mnist", "reuters")


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"symkeras.datasets.{name}")
    raise AttributeError(f"module 'symkeras.datasets' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(SUBMODULES))
