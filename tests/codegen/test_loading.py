"""A warm process loads its compiled functions without setting up Numba's compiler: from the program's
bundle without importing Numba (``codegen/numba/native.py``), or from Numba's cache
(``codegen/numba/loading.py``); the results are the same, the typing and lowering registries stay
unloaded until something is compiled, and compiling afterwards still works."""

import json
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
from numba import types

from symkeras.codegen.numba.loading import load_address, load_cached

_PROGRAM = textwrap.dedent("""
    import json, sys
    import numpy as np
    import symkeras.backend as K
    x = K.placeholder((None, 3))
    w = K.variable(np.arange(6, dtype="float32").reshape(3, 2))
    f = K.function([x], [K.softmax(K.dot(x, w)) * 3.0 + K.sum(x)], backend="numba")
    out = f([np.array([[1.0, -2.0, 0.5], [0.25, 2.0, -1.0]], "float32")])[0]
    numba_imported = "numba" in sys.modules
    native = bool(f.program.stats.get("native"))
    registries = "numba.np.arraymath" in sys.modules
    from symkeras.codegen.numba import loading
    kernels = [getattr(f.program.kernel_modules[k], name) for k, _, _, name in f.program.layout.functions]
    by_address = len(loading._ADDRESSES) == len(kernels) > 0 and not any(k.overloads for k in kernels)
    import numba
    later = numba.njit(lambda a: a.sum() * 2)(np.arange(4.0))  # a compile after the cached loads
    again = f([np.array([[1.0, -2.0, 0.5], [0.25, 2.0, -1.0]], "float32")])[0]  # (after Numba's compile)
    print(json.dumps({"out": out.tolist(), "registries": registries, "later": float(later),
                      "by_address": by_address, "native": native, "numba_imported": numba_imported,
                      "again": again.tolist()}))
""")


def _run_program(program, cache, **settings):
    env = dict(os.environ, SYMKERAS_CACHE_DIR=str(cache), **settings)
    out = subprocess.run([sys.executable, "-c", program], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _run(cache, **settings):
    return _run_program(_PROGRAM, cache, **settings)


def _expected():
    xs = np.array([[1.0, -2.0, 0.5], [0.25, 2.0, -1.0]])
    logits = xs @ np.arange(6.0).reshape(3, 2)
    soft = np.exp(logits - logits.max(axis=1, keepdims=True))
    return soft / soft.sum(axis=1, keepdims=True) * 3.0 + xs.sum()


def test_a_warm_process_runs_cached_code_without_numbas_registries(tmp_path):
    cold = _run(tmp_path)
    assert cold["registries"] and not cold["native"]  # (it compiled)
    warm = _run(tmp_path, SYMKERAS_NATIVE_LOAD="0")
    np.testing.assert_allclose(warm["out"], _expected(), rtol=1e-5)
    assert warm["out"] == cold["out"] == warm["again"]
    assert not warm["registries"], "loading cached kernels set up Numba's compiler"
    assert warm["by_address"], "the kernels were not loaded as machine code alone"
    assert warm["later"] == 12.0


def test_a_warm_process_runs_the_programs_bundle_without_importing_numba(tmp_path):
    cold = _run(tmp_path)
    warm = _run(tmp_path)
    assert warm["native"] and not warm["numba_imported"]
    np.testing.assert_allclose(warm["out"], _expected(), rtol=1e-5)
    # the same machine code; the step still runs after Numba was imported and compiled something
    assert warm["out"] == cold["out"] == warm["again"]
    assert warm["later"] == 12.0


def test_load_cached_says_whether_the_cache_held_the_function(tmp_path):
    module = tmp_path / "cached_fn.py"
    module.write_text("import numba\n\n@numba.njit(cache=True)\ndef twice(a):\n    return a * 2\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import cached_fn

        signature = (types.Array(types.float64, 1, "C"),)
        assert not load_cached(cached_fn.twice, signature)
        cached_fn.twice.compile(signature)
        assert load_cached(cached_fn.twice, signature)  # (already in place)
        fresh = numba.njit(cache=True)(cached_fn.twice.py_func)  # a new dispatcher: loads from the disk
        assert load_cached(fresh, signature)
        np.testing.assert_array_equal(fresh(np.arange(3.0)), [0.0, 2.0, 4.0])
        assert not load_cached(numba.njit(cached_fn.twice.py_func), signature)  # no cache=True: nothing to load
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("cached_fn", None)


def test_load_address_gives_the_cached_machine_code_once_per_process(tmp_path):
    module = tmp_path / "address_fn.py"
    module.write_text("import numba\n\n@numba.njit(cache=True, no_cpython_wrapper=True)\n"
                      "def thrice(a):\n    return a * 3\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import address_fn

        signature = (types.Array(types.float32, 2, "C"),)
        assert load_address(address_fn.thrice, signature) is None  # nothing cached yet
        address_fn.thrice.compile(signature)
        compiled = address_fn.thrice.overloads[signature]
        fresh = numba.njit(cache=True, no_cpython_wrapper=True)(address_fn.thrice.py_func)
        address, returns = load_address(fresh, signature)
        assert address and returns == compiled.signature.return_type == types.Array(types.float32, 2, "C")
        assert not fresh.overloads  # (machine code alone: no dispatcher overload made)
        assert load_address(fresh, signature) == (address, returns)  # (the same code, not loaded again)
        assert load_address(numba.njit(address_fn.thrice.py_func), signature) is None  # no cache=True
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("address_fn", None)


_FALLBACK_PROGRAM = textwrap.dedent("""
    import json
    import numpy as np
    import symkeras.backend as K
    from symkeras.layers import Dense, Embedding, GlobalAveragePooling1D
    from symkeras.models import Sequential
    x = K.placeholder((2, 3), name="x")
    f = K.function([x], [K.exp(x) * 2.0 + 1.0], name="fallback_probe")
    w = np.linspace(0, 1, 6, dtype="float32").reshape(2, 3)
    first = f([w])[0]
    frozen = w.copy()
    frozen.setflags(write=False)  # the step falls back to its kernels' dispatchers, which load them again
    again = [f([frozen])[0], f([w])[0]]
    np.random.seed(0)
    m = Sequential([Embedding(10, 4, input_length=5), GlobalAveragePooling1D(), Dense(2, activation="softmax")])
    m.compile("sgd", "categorical_crossentropy")
    p = m.predict(np.arange(10).reshape(2, 5))
    try:
        m.predict(np.full((2, 5), 12))  # a kernel that raises, loaded by address
        error = None
    except ValueError as e:
        error = str(e)
    print(json.dumps({"first": first.tolist(), "again": [a.tolist() for a in again], "p": p.tolist(),
                      "error": error}))
""")


def test_a_warm_process_mixes_address_loaded_and_dispatcher_loaded_kernels(tmp_path):
    env = dict(os.environ, SYMKERAS_CACHE_DIR=str(tmp_path))
    env.pop("SYMKERAS_STRICT_KERNEL_TYPES", None)  # (the tests' setting: a mispredicted type would raise)
    runs = []
    for _ in range(2):  # cold, then warm (the kernels loaded as machine code first)
        out = subprocess.run([sys.executable, "-c", _FALLBACK_PROGRAM], env=env, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stdout + out.stderr
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    cold, warm = runs
    expected = np.exp(np.linspace(0, 1, 6).reshape(2, 3)) * 2 + 1
    for run in runs:
        np.testing.assert_allclose(run["first"], expected, rtol=1e-6)
        for values in run["again"]:
            np.testing.assert_allclose(values, expected, rtol=1e-6)
        assert "embedding_1" in run["error"] and "index 12 is outside [0, 10)" in run["error"]
    assert warm["p"] == cold["p"]


_CONV_PROGRAM = textwrap.dedent("""
    import glob, json, os, sys
    import numpy as np
    import symkeras.backend as K
    x = K.placeholder((None, 6, 6, 2), name="images")
    k = K.variable(np.linspace(-1, 1, 3 * 3 * 2 * 4, dtype="float32").reshape(3, 3, 2, 4))
    loss = K.sum(K.square(K.conv2d(x, k)))
    (g,) = K.gradients(loss, [k])
    f = K.function([x], [loss], updates=[(k, k - 0.001 * g)], name="conv_probe")
    images = np.linspace(-1, 1, 8 * 6 * 6 * 2, dtype="float32").reshape(8, 6, 6, 2)
    losses = [float(f([images])[0]) for _ in range(3)]
    numba_imported = "numba" in sys.modules
    from symkeras.codegen import cache
    from symkeras.codegen.numba import native
    parallel = []
    for path in glob.glob(os.path.join(cache.cache_dir(), "symkeras_native_*.bin")):
        header, blobs = native.read(path)
        parallel += [("numba_parallel_for" in native.elf_symbols(blobs[i])[1]) for i in header["objects"]]
    print(json.dumps({"losses": losses, "native": bool(f.program.stats.get("native")),
                      "numba_imported": numba_imported, "parallel": any(parallel)}))
""")


def test_kernels_with_parallel_loops_run_from_the_bundle_on_the_threading_layer_it_starts(tmp_path):
    cold = _run_program(_CONV_PROGRAM, tmp_path)
    warm = _run_program(_CONV_PROGRAM, tmp_path)
    assert warm["native"] and not warm["numba_imported"] and warm["parallel"]
    assert warm["losses"] == cold["losses"] and warm["losses"][2] < warm["losses"][0]
