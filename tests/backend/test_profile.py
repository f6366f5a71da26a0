"""f.profile() (issue 13): rewrite time per pass, code generation and compile time, and, for a function made
with profile=True (or SYMKERAS_PROFILE=1), its calls and every node's run time, slowest first."""

import io
import re

import numpy as np

import symkeras.backend as K
from symkeras.layers import Dense, Input
from symkeras.models import Model


def _function(backend, **options):
    x = K.placeholder((None, 16), name="x")
    w = K.variable(np.random.default_rng(0).normal(size=(16, 32)).astype("float32"), name="w")
    return K.function([x], [K.sum(K.tanh(K.dot(x, w)) ** 2)], backend=backend, **options), x


def test_a_profiled_function_reports_its_calls_and_nodes_slowest_first(backend):
    f, _ = _function(backend, profile=True)
    plain, _ = _function(backend)
    data = np.ones((16, 16), "float32")
    for _ in range(4):
        got = f([data])
    np.testing.assert_allclose(got[0], plain([data])[0], rtol=1e-5)  # profiling changes no value
    out = io.StringIO()
    text = f.profile(file=out)
    assert out.getvalue() == text + "\n"
    compiles = backend == "numba"  # the compiling first call is not profiled
    assert re.search(rf"run: {3 if compiles else 4} calls, [\d.]+ s \([\d.]+ ms a call; nodes [\d.]+ ms a call", text)
    assert "rewrite passes:" in text and re.search(r"ms  fusion: ", text)
    rows = [line for line in text.splitlines() if re.match(r"\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+#\d+ ", line)]
    assert len(rows) == len(f.optimized_graph.nodes) >= 2
    percents = [float(r.split()[0]) for r in rows]
    assert percents == sorted(percents, reverse=True) and abs(sum(percents) - 100) < 1.0
    seconds = f.program.node_seconds()
    assert len(seconds) == len(f.optimized_graph.nodes) and 0 < sum(seconds) <= f.call_seconds * 1.01
    if compiles:
        assert re.search(r"compile: [\d.]+ s \(\d+ kernel modules and the step", text) and "code generation" in text


def test_without_profiling_the_report_says_how_to_turn_it_on(backend):
    f, _ = _function(backend)
    f([np.ones((2, 16), "float32")])
    assert "run: not measured (make the function with profile=True, or set SYMKERAS_PROFILE=1)" in f.profile(
        file=io.StringIO())
    assert f.program.node_seconds() is None


def test_the_environment_variable_profiles_a_model_s_functions(monkeypatch):
    monkeypatch.setenv("SYMKERAS_PROFILE", "1")
    x = Input(shape=(4,))
    model = Model(x, Dense(3, name="dense_out")(x))
    model.compile("sgd", "mse")
    for _ in range(3):
        model.train_on_batch(np.ones((8, 4), "float32"), np.zeros((8, 3), "float32"))
    text = model.train_function.profile(file=io.StringIO())
    assert model.train_function.profiling and "<dense_out" in text and "run: 2 calls" in text
