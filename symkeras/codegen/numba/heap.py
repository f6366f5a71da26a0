"""Freed memory kept for the next step instead of handed back to the OS and faulted in again.

A compiled training step allocates its intermediate arrays afresh at every
call (tens of megabytes for a convolution network) and frees them at its end.
glibc's malloc serves blocks above its mmap threshold (128 KB, raised
dynamically up to the size of the largest block freed) with fresh mmaps, and
trims freed memory at the top of its heap above twice that: so every step
page-faults its arrays in again, and the kernel zeroes each page.  B3's step
took 17.7k page faults (69 MB) a call, and ran 80 ms instead of 64 ms.

So the first time the Numba backend compiles, symkeras raises the mmap
threshold to glibc's largest (32 MB) and the trim threshold to 1 GB with
``mallopt``: the process keeps up to that much freed memory for reuse, as
PyTorch's and TensorFlow's caching allocators keep theirs.  Nothing changes

- when ``SYMKERAS_KEEP_FREED_MEMORY=0``;
- when the user tuned malloc already (``MALLOC_MMAP_THRESHOLD_``,
  ``MALLOC_TRIM_THRESHOLD_``, ``MALLOC_TOP_PAD_`` or ``GLIBC_TUNABLES`` set);
- where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: mallopt's parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
#: glibc's largest mmap threshold on 64-bit systems (HEAP_MAX_SIZE / 2)
MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 1 << 30
USER_SETTINGS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "GLIBC_TUNABLES")

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Ask glibc's malloc to keep freed memory for reuse (once per process).

    Returns:
        Whether the setting is in force (False where it was declined or is
        not possible; see the module's docstring).
    """
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if os.environ.get("SYMKERAS_KEEP_FREED_MEMORY", "1") == "0":
        return False
    if any(name in os.environ for name in USER_SETTINGS) or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl's mallopt does nothing)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
