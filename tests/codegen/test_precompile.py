"""New kernels compile in helper processes, with the argument types the step calls them with."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen.numba import precompile
from symkeras.codegen.numba.loading import load_address


def _training_step(scale, backend="numba"):
    """Dense + dropout + softmax CE with an SGD-momentum update; ``scale`` makes its kernels new."""
    x = K.placeholder((None, 5), name="x")
    y = K.placeholder((None, 3), name="y")
    w = K.variable(np.linspace(-1, 1, 15).reshape(5, 3) * scale, name="w")
    b = K.variable(np.zeros(3), name="b")
    v = K.zeros((5, 3))
    h = K.dropout(K.relu(K.bias_add(K.dot(x, w), b)), 0.25, seed=3)
    loss = K.mean(K.categorical_crossentropy(y, K.softmax(h * scale)))
    gw, gb = K.gradients(loss, [w, b])
    new_v = 0.9 * v - 0.1 * gw
    updates = [(v, new_v), (w, w + new_v), (b, b - 0.1 * gb)]
    return K.function([x, y], [loss], updates=updates, name="precompile_probe", backend=backend), w


def _data():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(7, 5)).astype("float32"), np.eye(3, dtype="float32")[np.arange(7) % 3]]


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMKERAS_CACHE_DIR", str(tmp_path))
    return tmp_path


def test_helpers_compile_the_kernels_the_step_then_uses(fresh_cache, monkeypatch):
    monkeypatch.setenv("SYMKERAS_COMPILE_WORKERS", "1")
    f, w = _training_step(1.2345)
    loss = f(_data())
    stats = f.program.stats['compile']
    # (kernels that other tests of this session compiled already are not pending)
    assert stats["helpers"] == 1 and stats["pending"] >= precompile.MIN_KERNELS_FOR_HELPERS
    # the step calls the machine code the helper cached, loaded without a compile or a dispatcher overload
    # (loading.load_address); those compiled here have their overload
    functions = [(job, getattr(precompile._module(job["name"], job["path"]), job.get("function", "kernel")))
                 for job in f.program.kernel_jobs]
    loaded = [(job, function) for job, function in functions if not function.overloads]
    assert len(loaded) >= stats["pending"] - stats["here"] - 1 > 0  # (the helper's jobs, the step's among them)
    for job, function in loaded:
        for signature in job["signatures"]:
            assert load_address(function, precompile.numba_signature(signature))[0] in set(f.program.fns)
    # every kernel is called through its address, with the types the linker predicted
    called = sum(len(job["signatures"]) for job in f.program.kernel_jobs)
    assert len(f.program.layout.functions) == called and "import kernel as" not in f.source
    assert all(precompile.is_cached(job["path"], job.get("function", "kernel")) for job in f.program.kernel_jobs)
    # the step was one of the jobs, compiled with the types of the first call's arguments
    assert precompile.is_cached(f.program.path, "step") and len(f.program.module.step.signatures) == 1

    monkeypatch.setenv("SYMKERAS_COMPILE_WORKERS", "0")
    K.clear_session()
    serial, serial_w = _training_step(1.2345)
    assert serial.program.stats['compile'] is None
    np.testing.assert_array_equal(serial(_data()), loss)
    assert serial.program.stats['compile'] == {"pending": 0, "here": 0, "helpers": 0}
    np.testing.assert_array_equal(K.get_value(serial_w), K.get_value(w))


def test_a_helper_alone_compiles_every_job_into_the_cache(fresh_cache, tmp_path):
    import json
    import subprocess

    f, _ = _training_step(2.5)  # new kernels, not compiled in this process
    jobs = [job for job in f.program.kernel_jobs
            if not precompile.is_cached(job["path"], job.get("function", "kernel"))]
    assert jobs  # (kernels without the scale in them were compiled by earlier tests)
    claims = tmp_path / "claims"
    claims.mkdir()
    job_file = claims / "jobs.json"
    job_file.write_text(json.dumps(jobs))
    helper = subprocess.run(precompile.helper_command(str(job_file), str(claims)), check=True, timeout=600,
                            stdin=subprocess.DEVNULL)  # (a helper serves its input's compiles next: none)
    assert all(precompile.is_cached(job["path"], job.get("function", "kernel")) for job in jobs)
    # each job claimed, and marked done (what the compiling process waits for, not the helper's exit), and
    # the helper's mark that it went through them all
    marks = [p.name for p in claims.glob("helper-*.finished")]
    assert {p.name for p in claims.iterdir()} - {"jobs.json", *marks} == {f"{i}{done}" for i in range(len(jobs))
                                                                          for done in ("", ".done")}
    assert len(marks) == 1 and helper.returncode == 0
    # the first call then compiles the step alone (unless a step of the same code, differing only in its
    # kernels, was compiled before: it names no kernel), and computes what the reference does
    step_compiled_before = precompile.is_cached(f.program.path, "step")
    loss = f(_data())[0]
    assert f.program.stats['compile']["pending"] == (0 if step_compiled_before else 1)
    assert precompile.is_cached(f.program.path, "step")
    reference, _ = _training_step(2.5, backend="reference")
    np.testing.assert_allclose(loss, reference(_data())[0], rtol=1e-5)


def test_no_helpers_for_a_few_kernels(fresh_cache, monkeypatch):
    monkeypatch.delenv("SYMKERAS_COMPILE_WORKERS", raising=False)
    assert precompile.helper_count(precompile.MIN_KERNELS_FOR_HELPERS - 1) == 0
    monkeypatch.setenv("SYMKERAS_COMPILE_WORKERS", "3")
    assert precompile.helper_count(1) == 3


def test_a_kernel_that_fails_to_compile_is_left_to_the_step(fresh_cache, tmp_path):
    bad = tmp_path / "symkeras_kernel_broken.py"
    bad.write_text("import numba\n@numba.njit(cache=True)\ndef kernel(a0):\n    return undefined_name\n")
    claims = tmp_path / "claims"
    claims.mkdir()
    jobs = [{"name": "symkeras_kernel_broken", "path": str(bad), "signatures": [[["float32", 1, "C", False]]]}]
    assert precompile.run_jobs(jobs, str(claims)) == 0
    assert precompile.run_jobs(jobs, str(claims)) == 0  # claimed already: not tried twice


def test_an_argument_type_the_linker_did_not_foresee_falls_back_to_linked_kernels(monkeypatch):
    monkeypatch.delenv("SYMKERAS_STRICT_KERNEL_TYPES")
    x = K.placeholder((2, 3), name="x")
    f = K.function([x], [K.exp(x) * 2.0 + 1.0], name="readonly_probe")
    assert "invoke_flat(fns[" in f.source and "import kernel as" not in f.source
    writable = np.linspace(0, 1, 6, dtype="float32").reshape(2, 3)
    expected = np.exp(writable) * 2 + 1
    np.testing.assert_allclose(f([writable])[0], expected, rtol=1e-6)
    readonly = writable.copy()
    readonly.setflags(write=False)  # a read-only array is another Numba type
    np.testing.assert_allclose(f([readonly])[0], expected, rtol=1e-6)
    assert "import kernel as kernel0" in f.source  # the step now calls its kernels through their dispatchers
    np.testing.assert_allclose(f([writable])[0], expected, rtol=1e-6)


def test_strict_mode_reports_a_mispredicted_kernel_argument_type():
    from numba.core.errors import TypingError

    x = K.placeholder((2, 3), name="x")
    f = K.function([x], [K.exp(x) * 3.0 - 1.0], name="strict_probe")
    readonly = np.ones((2, 3), dtype="float32")
    readonly.setflags(write=False)
    with pytest.raises(TypingError, match="symkeras generated a kernel call"):
        f([readonly])


def _sleeper(seconds):
    import subprocess
    import sys

    return subprocess.Popen([sys.executable, "-c", f"import time; time.sleep({seconds})"])


def test_the_compiling_process_waits_for_the_jobs_not_for_the_helpers_exit(tmp_path):
    import time

    claims = tmp_path / "claims"
    claims.mkdir()
    for i in range(3):
        (claims / str(i)).touch()
        (claims / f"{i}.done").touch()
    helper = _sleeper(30)  # a helper still exiting
    try:
        start = time.monotonic()
        precompile.wait_for_jobs(3, str(claims), [helper])
        assert time.monotonic() - start < 5 and helper.poll() is None
        precompile._LINGERING.append(([helper], str(claims)))
        precompile.reap_helpers()
        assert claims.exists()  # (its helper still runs: the folder stays)
    finally:
        helper.kill()
    precompile.reap_helpers(timeout=5)
    assert not claims.exists() and not any(c == str(claims) for _, c in precompile._LINGERING)


def test_a_helper_that_dies_with_a_job_claimed_does_not_hang_the_compile(tmp_path):
    claims = tmp_path / "claims"
    claims.mkdir()
    (claims / "0").touch()  # claimed, never done
    dead = _sleeper(0)
    dead.wait()
    precompile.wait_for_jobs(1, str(claims), [dead])  # returns: no helper is left to finish it
    assert not (claims / "0.done").exists()


def test_an_interrupted_compile_stops_its_helpers_at_once(tmp_path, monkeypatch):
    import time

    monkeypatch.setenv("SYMKERAS_COMPILE_WORKERS", "1")
    jobs = [{"name": f"symkeras_kernel_missing{i}", "path": str(tmp_path / f"missing{i}.py"),
             "signatures": [[["float32", 1, "C", False]]]} for i in range(6)]

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(precompile, "run_jobs", interrupted)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        precompile.compile_kernels(jobs)
    assert time.monotonic() - start < 10
    assert not precompile._LINGERING  # the helper was killed and reaped, its claims folder removed


def test_is_cached_reads_numbas_index_names_with_or_without_a_listing(tmp_path):
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "symkeras_kernel_ab.kernel-5.py311.nbi").write_bytes(b"")
    (tmp_path / "__pycache__" / "symkeras_kernel_ab.work-9.py311.nbc").write_bytes(b"")  # data without index
    listing: dict = {}
    for function, expected in (("kernel", True), ("work", False), ("step", False)):
        path = str(tmp_path / "symkeras_kernel_ab.py")
        assert precompile.is_cached(path, function) is expected
        assert precompile.is_cached(path, function, listing) is expected
    assert precompile.is_cached(str(tmp_path / "missing" / "m.py"), "kernel", listing) is False


def test_the_helpers_are_kept_for_the_next_compile_and_end_with_their_input(fresh_cache, monkeypatch):
    monkeypatch.setenv("SYMKERAS_COMPILE_WORKERS", "1")
    precompile.POOL.close()
    first, w1 = _training_step(1.6180)
    first(_data())
    helpers = list(precompile.POOL.procs)
    assert len(helpers) == 1 and first.program.stats["compile"]["helpers"] == 1
    second, w2 = _training_step(2.7183)  # new kernels: a second compile, on the same helper
    second(_data())
    assert precompile.POOL.procs == helpers and helpers[0].poll() is None
    for w, scale in ((w1, 1.6180), (w2, 2.7183)):
        reference, v = _training_step(scale, backend="reference")
        reference(_data())
        np.testing.assert_allclose(K.get_value(w), K.get_value(v), rtol=1e-5, atol=1e-6)
    precompile.reap_helpers()
    assert not precompile._LINGERING  # (each compile's claims folder is gone once its helper is through it)
    precompile.POOL.close(timeout=5.0)
    assert helpers[0].returncode == 0 and not precompile.POOL.procs  # it ended at the end of its input
