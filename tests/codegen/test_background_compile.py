"""A function's first calls run on the reference evaluator while helper processes compile its step."""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.cache import wait_for_compiles
from symkeras.codegen.numba import kernel, precompile
from symkeras.graph.basic import Op


def _training_step(scale, backend="numba"):
    """Dense + dropout + softmax CE with an RMSprop update; ``scale`` makes its kernels new."""
    x = K.placeholder((None, 6), name="x")
    y = K.placeholder((None, 3), name="y")
    w = K.variable(np.linspace(-1, 1, 18).reshape(6, 3) * scale, name="w")
    b = K.variable(np.zeros(3), name="b")
    a = K.zeros((6, 3))
    h = K.dropout(K.relu(K.bias_add(K.dot(x, w), b)), 0.3, seed=5)
    loss = K.mean(K.categorical_crossentropy(y, K.softmax(h * scale)))
    gw, gb = K.gradients(loss, [w, b])
    new_a = 0.9 * a + 0.1 * K.square(gw)
    updates = [(a, new_a), (w, w - 0.05 * gw / (K.sqrt(new_a) + 1e-7)), (b, b - 0.05 * gb)]
    return K.function([x, y], [loss], updates=updates, name="background_probe", backend=backend), w


def _batches(count):
    rng = np.random.default_rng(3)
    return [[rng.normal(size=(9, 6)).astype("float32"), np.eye(3, dtype="float32")[rng.integers(0, 3, 9)]]
            for _ in range(count)]


def _run(f, batches):
    return [float(f(batch)[0]) for batch in batches]


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMKERAS_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("SYMKERAS_COMPILE_WORKERS", raising=False)
    return tmp_path


@pytest.mark.parametrize("cores", [16, 2])
def test_calls_run_on_the_reference_while_helpers_compile_then_the_compiled_step_goes_on(fresh_cache,
                                                                                          monkeypatch, cores):
    """With a core to spare, this process runs the calls alone; on two cores, it compiles beside its helper
    between the calls (the calls taking a fifth of the time)."""
    monkeypatch.setenv("SYMKERAS_BACKGROUND_COMPILE", "1")
    monkeypatch.setenv("SYMKERAS_COMPILE_WORKERS", "1")
    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    f, w = _training_step(1.4142 if cores == 16 else 1.3161)
    losses = _run(f, _batches(3))
    program = f.program
    assert program.stats["compile"]["background"] and program.stats["compile"]["helpers"] == 1
    if cores == 16:
        # the compile is not finished after three calls (its helper takes longer than that to start)
        assert program.fns is None and program.stats["reference_calls"] == 3
        assert program.stats["compile_seconds"] is None and program.stats["compile"]["here"] == 0
        with open(os.devnull, "w") as devnull:
            assert "compile: in the background" in f.profile(file=devnull)
        wait_for_compiles()
    else:
        assert program.stats["compile"]["here"] >= 1  # (the second and third calls compiled a job each first)
        while program.fns is None and len(losses) < 400:  # (each call compiles a job or two first)
            losses += _run(f, _batches(len(losses) + 1)[-1:])  # (the batches of _batches(n) are its first n)
    batches = _batches(len(losses) + 5)
    losses += _run(f, batches[len(losses):])
    assert program.fns is not None and program.stats["compile_seconds"] > 0
    assert 1 <= program.stats["reference_calls"] < len(batches)
    assert all(precompile.is_cached(job["path"], job.get("function", "kernel")) for job in program.kernel_jobs)
    tiered = np.array(losses), K.get_value(w)

    # the same calls compiled from the first (the cache is filled now) and on the reference alone: the
    # dropout masks carry on where the reference calls left them, so the numbers agree to rounding
    for variant in ("compiled", "reference"):
        monkeypatch.setenv("SYMKERAS_BACKGROUND_COMPILE", "0")
        g, v = _training_step(1.4142 if cores == 16 else 1.3161, backend="numba" if variant == "compiled"
                              else "reference")
        expected = np.array(_run(g, batches))
        if variant == "compiled":
            assert g.program.fns is not None and "reference_calls" not in g.program.stats
        np.testing.assert_allclose(tiered[0], expected, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(tiered[1], K.get_value(v), rtol=1e-4, atol=1e-5)


def test_without_background_compile_the_first_call_runs_the_compiled_step(fresh_cache, monkeypatch):
    monkeypatch.setenv("SYMKERAS_BACKGROUND_COMPILE", "0")
    f, _ = _training_step(1.7321)
    f(_batches(1)[0])
    assert f.program.fns is not None and "reference_calls" not in f.program.stats
    assert not f.program.stats["compile"].get("background")


def test_a_profiled_function_compiles_before_its_first_call(fresh_cache, monkeypatch):
    monkeypatch.setenv("SYMKERAS_BACKGROUND_COMPILE", "1")
    x = K.placeholder((None, 4), name="x")
    f = K.function([x], [K.tanh(x) * 2.2361], profile=True)
    f([np.ones((2, 4), np.float32)])
    assert f.program.fns is not None and "reference_calls" not in f.program.stats


def test_a_process_exits_at_once_stopping_its_unfinished_background_compile(fresh_cache):
    script = textwrap.dedent("""
        import sys, time
        import numpy as np
        sys.path.insert(0, sys.argv[1])
        from test_background_compile import _batches, _training_step
        from symkeras.codegen.numba import precompile

        f, _ = _training_step(2.4495)
        f(_batches(1)[0])
        assert f.program.fns is None
        print(" ".join(str(p.pid) for p in precompile._BACKGROUND[0].procs), flush=True)
        print(time.monotonic(), flush=True)
    """)
    env = dict(os.environ, SYMKERAS_BACKGROUND_COMPILE="1")
    result = subprocess.run([sys.executable, "-c", script, os.path.dirname(__file__)], env=env,
                            capture_output=True, text=True, timeout=120)
    ended = time.monotonic()
    assert result.returncode == 0, result.stderr
    pids, last = result.stdout.split("\n")[:2]
    assert ended - float(last) < 3.0  # (a compile of this step takes longer; its helpers were killed)
    for pid in map(int, pids.split()):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_helpers_leave_a_core_to_this_process_which_compiles_too_when_none_is_spare(monkeypatch):
    monkeypatch.delenv("SYMKERAS_COMPILE_WORKERS", raising=False)
    for cores, helpers, share in ((1, 1, precompile.SATURATED_SHARE), (2, 1, precompile.SATURATED_SHARE),
                                  (3, 2, precompile.SATURATED_SHARE), (4, 3, precompile.SATURATED_SHARE),
                                  (16, precompile.MAX_HELPERS, 1.0)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        assert precompile.background_helper_count(40) == helpers
        assert precompile.own_share(helpers) == share
    assert precompile.background_helper_count(1) == 1  # (no more helpers than jobs)
    monkeypatch.setenv("SYMKERAS_COMPILE_WORKERS", "0")
    assert precompile.background_helper_count(40) == 0  # (no background compile: the first call waits)


class _KernelOnly(Op):
    """An op of the user's with a Numba kernel and no reference ``perform``: doubles its input."""

    nin = 1

    def infer(self, inputs):
        return inputs[0].dtype, inputs[0].shape


@kernel(_KernelOnly)
def _kernel_only(em, node):
    em.line(f"{em.name(node.out)} = {em.name(node.inputs[0])} * 2")


def test_a_graph_the_reference_cannot_run_waits_for_its_compiled_step(fresh_cache, monkeypatch):
    monkeypatch.setenv("SYMKERAS_BACKGROUND_COMPILE", "1")
    x = K.placeholder((None, 4), name="x")
    v = K.variable(np.zeros((1, 4)), name="v")
    noise = K.random_uniform((2, 4), seed=11)
    total = _KernelOnly()(K.tanh(x) + noise) * 1.2599
    f = K.function([x], [total], updates=[(v, v + K.sum(total, axis=0, keepdims=True))])
    value = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    got = f([value])[0]
    assert f.program.fns is not None and "reference_calls" not in f.program.stats
    assert f.program.calls[0, 0] == 1  # (the failed reference call drew no numbers: one draw in all)
    draw = 0.0 + K.eval(K.random_uniform((2, 4), seed=11))
    np.testing.assert_allclose(got, 2 * (np.tanh(value) + draw) * 1.2599, rtol=1e-5)
    np.testing.assert_allclose(K.get_value(v), got.sum(axis=0, keepdims=True), rtol=1e-5)


def _fit_and_predict(x, y):
    from symkeras.layers import Dense, Dropout
    from symkeras.models import Sequential

    np.random.seed(7)
    model = Sequential([Dense(12, activation="relu", input_dim=6), Dropout(0.4), Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0, shuffle=False)
    return model, history.history, model.predict(x[:10], batch_size=4)


def test_keras_fit_with_validation_and_predict_on_a_cold_cache_match_the_compiled_run(fresh_cache, monkeypatch):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(96, 6)).astype("float32") * 1.0905  # (a scale of its own: new kernels)
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 96)]
    monkeypatch.setenv("SYMKERAS_BACKGROUND_COMPILE", "1")
    model, history, predicted = _fit_and_predict(x, y)
    train = model.train_function.program
    assert train.stats["compile"]["background"] and train.stats["reference_calls"] >= 1  # (the first batch's)
    wait_for_compiles()
    monkeypatch.setenv("SYMKERAS_BACKGROUND_COMPILE", "0")
    K.clear_session()
    again, expected_history, expected = _fit_and_predict(x, y)  # (compiled from the first call)
    assert again.train_function.program.fns is not None
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(history[key], expected_history[key], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(predicted, expected, rtol=1e-4, atol=1e-5)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
