"""SciPy's BLAS modules reach Numba without scipy.linalg's package being run (codegen/numba/scipy_blas.py):
the first compile leaves scipy.linalg lazy, and a program importing it afterwards gets the whole package."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = """
import sys
import numpy as np
import symkeras.backend as K
x = K.placeholder((None, 3))
w = K.variable(np.eye(3) * 2.0)
f = K.function([x], [K.dot(x, w)])  # a product: Numba's BLAS, through SciPy's cython_blas
assert np.array_equal(f([np.ones((2, 3), np.float32)])[0], np.full((2, 3), 2.0, np.float32))
print("scipy._lib._array_api" in sys.modules, type(sys.modules["scipy.linalg"]).__name__)
import scipy.linalg
from scipy.linalg import cython_lapack
print(scipy.linalg.cython_blas is sys.modules["scipy.linalg.cython_blas"], cython_lapack.__name__,
      float(scipy.linalg.det(np.eye(2) * 2.0)), type(scipy.linalg).__name__)
"""


def _run(tmp_path, **env) -> list[str]:
    environment = {**os.environ, "SYMKERAS_CACHE_DIR": str(tmp_path), **env}
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=environment, capture_output=True, text=True,
                         timeout=300, check=True)
    return out.stdout.split()


def test_the_first_compile_leaves_scipy_linalg_lazy_and_whole(tmp_path):
    assert _run(tmp_path) == ["False", "_LazyModule", "True", "scipy.linalg.cython_lapack", "4.0", "module"]


def test_turned_off_scipy_linalg_is_imported_as_usual(tmp_path):
    assert _run(tmp_path, SYMKERAS_LAZY_SCIPY_LINALG="0") == [
        "True", "module", "True", "scipy.linalg.cython_lapack", "4.0", "module"]
