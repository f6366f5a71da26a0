"""Whether this process can run CUDA kernels, and why not: numba-cuda, a driver, a GPU, or the simulator.

``numba.cuda`` is imported only here, and only when a CUDA function is built (``symkeras[cuda]`` is an
optional extra).  ``NUMBA_ENABLE_CUDASIM=1`` (set before the first import of ``numba.cuda``) runs every
kernel on Numba's CUDA simulator instead: Python, one thread at a time, for tests on machines without a
GPU.
"""

from __future__ import annotations

import functools
import importlib.util
import os


class CudaUnavailable(RuntimeError):
    """The CUDA backend was asked for where it cannot run; the message says why."""


def simulated() -> bool:
    """Whether kernels run on Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    return os.environ.get("NUMBA_ENABLE_CUDASIM", "0") not in ("", "0")


@functools.cache
def _cuda():
    if importlib.util.find_spec("numba_cuda") is None:
        return None, ("the CUDA backend needs the numba-cuda package, which is not installed: "
                      "pip install 'symkeras[cuda]'")
    try:
        from numba import cuda
    except Exception as error:  # (numba-cuda that does not import with this NumPy or Numba)
        return None, f"numba-cuda is installed but does not import: {type(error).__name__}: {error}"
    if simulated():
        return cuda, None
    try:
        if cuda.is_available():
            cuda.current_context()
            return cuda, None
        reason = "numba.cuda.is_available() is False"
        cuda.current_context()  # raises with the driver's own reason
    except Exception as error:
        reason = " ".join(str(error).split()) or type(error).__name__
    return None, f"no usable NVIDIA GPU: {reason}"


def cuda():
    """``numba.cuda``, ready to launch kernels.

    Raises:
        CudaUnavailable: numba-cuda is not installed or does not import, or there is no usable GPU or
            driver (and the simulator is not on); the message says which.
    """
    module, reason = _cuda()
    if module is None:
        raise CudaUnavailable(f"symkeras cannot use CUDA: {reason}.")
    return module


def available() -> bool:
    """Whether ``cuda()`` would succeed."""
    return _cuda()[0] is not None


def reason() -> str | None:
    """Why CUDA is not available (None when it is)."""
    return _cuda()[1]
