"""A damaged kernel-cache entry heals itself (issue 13, defect 5): an edited or truncated module is written
again, a Numba cache file that fails to load is removed and compiled again, each with a warning naming the
file; later processes then run without one.  Cache files follow the umask, not owner-only."""

import glob
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

_PROGRAM = textwrap.dedent("""
    import json, warnings
    import numpy as np
    import symkeras.backend as K
    x = K.placeholder((None, 3))
    w = K.variable(np.arange(6, dtype="float32").reshape(3, 2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        f = K.function([x], [K.relu(K.dot(x, w)) * 3.0 + 1.0], backend="numba")
        out = f([np.array([[1.0, -2.0, 0.5]], "float32")])[0]
    print(json.dumps({"out": out.tolist(), "warnings": [str(w.message) for w in caught
                                                        if "symkeras:" in str(w.message)],
                      "native": bool(f.program.stats.get("native")), "step": f.program.path}))
""")
EXPECTED = [[3 * max(0.0, 1 * 0 - 2 * 2 + 0.5 * 4) + 1, 3 * max(0.0, 1 * 1 - 2 * 3 + 0.5 * 5) + 1]]


def _run(cache, native="0"):
    # (these damage what a process loads through Numba; a program's bundle, which a warm process loads
    # first, has its own test below)
    env = dict(os.environ, SYMKERAS_CACHE_DIR=str(cache), SYMKERAS_NATIVE_LOAD=native)
    out = subprocess.run([sys.executable, "-c", _PROGRAM], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _kernel_files(cache, suffix):
    return sorted(glob.glob(os.path.join(str(cache), "__pycache__", f"symkeras_kernel_*{suffix}")))


def _damage_and_heal(cache, damage, expect, native="0"):
    first = _run(cache, native)
    assert first["out"] == EXPECTED and not first["warnings"]
    damage(first)
    healed = _run(cache, native)
    assert healed["out"] == EXPECTED, healed
    assert len(healed["warnings"]) >= 1 and all(expect in w for w in healed["warnings"]), healed["warnings"]
    after = _run(cache, native)
    assert after["out"] == EXPECTED and not after["warnings"], after["warnings"]
    return after


def test_an_edited_step_module_is_written_again_not_run(tmp_path):
    def edit(first):
        with open(first["step"]) as fh:
            text = fh.read()
        # one line changed: the step returns its input instead of the result
        edited = text.replace("    return (", "    return (in0,) or (", 1)
        assert edited != text
        with open(first["step"], "w") as fh:
            fh.write(edited)

    _damage_and_heal(tmp_path, edit, "does not match its content hash")


@pytest.mark.parametrize("how", ["flipped", "truncated"])
def test_a_damaged_program_bundle_is_removed_and_written_again(tmp_path, how):
    def damage(first):
        assert _run(tmp_path, "1")["native"]  # (the bundle loads before it is damaged)
        (path,) = glob.glob(os.path.join(str(tmp_path), "symkeras_native_*.bin"))
        with open(path, "rb") as fh:
            data = bytearray(fh.read())
        if how == "flipped":
            data[-100] ^= 0xFF  # (a byte of machine code)
        with open(path, "wb") as fh:
            fh.write(data if how == "flipped" else data[: len(data) // 2])

    after = _damage_and_heal(tmp_path, damage, "damaged program bundle", native="1")
    assert after["native"]


def test_a_truncated_kernel_module_is_written_again(tmp_path):
    def truncate(first):
        path = sorted(glob.glob(os.path.join(str(tmp_path), "symkeras_kernel_*.py")))[0]
        with open(path) as fh:
            text = fh.read()
        with open(path, "w") as fh:
            fh.write(text[: len(text) // 2])

    _damage_and_heal(tmp_path, truncate, "does not match its content hash")


@pytest.mark.parametrize("suffix,how", [(".nbi", "emptied"), (".nbc", "truncated")])
def test_a_damaged_numba_cache_file_is_removed_and_compiled_again(tmp_path, suffix, how):
    def damage(first):
        files = _kernel_files(tmp_path, suffix)
        assert files
        for path in files:
            with open(path, "rb") as fh:
                data = fh.read()
            with open(path, "wb") as fh:
                fh.write(b"" if how == "emptied" else data[: len(data) // 3])

    _damage_and_heal(tmp_path, damage, "failed to load")


def test_cache_files_follow_the_umask_so_a_team_can_share_the_directory(tmp_path):
    mask = os.umask(0o022)
    try:
        _run(tmp_path)
    finally:
        os.umask(mask)
    modules = glob.glob(os.path.join(str(tmp_path), "symkeras_*.py"))
    assert modules and all(os.stat(p).st_mode & 0o777 == 0o644 for p in modules)
    codes = glob.glob(os.path.join(str(tmp_path), "__pycache__", "symkeras_*.code"))  # their bytecode
    assert codes and all(os.stat(p).st_mode & 0o777 == 0o644 for p in codes)


_TWO = textwrap.dedent("""
    import sys
    import numpy as np
    import symkeras.backend as K
    x = K.placeholder((None, 3))
    expr = {"A": lambda t: K.tanh(t) * 2.0, "B": lambda t: K.exp(-t) + K.square(t)}[sys.argv[1]]
    f = K.function([x], [expr(x)], backend="numba")
    print(f([np.ones((2, 3), "float32")])[0][0, 0])
""")


def _stems(cache):
    return {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(str(cache), "symkeras_*.py"))}


def test_the_bound_evicts_the_least_recently_used_modules_with_their_compiled_code(tmp_path):
    from symkeras.codegen import cache

    def run(which, megabytes):
        env = dict(os.environ, SYMKERAS_CACHE_DIR=str(tmp_path), SYMKERAS_CACHE_MAX_MB=str(megabytes))
        out = subprocess.run([sys.executable, "-c", _TWO, which], env=env, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        return float(out.stdout.split()[-1])

    first = run("A", 1024)
    a = _stems(tmp_path)
    size_a = sum(e["bytes"] for e in cache.entries(str(tmp_path)))
    # checked when B's step module is written (before B is compiled): less room than A takes, so A's
    # modules go (least recently used) and B's, in use, stay
    run("B", size_a / 2**20 * 0.5)
    b = _stems(tmp_path)
    assert b - a and a - b  # B's modules are there, A's (not shared with B) gone
    compiled = os.listdir(os.path.join(str(tmp_path), "__pycache__"))
    assert not [f for f in compiled if f.split(".", 1)[0] in (a - b)]  # their compiled code went with them
    assert run("A", 1024) == first  # evicted: simply compiled again


def test_loading_marks_use_without_touching_numba_s_key(tmp_path):
    from symkeras.codegen import cache

    path = tmp_path / "symkeras_kernel_x.py"
    path.write_text("x = 1\n")
    os.utime(path, (1000, 2000))
    cache.mark_used(str(path))
    stat = os.stat(path)
    assert stat.st_mtime == 2000 and stat.st_atime > 1000


def test_the_cache_command_reports_trims_and_clears(tmp_path):
    env = dict(os.environ, SYMKERAS_CACHE_DIR=str(tmp_path))
    subprocess.run([sys.executable, "-c", _TWO, "A"], env=env, check=True, capture_output=True, timeout=300)

    def command(*args):
        return subprocess.run([sys.executable, "-m", "symkeras.cache", *args], env=env, check=True,
                              capture_output=True, text=True, timeout=120).stdout

    modules = len(_stems(tmp_path))
    programs = len(glob.glob(os.path.join(str(tmp_path), "symkeras_program_*.json")))
    bundles = len(glob.glob(os.path.join(str(tmp_path), "symkeras_native_*.bin")))
    report = command("info")
    assert f"directory: {tmp_path}" in report
    assert f"modules: {modules}\nprograms: {programs}\nbundles: {bundles}\n" in report
    assert "bound: 1,024 MB" in report and programs == bundles == 1  # the one function's program and bundle
    assert command("trim") == f"removed 0 entries from {tmp_path}\n"
    assert command("clear") == f"removed {modules + programs + bundles} entries from {tmp_path}\n"
    assert not _stems(tmp_path) and "modules: 0\nprograms: 0\nbundles: 0" in command("info")


def _code_files(cache):
    return sorted(glob.glob(os.path.join(str(cache), "__pycache__", "symkeras_*.code")))


def test_each_module_keeps_its_bytecode_beside_numba_s_files(tmp_path):
    """Generated modules' bytecode is kept in the cache (Python writes no .pyc under
    PYTHONDONTWRITEBYTECODE): the interpreter's magic number, then the module's code."""
    import marshal

    _run(tmp_path)
    modules = glob.glob(os.path.join(str(tmp_path), "symkeras_*.py"))
    codes = _code_files(tmp_path)
    assert len(codes) == len(modules)
    for path in codes:
        with open(path, "rb") as fh:
            data = fh.read()
        assert data.startswith(importlib.util.MAGIC_NUMBER)
        code = marshal.loads(data[len(importlib.util.MAGIC_NUMBER):])
        stem = os.path.basename(path).split(".")[0]
        assert code.co_filename == os.path.join(str(tmp_path), stem + ".py")


@pytest.mark.parametrize("damage", [b"garbage", b"\x00\x00\r\n" + b"\xe3" * 40,  # another Python's magic
                                    importlib.util.MAGIC_NUMBER + b"\xff\x01"])  # bad marshal data
def test_a_damaged_or_foreign_bytecode_file_is_compiled_again(tmp_path, damage):
    first = _run(tmp_path)
    assert first["out"] == EXPECTED
    for path in _code_files(tmp_path):
        with open(path, "wb") as fh:
            fh.write(damage)
    again = _run(tmp_path)
    assert again["out"] == EXPECTED and not again["warnings"]
    for path in _code_files(tmp_path):
        with open(path, "rb") as fh:
            assert fh.read().startswith(importlib.util.MAGIC_NUMBER)  # written again
