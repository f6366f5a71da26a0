"""OpenBLAS's spin after a product, set when symkeras is imported (before anything loads SciPy's BLAS).

SciPy's OpenBLAS reads ``OPENBLAS_THREAD_TIMEOUT`` once, when the library
loads; its threads then spin that long after each product (2^28 cycles,
~0.1 s, by default), which starves Numba's threads in the kernels that
split their samples (codegen/numba/threads.py).  Setting it here, at
``import symkeras``, and not at the first compile, keeps it effective when
the program imports SciPy or scikit-learn after symkeras but before it
trains.  A user's own setting wins.
"""

from __future__ import annotations

import os
import sys

#: spin 2^18 cycles (~0.1 ms) after a product instead of OpenBLAS's 2^28 (~0.1 s)
SPIN_TIMEOUT = "18"
#: the variable was in the environment before symkeras set it: the user's choice
USER_SET = "OPENBLAS_THREAD_TIMEOUT" in os.environ
#: SciPy's BLAS was not loaded yet when symkeras was imported, so it reads the setting below (or the user's)
BEFORE_SCIPY = not any(name.startswith("scipy.linalg") for name in sys.modules)

if BEFORE_SCIPY:
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", SPIN_TIMEOUT)
