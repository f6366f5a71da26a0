"""Backend settings (floatx, epsilon, image data format), backed by symkeras.config."""

from __future__ import annotations

import warnings

import numpy as np

from symkeras import config

floatx = config.floatx
set_floatx = config.set_floatx
epsilon = config.epsilon
set_epsilon = config.set_epsilon
image_data_format = config.image_data_format
set_image_data_format = config.set_image_data_format


def backend() -> str:
    """The name of the backend: ``'symkeras'``."""
    return "symkeras"


def set_device(name: str) -> None:
    """Run the functions and models built from now on on ``name``: ``'cpu'`` (the Numba backend, or the
    one ``SYMKERAS_BACKEND`` names) or ``'cuda'`` (an NVIDIA GPU through numba.cuda, ``symkeras[cuda]``).
    ``SYMKERAS_DEVICE`` sets it for a process; ``K.function(..., device=...)`` and
    ``model.compile(..., device=...)`` for one function or model.

    Raises:
        ValueError: an unknown device name.
        symkeras.codegen.cuda.device.CudaUnavailable: ``'cuda'`` where CUDA cannot run (numba-cuda not
            installed, no GPU or driver); the message says why, and the device stays as it was.
    """
    device = config.check_device(name)
    if device == "cuda":
        from symkeras.codegen.cuda.device import cuda

        cuda()
    config.set_device(device)


def get_device() -> str:
    """The device new functions run on: ``'cpu'`` or ``'cuda'``."""
    return config.device()


def cast_to_floatx(x) -> np.ndarray:
    return np.asarray(x, dtype=config.floatx())


def normalize_data_format(value=None) -> str:
    """``None`` -> the configured format; otherwise checked and lower-cased."""
    if value is None:
        return config.image_data_format()
    value = str(value).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError(f"The `data_format` argument must be one of 'channels_first', "
                         f"'channels_last'. Received: {value!r}.")
    return value


def image_dim_ordering() -> str:
    """Keras 1 spelling: 'tf' for channels_last, 'th' for channels_first."""
    warnings.warn("image_dim_ordering is deprecated; use image_data_format.", DeprecationWarning, stacklevel=2)
    return "th" if config.image_data_format() == "channels_first" else "tf"


def set_image_dim_ordering(dim_ordering: str) -> None:
    warnings.warn("set_image_dim_ordering is deprecated; use set_image_data_format.", DeprecationWarning,
                  stacklevel=2)
    if dim_ordering not in ("tf", "th"):
        raise ValueError(f"Unknown dim_ordering: {dim_ordering!r}; expected 'tf' or 'th'.")
    config.set_image_data_format("channels_first" if dim_ordering == "th" else "channels_last")
