"""Process-wide settings read from ``~/.symkeras/symkeras.json``.

The file mirrors Keras 2's ``keras.json``::

    {"floatx": "float32", "epsilon": 1e-07, "image_data_format": "channels_last"}

``SYMKERAS_HOME`` moves the directory; ``SYMKERAS_FLOATX``,
``SYMKERAS_EPSILON``, ``SYMKERAS_IMAGE_DATA_FORMAT``, ``SYMKERAS_BACKEND``
(the name of a registered code generator: ``numba``, ``reference``, ...)
and ``SYMKERAS_DEVICE`` (``cpu`` or ``cuda``: ``cuda`` makes the CUDA
backend the default) override single values.
This module imports nothing from the rest of the package.
"""

from __future__ import annotations

import json
import os

_FLOAT_TYPES = ("float16", "float32", "float64")
_DATA_FORMATS = ("channels_last", "channels_first")
#: device names -> the one they mean ("gpu" as PyTorch and TensorFlow users say it)
_DEVICES = {"cpu": "cpu", "cuda": "cuda", "gpu": "cuda"}

_unsafe_deserialization = False
_settings = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last", "backend": "numba",
             "device": "cpu"}


def config_path() -> str:
    """Path of the JSON settings file (it need not exist)."""
    home = os.environ.get("SYMKERAS_HOME") or os.path.join(os.path.expanduser("~"), ".symkeras")
    return os.path.join(home, "symkeras.json")


def _check_floatx(value: str) -> str:
    value = str(value)
    if value not in _FLOAT_TYPES:
        raise ValueError(f"Unknown floatx type: {value!r}; expected one of {_FLOAT_TYPES}.")
    return value


def _check_data_format(value: str) -> str:
    value = str(value)
    if value not in _DATA_FORMATS:
        raise ValueError(f"Unknown data_format: {value!r}; expected one of {_DATA_FORMATS}.")
    return value


def load(path: str | None = None) -> None:
    """(Re)read the settings file, then the environment overrides."""
    path = path or config_path()
    loaded: dict = {}
    if os.path.exists(path):
        try:
            with open(path) as fh:
                loaded = json.load(fh)
        except (OSError, ValueError):
            loaded = {}  # an unreadable file is ignored, as Keras does
    env = {
        "backend": os.environ.get("SYMKERAS_BACKEND"),
        "floatx": os.environ.get("SYMKERAS_FLOATX"),
        "epsilon": os.environ.get("SYMKERAS_EPSILON"),
        "image_data_format": os.environ.get("SYMKERAS_IMAGE_DATA_FORMAT"),
        "device": os.environ.get("SYMKERAS_DEVICE"),
    }
    loaded.update({k: v for k, v in env.items() if v})
    settings = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last", "backend": "numba",
                "device": "cpu"}
    if "device" in loaded:
        settings["device"] = check_device(loaded["device"])
    if "backend" in loaded:
        settings["backend"] = _check_backend(loaded["backend"])
    if "floatx" in loaded:
        settings["floatx"] = _check_floatx(loaded["floatx"])
    if "epsilon" in loaded:
        settings["epsilon"] = float(loaded["epsilon"])
    if "image_data_format" in loaded:
        settings["image_data_format"] = _check_data_format(loaded["image_data_format"])
    _settings.update(settings)


def _check_backend(value: str) -> str:
    """A backend's name (which names exist is the backend registry's business: symkeras.codegen.backend)."""
    value = str(value)
    if not value.isidentifier():
        raise ValueError(f"Invalid backend name: {value!r}; expected a name such as 'numba' or 'reference'.")
    return value


def backend() -> str:
    """The name of the backend compiled functions use by default: ``'cuda'`` on the cuda device, else the
    CPU backend set (``'numba'`` unless set)."""
    return "cuda" if _settings["device"] == "cuda" else _settings["backend"]


def cpu_backend() -> str:
    """The backend of the cpu device (``'numba'`` unless set)."""
    return _settings["backend"]


def set_backend(value: str) -> None:
    """Make ``value`` the default backend (on the CPU device; ``'cuda'`` selects the cuda device)."""
    value = _check_backend(value)
    if value == "cuda":
        _settings["device"] = "cuda"
        return
    _settings["backend"] = value
    _settings["device"] = "cpu"


def check_device(value) -> str:
    """``'cpu'`` or ``'cuda'`` for a device name (``'gpu'`` means ``'cuda'``)."""
    name = str(value).strip().lower()
    if name not in _DEVICES:
        raise ValueError(f"Unknown device {value!r}; expected 'cpu' or 'cuda'.")
    return _DEVICES[name]


def device() -> str:
    """The device compiled functions run on by default: ``'cpu'`` or ``'cuda'``."""
    return _settings["device"]


def set_device(value: str) -> None:
    """Set the default device (no check that it can run here: see ``symkeras.backend.set_device``)."""
    _settings["device"] = check_device(value)


def floatx() -> str:
    """Default float type of new tensors, e.g. ``'float32'``."""
    return _settings["floatx"]


def set_floatx(value: str) -> None:
    _settings["floatx"] = _check_floatx(value)


def epsilon() -> float:
    """The fuzz factor used in numeric expressions (Keras default 1e-7)."""
    return _settings["epsilon"]


def set_epsilon(value: float) -> None:
    _settings["epsilon"] = float(value)


def enable_unsafe_deserialization() -> None:
    """Let every later load deserialize code stored in files (Lambda layers' functions), as if each passed
    ``safe_mode=False``.  Only for files you trust: loading them runs their code."""
    global _unsafe_deserialization
    _unsafe_deserialization = True


def unsafe_deserialization_enabled() -> bool:
    """Whether ``enable_unsafe_deserialization()`` was called in this process."""
    return _unsafe_deserialization


def image_data_format() -> str:
    """``'channels_last'`` or ``'channels_first'``."""
    return _settings["image_data_format"]


def set_image_data_format(value: str) -> None:
    _settings["image_data_format"] = _check_data_format(value)


load()
