"""The CUDA backend against the reference evaluator: every kernel on small shapes, a Keras model's
training, the device storage and the device switches.  On a machine without a GPU driver these run on
Numba's CUDA simulator (tests/conftest.py sets NUMBA_ENABLE_CUDASIM=1), so CI checks the kernels; with
one they run on the GPU."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras import config
from symkeras.codegen.cuda import device

pytestmark = pytest.mark.skipif(not device.available(), reason=f"CUDA unavailable: {device.reason()}")


def _both(inputs, outputs, feed, updates=None):
    """The outputs of one call on cuda and on the reference (fresh functions over the same graph)."""
    got = K.function(inputs, outputs, updates=updates, backend="cuda")(feed)
    wanted = K.function(inputs, outputs, updates=updates, backend="reference")(feed)
    return got, wanted


def _assert_close(got, wanted, rtol=1e-5, atol=1e-6):
    assert len(got) == len(wanted)
    for g, w in zip(got, wanted):
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, g.dtype, w.shape, w.dtype)
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol)


def test_elementwise_programs_broadcast_as_numpy_does(rng):
    x = K.placeholder((None, 3, 4), name="x")
    row = K.placeholder((4,), name="row")
    column = K.placeholder((None, 3, 1), name="column")
    outputs = [K.relu(x * row - column), K.sigmoid(x) + K.tanh(column), K.clip(x, -0.5, 0.5) ** 2,
               K.switch(K.greater(x, 0.0), K.exp(x), K.log(K.abs(x) + 1.0)), K.cast(K.greater(x, column), "int32"),
               K.maximum(x, column) - K.minimum(x, row), K.sqrt(K.square(x) + 1.0) / (1.0 + K.abs(row))]
    feed = [rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=4).astype("float32"),
            rng.normal(size=(2, 3, 1)).astype("float32")]
    _assert_close(*_both([x, row, column], outputs, feed))


def test_scalars_and_integer_arithmetic(rng):
    a = K.placeholder((), name="a")
    n = K.placeholder((5,), dtype="int32", name="n")
    outputs = [a * 2.0 + 1.0, n * 3 - 1, K.cast(n, "float32") / (a + 2.0), K.equal(n, 2)]
    feed = [np.float32(0.25), np.arange(5, dtype="int32")]
    _assert_close(*_both([a, n], outputs, feed))


@pytest.mark.parametrize("axis, keepdims", [(None, False), (0, False), (1, True), ((0, 2), False), (-1, True)])
def test_reductions_over_any_axes(rng, axis, keepdims):
    x = K.placeholder((None, 3, 5), name="x")
    outputs = [K.sum(x, axis, keepdims), K.max(x, axis, keepdims), K.min(x, axis, keepdims),
               K.prod(x, axis, keepdims), K.mean(x * x, axis, keepdims), K.any(K.greater(x, 1.0), axis, keepdims)]
    _assert_close(*_both([x], outputs, [rng.normal(size=(4, 3, 5)).astype("float32")]))


@pytest.mark.parametrize("axis, keepdims", [(None, False), (1, True), ((0, 1), False)])
def test_reductions_of_many_elements_a_block_an_output(rng, axis, keepdims):
    """Each output reduces 70 to 840 elements: a block of threads computes it (pairwise in shared
    memory), over more outputs than blocks; a NaN still wins a max, and a fused square still sums."""
    from symkeras.codegen.cuda import compiler

    x = K.placeholder((None, 70, 3), name="x")
    data = rng.normal(size=(4, 70, 3)).astype("float32")
    data[2, 5, 1] = np.nan
    outputs = [K.sum(x, axis, keepdims), K.max(x, axis, keepdims), K.min(x, axis, keepdims),
               K.prod(1.0 + 0.01 * x, axis, keepdims), K.sum(K.square(x), axis, keepdims)]
    assert 70 >= 2 * compiler.threads_per_block()
    _assert_close(*_both([x], outputs, [data]), rtol=2e-5)
    f = K.function([x], [K.sum(x, axis, keepdims)], backend="cuda")
    f([data])
    assert "partial = cuda.shared.array(" in f.program.source


def test_a_float32_sum_of_many_elements_accumulates_in_float64(rng):
    x = K.placeholder((None,), name="x")
    data = (1.0 + rng.random(20000)).astype("float32")
    (got,) = K.function([x], [K.sum(x)], backend="cuda")([data])
    assert abs(float(got) - float(np.sum(data.astype(np.float64)))) <= 1e-6 * float(np.sum(data))


def test_argmax_and_argmin_take_the_first_extreme_and_the_first_nan():
    x = K.placeholder((None, 4), name="x")
    data = np.array([[1, 3, 3, 0], [2, np.nan, 5, np.nan], [0, 0, -1, -1]], dtype="float32")
    _assert_close(*_both([x], [K.argmax(x, -1), K.argmin(x, 0)], [data]))


@pytest.mark.parametrize("spec, shapes", [
    ("ab,bd->ad", [(5, 7), (7, 6)]), ("ad,bd->ab", [(5, 6), (7, 6)]), ("ab,ad->bd", [(9, 5), (9, 6)]),
    ("ba,db->ad", [(7, 5), (6, 7)]), ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("tab,bd->tad", [(3, 4, 5), (5, 6)]),
    ("tab,tad->bd", [(3, 4, 5), (3, 4, 6)]), ("ab,bd->ad", [(20, 13), (13, 17)]), ("ab,db->ad", [(19, 9), (18, 9)]),
])
def test_matrix_products_tiled_and_general(rng, spec, shapes):
    from symkeras.graph import ops

    a = K.placeholder(shapes[0], name="a")
    b = K.placeholder(shapes[1], name="b")
    out = ops.Einsum(spec)(a, b)
    feed = [rng.normal(size=s).astype("float32") for s in shapes]
    _assert_close(*_both([a, b], [out], feed), rtol=1e-5, atol=1e-5)


def test_softmax_and_log_softmax_along_either_axis(rng):
    from symkeras.graph import ops

    x = K.placeholder((None, 6), name="x")
    outputs = [K.softmax(x), ops.LogSoftmax(-1)(x), ops.Softmax(0)(x)]
    feed = [(rng.normal(size=(4, 6)) * 30).astype("float32")]
    _assert_close(*_both([x], outputs, feed))


def test_random_draws_are_the_reference_draws_and_change_per_call():
    x = K.placeholder((None, 7), name="x")
    draws = [K.dropout(x, 0.5, seed=3), K.random_binomial((5, 3), 0.4, seed=7),
             K.random_uniform((5, 3), -1.0, 2.0, seed=4), K.random_normal((4, 2), 0.5, 2.0, seed=5),
             K.truncated_normal((6,), 0.0, 1.0, seed=6)]
    feed = [np.ones((3, 7), "float32")]
    cuda_f = K.function([x], draws, backend="cuda")
    reference_f = K.function([x], draws, backend="reference")
    first = cuda_f(feed)
    _assert_close(first, reference_f(feed))
    second = cuda_f(feed)
    _assert_close(second, reference_f(feed))
    assert not np.array_equal(first[2], second[2])


def test_updates_are_written_to_the_device_and_read_back():
    from symkeras.codegen.cuda.storage import DEVICE
    from symkeras.runtime import storage

    v = K.variable(np.arange(6, dtype="float32").reshape(2, 3), name="v")
    step = K.placeholder((), name="step")
    f = K.function([step], [K.sum(v)], updates=[(v, v * 2.0 + step)], backend="cuda")
    (before,) = f([np.float32(1.0)])
    assert float(before) == 15.0
    assert storage.home(v) is DEVICE
    np.testing.assert_array_equal(K.get_value(v), np.arange(6).reshape(2, 3) * 2.0 + 1.0)
    K.set_value(v, np.ones((2, 3), "float32"))
    assert float(f([np.float32(0.0)])[0]) == 6.0
    # a CPU function takes the variable back from the device
    assert float(K.function([], [K.sum(v)], backend="numba")([])[0]) == 12.0


def test_a_keras_model_trains_on_cuda_as_on_the_cpu(rng):
    from symkeras.layers import Dense, Dropout
    from symkeras.models import Sequential
    from symkeras.optimizers import Adam

    x = rng.normal(size=(6, 5)).astype("float32")
    y = np.eye(3, dtype="float32")[rng.integers(0, 3, 6)]
    weights, histories = {}, {}
    start = None
    for dev in ("cpu", "cuda"):
        model = Sequential([Dense(4, activation="relu", input_dim=5), Dropout(0.3, seed=1),
                            Dense(3, activation="softmax")])
        if start is None:
            start = model.get_weights()
        model.set_weights(start)
        model.compile(Adam(0.01), "categorical_crossentropy", metrics=["accuracy"], device=dev)
        histories[dev] = model.fit(x, y, batch_size=3, epochs=2, verbose=0, shuffle=False).history
        weights[dev] = model.get_weights()
        assert model.train_function.backend.name == ("cuda" if dev == "cuda" else "numba")
    for got, wanted in zip(weights["cuda"], weights["cpu"]):
        np.testing.assert_allclose(got, wanted, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(histories["cuda"]["loss"], histories["cpu"]["loss"], rtol=1e-5)
    assert histories["cuda"]["accuracy"] == histories["cpu"]["accuracy"]


_TRAIN_A_MODEL = """
import sys
import numpy as np
from symkeras.layers import Dense
from symkeras.models import Sequential
rng = np.random.default_rng(0)
x = rng.normal(size=(8, 5)).astype("float32")
y = rng.normal(size=(8, 2)).astype("float32")
model = Sequential([Dense(4, activation="tanh", input_dim=5), Dense(2)])
model.set_weights([np.full(w.shape, 0.1 * (k + 1), "float32") for k, w in enumerate(model.get_weights())])
model.compile("sgd", "mse")
model.fit(x, y, batch_size=4, epochs=3, verbose=0, shuffle=False)
np.savez(sys.argv[1], backend=model.train_function.backend.name, *model.get_weights())
"""


def test_symkeras_device_cuda_makes_a_model_train_on_cuda(tmp_path):
    """``SYMKERAS_DEVICE=cuda`` alone (no argument in the code) trains a model on cuda, to the weights the
    cpu device reaches."""
    import os
    import subprocess
    import sys

    results = {}
    for name in ("cpu", "cuda"):
        out = tmp_path / f"{name}.npz"
        env = dict(os.environ, SYMKERAS_DEVICE=name)
        subprocess.run([sys.executable, "-c", _TRAIN_A_MODEL, str(out)], env=env, check=True, timeout=300)
        with np.load(out) as saved:
            results[name] = (str(saved["backend"]), [saved[f"arr_{k}"] for k in range(4)])
    assert results["cuda"][0] == "cuda" and results["cpu"][0] == "numba"
    for got, wanted in zip(results["cuda"][1], results["cpu"][1]):
        np.testing.assert_allclose(got, wanted, rtol=1e-5, atol=1e-6)


def test_the_device_switches():
    x = K.placeholder((None, 2), name="x")
    K.set_device("cuda")
    assert K.get_device() == "cuda" and config.backend() == "cuda"
    assert K.function([x], [x * 2.0]).backend.name == "cuda"
    assert K.function([x], [x * 2.0], device="cpu").backend.name == "numba"
    K.set_device("cpu")
    assert K.function([x], [x * 2.0]).backend.name == "numba"
    assert K.function([x], [x * 2.0], device="gpu").backend.name == "cuda"
    with pytest.raises(ValueError, match="Unknown device 'tpu'"):
        K.set_device("tpu")
    with pytest.raises(ValueError, match="disagree"):
        K.function([x], [x], device="cuda", backend="reference")


def test_an_op_without_a_cuda_kernel_is_named_when_the_function_is_built():
    """A user's op with only a NumPy ``perform`` runs on the reference backend; on cuda the function
    refuses to build, naming the op and its layer (never a quiet fall-back to the CPU)."""
    from symkeras.graph.basic import Op
    from symkeras.layers import Input, Lambda
    from symkeras.models import Model

    class HostOnly(Op):
        nin = 1

        def infer(self, inputs):
            return inputs[0].dtype, inputs[0].shape

        def perform(self, inputs, rng=None):
            return np.sort(inputs[0], axis=-1)

    inputs = Input((4,))
    model = Model(inputs, Lambda(lambda t: HostOnly()(t), name="sort_probe")(inputs))
    with pytest.raises(NotImplementedError, match=r"no kernel for HostOnly.*sort_probe"):
        K.function(model.inputs, model.outputs, backend="cuda")


def test_why_cuda_is_unavailable_is_said(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "numba_cuda" else real(name, *a))
    device._cuda.cache_clear()
    try:
        assert not device.available()
        with pytest.raises(device.CudaUnavailable, match=r"pip install 'symkeras\[cuda\]'"):
            K.set_device("cuda")
        assert K.get_device() == "cpu"
    finally:
        monkeypatch.undo()
        device._cuda.cache_clear()
    assert device.available()


def test_transposes_concatenations_slices_and_their_gradients(rng):
    from symkeras.graph import ops

    x = K.placeholder((None, 3, 4), name="x")
    y = K.placeholder((None, 3, 2), name="y")
    joined = K.concatenate([x, y, x], axis=-1)
    picked = x[:, 1:, ::2]
    outputs = [K.permute_dimensions(x, (2, 0, 1)), joined, ops.Transpose((1, 0, 2))(y), K.batch_flatten(x)]
    outputs += K.gradients(K.sum(joined * joined) + K.sum(picked * 3.0) + K.sum(x[:, 0, 1]), [x, y])
    feed = [rng.normal(size=(2, 3, 4)).astype("float32"), rng.normal(size=(2, 3, 2)).astype("float32")]
    _assert_close(*_both([x, y], outputs, feed))


def test_embedding_lookups_their_gradient_and_a_bad_index(rng):
    table = K.variable(rng.normal(size=(6, 3)).astype("float32"), name="table")
    idx = K.placeholder((None, 4), dtype="int32", name="idx")
    from symkeras.graph import ops

    rows = ops.Gather(strict=True)(table, idx)
    (grad,) = K.gradients(K.sum(rows * rows), [table])
    feed = [np.array([[0, 5, 5, 2], [1, 1, 0, 3]], "int32")]
    _assert_close(*_both([idx], [rows, grad], feed))
    with pytest.raises(ValueError, match=r"index 6 is outside \[0, 6\)"):
        K.function([idx], [rows], backend="cuda")([np.array([[0, 6, 1, 1]], "int32")])


@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_recurrent_layers_train_on_cuda_as_on_the_reference(rng, cell):
    from symkeras import layers
    from symkeras.layers import Dense
    from symkeras.models import Sequential

    x = rng.normal(size=(4, 3, 2)).astype("float32")
    y = rng.normal(size=(4, 2)).astype("float32")
    layer = getattr(layers, cell)
    weights, start = {}, None
    for backend in ("reference", "cuda"):
        config.set_backend(backend)
        model = Sequential([layer(3, return_sequences=True, input_shape=(3, 2)), layer(3, go_backwards=True),
                            Dense(2)])
        start = model.get_weights() if start is None else start
        model.set_weights(start)
        model.compile("rmsprop", "mse")
        model.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
        weights[backend] = model.get_weights() + [model.predict(x)]
    for got, wanted in zip(weights["cuda"], weights["reference"]):
        np.testing.assert_allclose(got, wanted, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("geometry", [dict(padding="valid"), dict(padding="same", strides=2),
                                      dict(padding="causal", dilation=2), dict(padding="same", groups=2)])
def test_convolutions_and_their_gradients_in_1d(rng, geometry):
    from symkeras.graph.ops.conv import Conv, ConvInputGrad

    x = K.placeholder((None, 7, 4), name="x")
    w = K.variable(rng.normal(size=(3, 4 // geometry.get("groups", 1), 6)).astype("float32"), name="w")
    out = Conv(3, **geometry)(x, w)
    gx, gw = K.gradients(K.sum(out * out), [x, w])
    transposed = [ConvInputGrad(3, **geometry)(out, w)] if geometry["padding"] in ("valid", "same") else []
    feed = [rng.normal(size=(2, 7, 4)).astype("float32")]
    _assert_close(*_both([x], [out, gx, gw] + transposed, feed), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("rank, geometry", [(2, dict(padding="same", strides=(2, 1), dilation=(1, 2))),
                                            (3, dict(padding="valid"))])
def test_convolutions_as_patch_matrices_in_2d_and_3d(rng, rank, geometry):
    """Convolutions of one group run as a patch matrix and the tiled matrix product, their gradients as
    products and the patch matrix's gradient summed back onto the input."""
    from symkeras.graph.ops.conv import Conv

    spatial = (5, 6) if rank == 2 else (4, 3, 4)
    x = K.placeholder((None, *spatial, 3), name="x")
    w = K.variable(rng.normal(size=(*(2,) * rank, 3, 4)).astype("float32"), name="w")
    out = Conv((2,) * rank, **geometry)(x, w)
    gx, gw = K.gradients(K.sum(out * out), [x, w])
    feed = [rng.normal(size=(2, *spatial, 3)).astype("float32")]
    _assert_close(*_both([x], [out, gx, gw], feed), rtol=1e-4, atol=1e-5)
    f = K.function([x], [out, gx, gw], backend="cuda")
    assert "cols[row, col] = v" in f.program.source and "gcols[" in f.program.source


def test_pooling_and_its_gradients_in_2d(rng):
    x = K.placeholder((None, 5, 4, 3), name="x")
    maxed = K.pool2d(x, (2, 2), strides=(2, 1), padding="same", pool_mode="max")
    averaged = K.pool2d(x, (3, 2), strides=(1, 2), padding="same", pool_mode="avg")
    gx = K.gradients(K.sum(maxed * maxed) + K.sum(averaged * 3.0), [x])[0]
    (second,) = K.gradients(K.sum(gx * gx), [x])  # MaxPoolSelect (the max pooling gradient's gradient)
    data = rng.normal(size=(2, 5, 4, 3)).astype("float32")
    data[0, 0, 0, 0] = data[0, 0, 1, 0]  # a tie: the first maximum wins
    _assert_close(*_both([x], [maxed, averaged, gx, second], [data]), rtol=1e-5, atol=1e-5)


def test_a_keras_cnn_trains_on_cuda_as_on_the_reference(rng):
    from symkeras.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from symkeras.models import Sequential

    x = rng.normal(size=(4, 6, 6, 1)).astype("float32")
    y = np.eye(2, dtype="float32")[[0, 1, 1, 0]]
    weights, start = {}, None
    for backend in ("reference", "cuda"):
        config.set_backend(backend)
        model = Sequential([Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)), MaxPooling2D(2), Flatten(),
                            Dense(2, activation="softmax")])
        start = model.get_weights() if start is None else start
        model.set_weights(start)
        model.compile("adam", "categorical_crossentropy")
        model.fit(x, y, batch_size=2, epochs=1, verbose=0, shuffle=False)
        weights[backend] = model.get_weights()
    for got, wanted in zip(weights["cuda"], weights["reference"]):
        np.testing.assert_allclose(got, wanted, rtol=1e-4, atol=1e-5)


def test_padding_tiling_repeating_one_hot_moments_and_exclusive_products(rng):
    from symkeras.graph import ops

    x = K.placeholder((None, 3, 2), name="x")
    idx = K.placeholder((None, 3), dtype="int32", name="idx")
    padded = K.temporal_padding(x, (1, 2))
    tiled = K.tile(x, (2, 1, 3))
    repeated = K.repeat_elements(x, 2, axis=1)
    mean, var = ops.moments(x, (0, 1))
    outputs = [padded, tiled, repeated, K.one_hot(idx, 4), mean, var, K.prod(x, axis=1)]
    outputs += K.gradients(K.sum(padded * padded) + K.sum(tiled * tiled)
                           + K.sum(repeated * 2.0) + K.sum(K.prod(x, axis=1)), [x])
    (first,) = K.gradients(K.sum(K.prod(x, axis=1)), [x])
    outputs += K.gradients(K.sum(first * first), [x])  # (ExclusiveProdGradAtZero)
    data = rng.normal(size=(2, 3, 2)).astype("float32")
    data[1, 0, 1] = 0.0  # a zero inside one product's group: the exact gradients there
    feed = [data, np.array([[0, 3, 1], [2, 2, 0]], "int32")]
    _assert_close(*_both([x, idx], outputs, feed), rtol=1e-5, atol=1e-5)


def test_print_tensor_prints_from_the_device(capsys):
    x = K.placeholder((2,), name="x")
    f = K.function([x], [K.print_tensor(x * 2.0, "doubled:")], backend="cuda")
    f([np.array([1.0, 2.5], "float32")])
    assert "doubled:" in capsys.readouterr().out


def test_the_nan_guard_names_the_first_node_and_applies_no_update():
    x = K.placeholder((None, 2), name="x")
    v = K.variable(np.ones((2,), "float32"), name="v")
    f = K.function([x], [K.sum(x)], updates=[K.update(v, v + K.log(K.sum(x, axis=0)))], backend="cuda",
                   nan_guard=True)
    f([np.ones((3, 2), "float32")])
    before = K.get_value(v)
    with pytest.raises(FloatingPointError, match=r"NaN guard: node \d+ of \d+ .* produced NaN or Inf"):
        f([np.array([[1.0, -2.0]], "float32")])
    np.testing.assert_array_equal(K.get_value(v), before)


def test_nan_and_infinities_come_out_as_on_the_reference():
    x = K.placeholder((None,), name="x")
    outputs = [K.log(x), K.sqrt(x), K.exp(x * 100.0), K.log(1.0 + x), K.exp(x) - 1.0]
    data = np.array([-2.0, -1.0, 0.0, 1.0, 8.0, np.inf, -np.inf, np.nan], "float32")
    with np.errstate(all="ignore"):
        _assert_close(*_both([x], outputs, [data]))
