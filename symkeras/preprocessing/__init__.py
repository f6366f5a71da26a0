"""Keras 2's data preparation: ``image`` (augmentation, batches from arrays and directories, image
files), ``sequence`` (padding, skip-grams, time-series windows) and ``text`` (tokenizing, hashing).
Submodules are imported on first use, as the top-level packages are."""

import importlib

SUBMODULES = ("image", "sequence", "text")


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"symkeras.preprocessing.{name}")
    raise AttributeError(f"module 'symkeras.preprocessing' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(SUBMODULES))
