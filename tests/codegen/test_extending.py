"""Adding an op and adding a backend are local: both are done here, in a test module, touching no package file."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras import config, runtime
from symkeras.codegen.backend import Backend, Program, get_backend, register_backend, unregister_backend
from symkeras.codegen.numba import kernel
from symkeras.codegen.reference import Evaluator
from symkeras.graph.basic import Op, placeholder
from symkeras.runtime.storage import Storage, bump
from symkeras.testing import verify_grad

# --- a new op: the op class with its reference perform and gradient, and its Numba kernel ----------------


class RowCumsum(Op):
    """Cumulative sums along the last axis of a matrix (from the right with ``reverse``)."""

    __props__ = ("reverse",)
    nin = 1

    def __init__(self, reverse=False):
        self.reverse = bool(reverse)

    def infer(self, inputs):
        (x,) = inputs
        if x.ndim != 2:
            raise ValueError(f"RowCumsum needs a matrix; got rank {x.ndim}.")
        return x.dtype, x.shape

    def perform(self, inputs, rng=None):
        (x,) = inputs
        return np.cumsum(x[:, ::-1], axis=1)[:, ::-1] if self.reverse else np.cumsum(x, axis=1)

    def grad(self, inputs, out, gz):
        return [RowCumsum(not self.reverse)(gz)]


@kernel(RowCumsum)
def row_cumsum(em, node):
    (x,) = node.inputs
    src, out = em.name(x), em.name(node.out)
    rows, cols = em.dim(x, 0), em.dim(x, 1)
    em.line(f"{out} = np.empty(({rows}, {cols}), np.{node.out.dtype})")
    em.open(f"for r in range({rows}):")
    em.line(f"acc = np.{node.out.dtype}(0)")
    em.open(f"for j in range({cols}):")
    em.line(f"c = {cols} - 1 - j" if node.op.reverse else "c = j")
    em.line(f"acc += {src}[r, c]")
    em.line(f"{out}[r, c] = acc")
    em.close(2)


def test_an_op_defined_in_a_test_module_compiles_with_its_kernel():
    x = K.placeholder((None, 4), name="x")
    y = RowCumsum()(K.tanh(x)) * 2.0
    (g,) = K.gradients(K.sum(y * K.constant(np.arange(4.0))), [x])
    value = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    compiled = K.function([x], [y, g], backend="numba")
    reference = K.function([x], [y, g], backend="reference", mode="none")
    for got, want in zip(compiled([value]), reference([value])):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(compiled([value])[0], 2 * np.cumsum(np.tanh(value), axis=1), rtol=1e-5)
    assert "RowCumsum{reverse=False}" in compiled.source and "RowCumsum{reverse=True}" in compiled.source
    assert any("acc += a0[r, c]" in k for k in compiled.program.layout.kernel_sources)
    verify_grad(lambda t: RowCumsum()(t), [np.random.default_rng(1).normal(size=(3, 5))])


# --- a new backend: its own storage and programs, registered from here --------------------------------------


class DictStorage(Storage):
    """The toy backend's own memory: a dict of arrays (a device's memory would be here)."""

    name = "toy"

    def __init__(self):
        self.arrays = {}

    def read(self, var):
        return self.arrays[var].copy()

    def write(self, var, array):
        self.arrays[var] = np.array(array, dtype=var.dtype)
        bump()

    def holds(self, var):
        return var in self.arrays

    def release(self, var):
        bump()
        return self.arrays.pop(var)


class CountingProgram(Program):
    def __init__(self, backend, graph, inputs, outputs, updates):
        super().__init__()
        self.backend, self.inputs, self.outputs, self.updates = backend, inputs, outputs, updates
        self.variables = graph.variables + [var for var, _ in updates]
        self.evaluator = Evaluator(graph, read=lambda var: backend.storage.arrays[var])
        self.stats = {"nodes": len(graph.nodes)}

    def run(self, arrays):
        self.backend.calls += 1
        for var in self.variables:
            runtime.move(var, self.backend.storage)
        values = self.evaluator.run(dict(zip(self.inputs, arrays)))
        new = [(var, values[value]) for var, value in self.updates]
        for var, value in new:
            self.backend.storage.write(var, value)
        return [np.array(values[o]) for o in self.outputs]


class CountingBackend(Backend):
    """Delegates to the reference evaluator, keeps variables in a storage of its own, counts its runs."""

    name = "counting"

    def __init__(self):
        self.storage = DictStorage()
        self.calls = 0
        self.compiled = 0

    def compile(self, graph, inputs, outputs, updates, name):
        self.compiled += 1
        return CountingProgram(self, graph, list(inputs), list(outputs), list(updates))


@pytest.fixture
def counting():
    backend = register_backend(CountingBackend())
    yield backend
    unregister_backend("counting")


def test_a_registered_backend_runs_k_function(counting):
    x = K.placeholder((None, 3), name="x")
    v = K.variable(np.zeros(3), name="v")
    f = K.function([x], [K.sum(x * v)], updates=[(v, v + K.mean(x, axis=0))], backend="counting")
    assert f.backend is counting and get_backend("counting") is counting
    assert f([np.ones((2, 3))])[0] == 0.0 and f([np.ones((2, 3))])[0] == 6.0
    assert counting.calls == 2 and counting.storage.holds(v) and runtime.home(v) is counting.storage
    np.testing.assert_array_equal(K.get_value(v), [2.0, 2.0, 2.0])  # read through the variable's home
    K.set_value(v, np.full(3, 5.0))
    np.testing.assert_array_equal(counting.storage.arrays[v], [5.0, 5.0, 5.0])
    # the rewrites ran once before the backend got the graph
    assert "fusion: fused_group" in f.rewrites and f.stats["nodes"] == len(f.optimized_graph.nodes)
    with pytest.raises(AttributeError, match="counting backend has no generated source"):
        _ = f.source
    # another backend takes the variable over, and gives the same result
    again = K.function([x], [K.sum(x * v)], backend="numba")
    assert again([np.ones((2, 3))])[0] == 30.0 and runtime.home(v) is runtime.HOST


def test_model_fit_on_a_registered_backend(counting):
    from symkeras.layers import Dense
    from symkeras.models import Sequential

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) > 0).astype("float32")[:, None]
    trained = {}
    for backend in ("counting", "numba"):
        config.set_backend(backend)
        np.random.seed(3)
        model = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(1, activation="sigmoid")])
        model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        trained[backend] = (history.history["loss"], model.get_weights(), model.predict(x))
    assert counting.calls == 2 * 4 + 1 and counting.compiled == 2  # 8 training batches, 1 predict batch
    np.testing.assert_allclose(trained["counting"][0], trained["numba"][0], rtol=1e-5)
    for a, b in zip(trained["counting"][1], trained["numba"][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(trained["counting"][2], trained["numba"][2], rtol=1e-5, atol=1e-6)


def test_an_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="Unknown backend 'nonesuch'; registered backends: .*numba.*reference"):
        K.function([placeholder((1,))], [placeholder((1,)) * 2], backend="nonesuch")
