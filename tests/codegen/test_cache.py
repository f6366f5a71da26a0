"""The kernel cache: a second process compiles nothing; fork and spawn workers share it safely."""

import json
import multiprocessing
import os
import subprocess
import sys

import numpy as np
import pytest
from cache_worker import build_and_run

HERE = os.path.dirname(os.path.abspath(__file__))


def _fresh_process(cache, **settings):
    env = dict(os.environ, SYMKERAS_CACHE_DIR=str(cache), PYTHONPATH=HERE + os.pathsep + os.environ.get(
        "PYTHONPATH", ""), **settings)
    out = subprocess.run([sys.executable, os.path.join(HERE, "cache_worker.py")], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_second_process_loads_the_compiled_step(tmp_path):
    first = _fresh_process(tmp_path)
    second = _fresh_process(tmp_path)
    through_numba = _fresh_process(tmp_path, SYMKERAS_NATIVE_LOAD="0")
    assert (first["misses"], first["hits"], first["native"]) == (1, 0, False)
    # the second runs the step from the program's bundle, without importing Numba; Numba's cache serves
    # a process that does not use bundles
    assert (second["misses"], second["hits"], second["native"], second["numba_imported"]) == (0, 0, True, False)
    assert (through_numba["misses"], through_numba["hits"], through_numba["native"]) == (0, 1, False)
    assert first["path"] == second["path"] and first["path"].startswith(str(tmp_path))
    assert first["losses"] == second["losses"] == through_numba["losses"]
    assert first["losses"][2] < first["losses"][0]
    files = os.listdir(tmp_path)
    assert not [f for f in files if f.startswith(".tmp-")]  # no half-written module left behind


def _run_in_pool(method, cache):
    os.environ["SYMKERAS_CACHE_DIR"] = str(cache)
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        return pool.map(build_and_run, [0, 0, 0, 0])


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_concurrent_workers_share_one_cache(tmp_path, method, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    old = os.environ.get("SYMKERAS_CACHE_DIR")
    try:
        results = _run_in_pool(method, tmp_path)
    finally:
        os.environ["SYMKERAS_CACHE_DIR"] = old
    losses = [r[0] for r in results]
    for other in losses[1:]:
        np.testing.assert_array_equal(other, losses[0])
    steps = [f for f in os.listdir(tmp_path) if f.startswith("symkeras_step_") and f.endswith(".py")]
    assert len(steps) == 1 and not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]
    again = build_and_run()
    assert again[0] == losses[0]


def test_keys_follow_the_intrinsics_compiled_into_kernels(tmp_path):
    import re

    import symkeras.backend as K
    from symkeras.codegen import cache

    # every symkeras module that generated code imports is hashed into the keys
    x = K.placeholder((None, 3), name="x")
    w = K.variable(np.ones((3, 2), np.float32), name="w")
    f = K.function([x], [K.softmax(K.dot(x, w))])
    texts = [f.source, *f.program.layout.kernel_sources]
    imported = {m for text in texts for m in re.findall(r"from symkeras\.codegen\.(\S+) import", text)}
    assert imported and {m.replace(".", "/") + ".py" for m in imported} <= set(cache.COMPILED_IN)
    # and a change of their text changes the digest
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text("x = 1\n")
    second.write_text("y = 2\n")
    before = cache.files_digest([first, second])
    second.write_text("y = 3\n")
    assert cache.files_digest([first, second]) != before


def test_functions_differing_only_in_seeds_share_one_step():
    import symkeras.backend as K

    x = K.placeholder((None, 64), name="x")
    data = np.ones((3, 64), np.float32)
    first = K.function([x], [K.dropout(x, 0.5, seed=11)])
    second = K.function([x], [K.dropout(x, 0.5, seed=12)])
    assert first.source == second.source and first.program.module is second.program.module
    reference = K.function([x], [K.dropout(x, 0.5, seed=11)], backend="reference")
    a, b = first([data]), second([data])
    assert not np.array_equal(a, b)  # the seeds still differ: they are data of each function
    np.testing.assert_array_equal(a, reference([data]))


CONV_SCRIPT = """
import warnings
import numpy as np
import symkeras.backend as K
from symkeras.codegen.numba import threads
warnings.simplefilter("error")  # Numba warns when it cannot cache a kernel
x = K.placeholder((None, 6, 6, 3))
w = K.variable(np.linspace(-1, 1, 3 * 3 * 3 * 4).reshape(3, 3, 3, 4))
loss = K.sum(K.square(K.conv2d(x, w)))
f = K.function([x], [loss] + K.gradients(loss, [x, w]))
out = f([np.linspace(0, 1, 2 * 6 * 6 * 3, dtype="float32").reshape(2, 6, 6, 3)])
print(threads.parts(), float(out[0]))
"""


def test_kernels_that_split_over_threads_are_cached(tmp_path):
    """The convolution kernels (their parts run by the shared parallel launcher when the thread pools can be
    kept apart) land in Numba's cache like every other kernel, and a second process computes the same values
    from it."""
    env = dict(os.environ, SYMKERAS_CACHE_DIR=str(tmp_path))

    def run():
        return subprocess.run([sys.executable, "-c", CONV_SCRIPT], env=env, check=True, capture_output=True,
                              text=True).stdout.split()

    first, second = run(), run()
    assert first == second
    kernels = [f[:-3] for f in os.listdir(tmp_path) if f.startswith("symkeras_kernel_") and f.endswith(".py")]
    cached = {f.split(".")[0] for f in os.listdir(tmp_path / "__pycache__") if f.endswith(".nbi")}
    assert kernels and not set(kernels) - cached
    sources = [open(tmp_path / f"{k}.py").read() for k in kernels]
    if int(first[0]) > 1:
        # one parallel module, the shared launcher; the three convolution kernels pack their arrays for it
        assert sum("numba.prange" in s and "'prange': True" in s for s in sources) == 1
        assert sum("invoke(body0[1], LAUNCH" in s for s in sources) == 3
