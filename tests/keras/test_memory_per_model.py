"""Memory per distinct model (issue 13, defect 9): a loop building Dense models of different widths grows the
process by well under 0.25 MB a model, cold or warm (1.75 MB warm before steps stopped naming their kernels,
0.56 MB before the (batch, features) kernels read their widths at run time; Numba never frees compiled
code, so the bound is what is compiled per model, now nothing after the first)."""

import os
import subprocess
import sys
import textwrap

_LOOP = textwrap.dedent("""
    import gc, sys
    import numpy as np
    import symkeras.backend as K
    from symkeras.layers import Dense
    from symkeras.models import Sequential

    def rss_mb():
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * 4096 / 2**20

    x, y = np.ones((4, 8), "float32"), np.ones((4, 2), "float32")
    sizes = []
    for i in range(12):
        model = Sequential([Dense(16 + i, activation="relu", input_shape=(8,)), Dense(2)])
        model.compile("adam", "mse")
        model.train_on_batch(x, y)
        model.predict(x)
        del model
        gc.collect()
        K.clear_session()
        sizes.append(rss_mb())
    print((sizes[-1] - sizes[3]) / 8)
""")


def test_a_loop_over_distinct_models_grows_little_once_compiled(tmp_path):
    if not os.path.exists("/proc/self/statm"):
        import pytest

        pytest.skip("needs /proc (Linux) to read the resident set size")

    def run():
        out = subprocess.run([sys.executable, "-c", _LOOP], capture_output=True, text=True, check=True,
                             timeout=600, env=dict(os.environ, SYMKERAS_CACHE_DIR=str(tmp_path)))
        return float(out.stdout.split()[-1])

    assert run() < 0.25  # MB a model, cold: one set of kernels serves every width
    assert run() < 0.25  # warm
