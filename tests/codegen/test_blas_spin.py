"""OpenBLAS's spin is set at ``import symkeras`` (symkeras/_blas_spin.py): SciPy imported after symkeras
keeps the kernels that split their samples over threads; SciPy loaded before symkeras gets serial kernels
and a warning that says how to avoid them."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import pytest

SCRIPT = """
import warnings
warnings.simplefilter("always")
{first}
{second}
import numpy as np
import symkeras.backend as K
x = K.placeholder((None, 16, 16, 64))
with warnings.catch_warnings(record=True) as caught:  # the first compile sets up the thread pools
    warnings.simplefilter("always")
    f = K.function([x], [K.relu(x) * 2.0])
    value = f([np.ones((3, 16, 16, 64), np.float32)])[0]
from symkeras.codegen.numba import threads
assert float(value.sum()) == 2.0 * value.size
launched = any("LAUNCH" in s for s in f.program.layout.kernel_sources)
print(threads.PARALLEL, launched, sum("SciPy's BLAS was loaded before symkeras" in str(w.message) for w in caught))
"""


def _run(first: str, second: str, tmp_path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    env["SYMKERAS_CACHE_DIR"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(first=first, second=second)], env=env,
                         capture_output=True, text=True, timeout=300, check=True)
    return out.stdout.split()


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="one thread: no kernel splits its samples")
def test_scipy_imported_after_symkeras_keeps_the_threads(tmp_path):
    assert _run("import symkeras", "import scipy.linalg", tmp_path) == ["True", "True", "0"]


def test_scipy_loaded_before_symkeras_gives_serial_kernels_and_says_so(tmp_path):
    assert _run("import scipy.linalg", "import symkeras", tmp_path) == ["False", "False", "1"]
