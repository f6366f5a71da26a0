"""The Numba backend keeps freed memory for the next step (heap.py): no page faults for arrays freed and
allocated again, as a training step does every call; SYMKERAS_KEEP_FREED_MEMORY=0 and a user's own malloc
settings leave glibc as it is."""

import os
import subprocess
import sys

import pytest

# 40 MB of 1 MB arrays freed and allocated again: glibc by default trims them and faults them back in
_PROGRAM = """
import resource, numpy as np
import symkeras.backend as K
from symkeras.codegen.numba import heap
x = K.placeholder((None, 3))
K.function([x], [x * 2.0], backend="numba")([np.ones((1, 3), "float32")])
def allocate_and_free():
    blocks = [np.ones(1 << 18, np.float32) for _ in range(40)]
    del blocks
for _ in range(2):
    allocate_and_free()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
allocate_and_free()
print(heap.keep_freed_memory(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def _faults(**env) -> tuple[str, int]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _PROGRAM], capture_output=True, text=True, timeout=300,
                         env={**environ, **env}, check=True).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt: Linux only")
def test_freed_arrays_are_reused_without_page_faults_unless_turned_off():
    kept, kept_faults = _faults()
    assert kept == "True" and kept_faults < 500
    off, off_faults = _faults(SYMKERAS_KEEP_FREED_MEMORY="0")
    assert off == "False" and off_faults > 5000  # 10k pages of 4 KB faulted in again
    user, _ = _faults(MALLOC_TRIM_THRESHOLD_="131072")
    assert user == "False"
