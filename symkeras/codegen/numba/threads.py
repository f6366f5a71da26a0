"""One thread pool at a time: BLAS's own threads for matrix products, Numba's for the kernels that split work.

Kernels that split their samples over Numba's threads (convolutions; see launch.py) call BLAS from each of
their threads with BLAS's threads turned off for that thread (``blas_threads_local(1)``, OpenBLAS's
thread-local setting), so the two pools never both work at once.  Two more things keep them from fighting
at the hand-over:

- BLAS's threads, once a product is done, spin for 2^28 cycles by default before they sleep; symkeras
  asks SciPy's OpenBLAS (the one Numba's BLAS calls reach) to spin for 2^18 (``OPENBLAS_THREAD_TIMEOUT``,
  read when that library loads: set at ``import symkeras``, symkeras/_blas_spin.py, so it holds when SciPy
  is imported after symkeras; a user's setting wins);
- Numba's parallel loops run on its "workqueue" layer, whose threads sleep between loops.

If SciPy's OpenBLAS was loaded before symkeras was imported (and the user set no timeout), or is not
OpenBLAS, those kernels are emitted as serial loops (``parts()`` is 1), BLAS keeping its own threads; the
first case warns once, saying how to avoid it.

The thread-count functions are reached through LLVM symbols registered when this module is imported, so
the compiled kernels stay cacheable across processes.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import glob
import os
import warnings

from llvmlite import binding, ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

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
    parallel kernel runs)."""
    import numba

    if os.environ.get("NUMBA_THREADING_LAYER") is None:
        numba.config.THREADING_LAYER = "workqueue"


def parts() -> int:
    """How many parts a splitting kernel cuts its work into: Numba's threads now, or 1 when the pools cannot
    be kept apart.  Written into the kernel's text as a number (``numba.get_num_threads()`` inside a kernel
    would keep Numba from caching it), so the count is part of the kernel's cache key."""
    import numba

    return numba.get_num_threads() if PARALLEL else 1


@intrinsic
def blas_threads_local(typingctx, n):
    """Set BLAS's thread count for the calling thread only; returns the previous one."""
    if not isinstance(n, types.Integer):
        return None

    def codegen(context, builder, signature, values):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), [ir.IntType(32)]), _SET)
        return builder.call(fn, [context.cast(builder, values[0], n, types.int32)])

    return types.int32(n), codegen


@intrinsic
def blas_threads(typingctx):
    """BLAS's thread count for the calling thread."""

    def codegen(context, builder, signature, values):
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.IntType(32), []), _GET)
        return builder.call(fn, [])

    return types.int32(), codegen
