"""BLAS's thread pools, without Numba: the OpenBLAS libraries, their thread-local setting, how many parts a
splitting kernel makes (see threads.py, which has the whole story and the kernels' intrinsics).

The thread-count functions are reached through LLVM symbols registered when this module is imported, so
the compiled kernels stay cacheable across processes; a program restored from its bundle (native.py)
needs them registered without importing Numba.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import os
import sys
import warnings

from llvmlite import binding

from symkeras import _blas_spin

_SET = "symkeras_blas_threads_local"
_GET = "symkeras_blas_threads"
SERIAL_WARNING = ("symkeras: SciPy's BLAS was loaded before symkeras was imported, so its threads spin ~0.1 s "
                  "after each matrix product; kernels that would split their samples over Numba's threads run on "
                  "one thread instead. Import symkeras before SciPy or scikit-learn, or set "
                  f"OPENBLAS_THREAD_TIMEOUT={_blas_spin.SPIN_TIMEOUT} in the environment before Python starts.")


def _bundled_openblas(package, symbols):
    """The OpenBLAS bundled in the wheel of ``package`` (a module, in ``<name>.libs``) as ctypes, if it has
    every one of ``symbols``; else None."""
    root = os.path.dirname(os.path.abspath(package.__file__))
    folder = f"{package.__name__}.libs"
    for path in glob.glob(os.path.join(root, "..", folder, "libscipy_openblas*.so*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if all(hasattr(lib, symbol) for symbol in symbols):
            return lib
    return None


def _scipy_openblas():
    """SciPy's bundled OpenBLAS (ctypes), or None."""
    try:
        import scipy
    except ImportError:
        return None
    return _bundled_openblas(scipy, ("openblas_set_num_threads_local", "scipy_openblas_get_num_threads"))


@functools.cache
def _numpy_openblas():
    """NumPy's bundled OpenBLAS (ctypes) if it has OpenBLAS's thread-local setting, else None."""
    import numpy

    return _bundled_openblas(numpy, ("openblas_set_num_threads_local",))


@contextlib.contextmanager
def numpy_blas_serial():
    """NumPy's matrix products in this thread on this thread alone while the block runs (OpenBLAS's
    thread-local setting; nothing changes with another BLAS)."""
    lib = _numpy_openblas()
    if lib is None:
        yield
        return
    before = lib.openblas_set_num_threads_local(1)
    try:
        yield
    finally:
        lib.openblas_set_num_threads_local(before)


def _register() -> bool:
    """Register the two symbols; True when they reach SciPy's OpenBLAS (else a harmless stand-in) and its
    spin was set before it loaded (at ``import symkeras``, symkeras/_blas_spin.py, or by the user)."""
    tamable = _blas_spin.BEFORE_SCIPY or _blas_spin.USER_SET
    lib = _scipy_openblas()
    if lib is not None:
        binding.add_symbol(_SET, ctypes.cast(lib.openblas_set_num_threads_local, ctypes.c_void_p).value)
        binding.add_symbol(_GET, ctypes.cast(lib.scipy_openblas_get_num_threads, ctypes.c_void_p).value)
        if not tamable:
            warnings.warn(SERIAL_WARNING, RuntimeWarning, stacklevel=2)
        return tamable
    libc = ctypes.CDLL(None)  # int abs(int): returns 1 for 1, a no-op of the right type
    binding.add_symbol(_SET, ctypes.cast(libc.abs, ctypes.c_void_p).value)
    binding.add_symbol(_GET, ctypes.cast(libc.getpid, ctypes.c_void_p).value)
    return False


#: whether the kernels may split their work over Numba's threads
PARALLEL = _register()


def configure() -> None:
    """Run Numba's parallel loops on its "workqueue" layer unless the user chose one (call before the first
    parallel kernel runs: threads.py does, when it is imported)."""
    import numba

    if os.environ.get("NUMBA_THREADING_LAYER") is None:
        numba.config.THREADING_LAYER = "workqueue"


def parts() -> int:
    """How many parts a splitting kernel cuts its work into: Numba's threads now, or 1 when the pools cannot
    be kept apart.  Written into the kernel's text as a number (``numba.get_num_threads()`` inside a kernel
    would keep Numba from caching it), so the count is part of the kernel's cache key.

    Numba's count is read without importing Numba while it is not imported (a program restored from its
    bundle runs without it, see native.py): ``NUMBA_NUM_THREADS``, else the cores this process may use,
    as Numba reads them."""
    if not PARALLEL:
        return 1
    numba = sys.modules.get("numba")
    if numba is not None and hasattr(numba, "get_num_threads"):
        configure()  # (before Numba starts its threads: the layer symkeras runs on)
        return numba.get_num_threads()
    return numba_threads()


def numba_threads() -> int:
    """The threads Numba starts in a process, read as Numba reads them: ``NUMBA_NUM_THREADS``, else the
    cores this process may use."""
    try:
        return max(1, int(os.environ["NUMBA_NUM_THREADS"]))
    except (KeyError, ValueError):
        return max(1, len(os.sched_getaffinity(0))) if hasattr(os, "sched_getaffinity") else max(1, os.cpu_count() or 1)
