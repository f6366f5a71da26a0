"""A program's bundle (codegen/numba/native.py, bundling.py): the step's and kernels' machine code in one
file, which a program restored from the program cache runs without Numba's dispatcher; its file format
is checked before anything in it runs, and arguments of other types go the way through Numba."""

import glob
import os

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen import cache
from symkeras.codegen.numba import native

X = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)


def _lookup(scale=2.0):
    """A function whose kernels raise on bad input (a Gather of an index out of range), its outputs
    boxed by the step: a softmax of a product, the gathered rows, and a variable update."""
    x = K.placeholder((None, 3), name="x")
    ids = K.placeholder((None,), dtype="int32", name="ids")
    w = K.variable(np.arange(15, dtype="float32").reshape(5, 3), name="w")
    rows = K.gather(w, ids)
    out = K.softmax(K.dot(x, K.transpose(w))) * scale
    return K.function([x, ids], [out, rows], updates=[(w, w * 0.5)], name="native_probe"), w


def _bundles(function=None):
    key = "*" if function is None else function.program_key
    return glob.glob(os.path.join(cache.cache_dir(), f"symkeras_native_{key}_*.bin"))


def _without_bundle(function):
    """``function``, its program's bundles removed (the suite shares one cache: an earlier run may have
    written them), so that its first call loads through Numba and writes the bundle again."""
    for path in _bundles(function):
        os.remove(path)
    return function


def test_a_restored_program_runs_its_bundle_with_the_same_results_and_errors():
    first, first_w = _lookup()
    _without_bundle(first)
    ids = np.array([0, 4, 2], dtype="int32")
    want = [first([X[:3], ids]) for _ in range(2)]  # (its first call loads through Numba, writing the bundle)
    assert not first.program.stats.get("native")
    again, again_w = _lookup()
    assert again.program.stats.get("restored")
    got = [again([X[:3], ids]) for _ in range(2)]
    assert again.program.stats.get("native"), "the restored program did not run from its bundle"
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(K.get_value(again_w), K.get_value(first_w))
    # an index out of range: the kernel's error, as through Numba, and the variable left as it was
    before = K.get_value(again_w)
    with pytest.raises(Exception) as through_numba:
        first([X[:3], np.array([0, 7, 1], dtype="int32")])
    with pytest.raises(Exception) as from_bundle:
        again([X[:3], np.array([0, 7, 1], dtype="int32")])
    assert type(from_bundle.value) is type(through_numba.value)
    assert str(from_bundle.value) == str(through_numba.value)
    np.testing.assert_array_equal(K.get_value(again_w), before)
    # it still runs after the error
    np.testing.assert_array_equal(again([X[:3], ids])[1], before[[0, 4, 2]])


def test_arguments_of_other_types_run_through_numba_from_then_on(monkeypatch):
    monkeypatch.delenv("SYMKERAS_STRICT_KERNEL_TYPES", raising=False)  # (the suite's: a mispredicted type raises)
    first, first_w = _lookup(3.0)
    _without_bundle(first)
    ids = np.array([1, 2], dtype="int32")
    want = first([X, ids])
    again, again_w = _lookup(3.0)
    assert again.program.stats.get("restored")
    frozen = X.copy()
    frozen.flags.writeable = False  # (a read-only input: the bundle's step was compiled for a writable one)
    got = again([frozen, ids])
    assert again.program._native is None and again.program.fns is not None  # (it left the bundle's step)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again([X, ids])[0], first([X, ids])[0])
    np.testing.assert_array_equal(K.get_value(again_w), K.get_value(first_w))


def test_a_bundle_is_checked_before_it_loads(tmp_path):
    first = _without_bundle(_lookup(4.0)[0])
    first([X, np.array([1], dtype="int32")])
    (path,) = _bundles(first)
    header, blobs = native.read(path)
    assert header["versions"] == native.runtime_versions()
    step_object = blobs[header["objects"][-1]]
    defined, undefined = native.elf_symbols(step_object)
    assert header["step"]["wrapper"] in defined
    assert "numba_unpickle" in undefined and not defined & undefined
    with open(path, "rb") as fh:
        data = fh.read()
    for name, damaged in (("other", b"not a bundle" + data[12:]), ("short", data[:-10]),
                          ("flipped", data[:-10] + bytes([data[-10] ^ 1]) + data[-9:])):
        target = tmp_path / name
        target.write_bytes(damaged)
        with pytest.raises(native.BundleError):
            native.read(str(target))
    with pytest.raises(native.BundleError):
        native.elf_symbols(b"\x7fELF" + bytes(60))
    # a bundle for other argument types, or made on another host, is not loaded
    signature = header["signature"]
    assert native.load(path, [["float64", *s[1:]] for s in signature]) is None
    assert header["machine"] == list(native.host_machine()) and native.machine_tag() in os.path.basename(path)
    here, elsewhere = tmp_path / "here.bin", tmp_path / "elsewhere.bin"
    native.write(str(here), header, blobs)
    native.write(str(elsewhere), dict(header, machine=[header["machine"][0], "another-cpu", ""]), blobs)
    assert native.load(str(here), signature) is not None and native.load(str(elsewhere), signature) is None
    # the cache's bound and `python -m symkeras.cache clear` count bundles among its entries
    assert path in [entry["path"] for entry in cache.entries()]
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / os.path.basename(path)).write_bytes(data)
    assert cache.clear(str(kept)) == 1 and not os.listdir(kept)


def test_accepts_wants_the_compiled_types():
    step = native.NativeStep(None, np.zeros(1, np.int64), [("float32", 2, "C", False), ("int64", 1, "C", True)])
    good = [np.zeros((2, 3), np.float32), np.zeros(3, np.int64)]
    assert step.accepts(good)
    readonly = np.zeros((2, 3), np.float32)
    readonly.flags.writeable = False
    for bad in ([np.zeros((2, 3), np.float64), good[1]], [np.zeros(3, np.float32), good[1]],
                [np.zeros((3, 2), np.float32).T, good[1]], [readonly, good[1]], good[:1], [3.0, good[1]]):
        assert not step.accepts(bad)
    frozen = np.zeros(3, np.int64)
    frozen.flags.writeable = False
    assert step.accepts([good[0], frozen])  # (read-only where the step only reads)


def test_the_versions_are_read_without_importing_the_packages():
    import llvmlite
    import numba

    assert native.versioneer_version("numba") == numba.__version__
    assert native.versioneer_version("llvmlite") == llvmlite.__version__
    assert native.versioneer_version("numpy") is None  # (no versioneer file: importlib.metadata answers)
