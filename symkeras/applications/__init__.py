"""Keras 2's applications: the VGG16 and VGG19 architectures (``weights=None``, a local weights file, or
ImageNet's weights through ``utils.get_file``), with ``preprocess_input`` and ``decode_predictions``.
Submodules are imported on first use."""

import importlib

SUBMODULES = ("imagenet_utils", "vgg16", "vgg19")
_MODELS = {"VGG16": "vgg16", "VGG19": "vgg19"}


def __getattr__(name):
    if name in SUBMODULES:
        return importlib.import_module(f"symkeras.applications.{name}")
    if name in _MODELS:
        return getattr(importlib.import_module(f"symkeras.applications.{_MODELS[name]}"), name)
    raise AttributeError(f"module 'symkeras.applications' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(SUBMODULES) | set(_MODELS))
