"""Winograd 3x3 convolutions (codegen/numba/winograd.py): the values of the forward pass and of both
gradients against the reference evaluator, and which convolutions take that path."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen.numba import winograd
from symkeras.codegen.reference import evaluate
from symkeras.graph.ops.conv import Conv

WINOGRAD = "gemm_into(V[e, :rows]"  # the 16 transformed products of a Winograd kernel's body


def _winograd_kernels(f) -> int:
    return sum(WINOGRAD in s for s in f.program.layout.kernel_sources)


def _assert_matches(got, want, dtype):
    for g, w in zip(got, want):
        scale = max(np.abs(w).max(), 1e-30)
        tolerance = 4e-6 if dtype == "float32" else 1e-12
        assert np.abs(g - w).max() <= tolerance * scale


@pytest.mark.parametrize("height, width, channels, filters, padding, dtype", [
    (9, 9, 16, 16, "valid", "float32"),  # even output: whole tiles
    (8, 7, 16, 20, "same", "float32"),  # odd width: the last tile half outside
    (7, 10, 17, 16, "valid", "float64"),
    (3, 5, 16, 18, "same", "float64"),  # one tile row
])
def test_forward_and_both_gradients_match_the_reference(height, width, channels, filters, padding, dtype):
    rng = np.random.default_rng(height * width)
    x = K.placeholder((None, height, width, channels), dtype=dtype, name="x")
    w = K.variable(rng.normal(size=(3, 3, channels, filters)) * 0.2, dtype=dtype, name="w")
    b = K.variable(rng.normal(size=(filters,)), dtype=dtype, name="b")
    y = K.relu(K.bias_add(K.conv2d(x, w, padding=padding), b))  # the bias and relu: the conv's epilogue
    outputs = [y, *K.gradients(K.sum(K.square(y)), [x, w, b])]
    f = K.function([x], outputs, backend="numba")
    data = rng.normal(size=(3, height, width, channels)).astype(dtype)
    _assert_matches(f([data]), evaluate(outputs, {x: data}), dtype)
    assert _winograd_kernels(f) == 3  # forward, input gradient, kernel gradient


def test_a_batch_of_one_and_a_larger_batch_share_the_kernels():
    x = K.placeholder((None, 6, 6, 16), name="x")
    w = K.variable(np.linspace(-1, 1, 3 * 3 * 16 * 16).reshape(3, 3, 16, 16), name="w")
    y = K.conv2d(x, w)
    outputs = [y, *K.gradients(K.sum(y * y), [w])]
    f = K.function([x], outputs, backend="numba")
    rng = np.random.default_rng(1)
    for batch in (1, 40):  # 40 samples: more tiles than one block holds
        data = rng.normal(size=(batch, 6, 6, 16)).astype("float32")
        _assert_matches(f([data]), evaluate(outputs, {x: data}), "float32")


def test_a_stride_one_transposed_convolution_runs_as_winograd():
    rng = np.random.default_rng(2)
    x = K.placeholder((2, 5, 6, 16), name="x")
    w = K.variable(rng.normal(size=(3, 3, 16, 16)) * 0.3, name="w")  # (rows, cols, output channels, input)
    y = K.conv2d_transpose(x, w, (2, 7, 8, 16))
    f = K.function([x], [y], backend="numba")
    data = rng.normal(size=(2, 5, 6, 16)).astype("float32")
    _assert_matches(f([data]), evaluate([y], {x: data}), "float32")
    assert _winograd_kernels(f) == 1


@pytest.mark.parametrize("options", [dict(strides=2), dict(dilation=2), dict(groups=2), dict(padding="causal")])
def test_other_convolutions_stay_im2col(options):
    assert winograd.applies(Conv((3, 3))) and winograd.applies(Conv((3, 3), padding="same"))
    if options.get("padding") == "causal":
        assert not winograd.applies(Conv((3,), **options))
    else:
        assert not winograd.applies(Conv((3, 3), **options))
    assert not any(winograd.applies(Conv(size)) for size in [(5, 5), (3,), (3, 3, 3)])


def test_an_image_convolution_shares_its_kernels_with_the_next_layer():
    """An image's 1 or 3 channels take the Winograd path too: the two layers' kernel gradients are one
    kernel, and the values match the reference."""
    rng = np.random.default_rng(3)
    x = K.placeholder((None, 8, 8, 3), name="x")
    w1 = K.variable(rng.normal(size=(3, 3, 3, 16)) * 0.3, name="w1")
    w2 = K.variable(rng.normal(size=(3, 3, 16, 8)) * 0.3, name="w2")
    y = K.conv2d(K.relu(K.conv2d(x, w1)), w2)
    outputs = [y, *K.gradients(K.sum(y * y), [w1, w2])]
    f = K.function([x], outputs, backend="numba")
    data = rng.normal(size=(2, 8, 8, 3)).astype("float32")
    _assert_matches(f([data]), evaluate(outputs, {x: data}), "float32")
    sources = [s for s in f.program.layout.kernel_sources if WINOGRAD in s]
    assert sum("totals" in s for s in sources) == 1  # both layers' kernel gradient
    assert len(sources) == 4  # and a forward each (the first with its relu), the second's input gradient


def test_a_strided_convolution_keeps_im2col_and_its_values():
    rng = np.random.default_rng(4)
    x = K.placeholder((None, 9, 9, 16), name="x")
    w = K.variable(rng.normal(size=(3, 3, 16, 16)) * 0.3, name="w")
    y = K.conv2d(x, w, strides=(2, 2))
    outputs = [y, *K.gradients(K.sum(y * y), [x, w])]
    f = K.function([x], outputs, backend="numba")
    data = rng.normal(size=(2, 9, 9, 16)).astype("float32")
    _assert_matches(f([data]), evaluate(outputs, {x: data}), "float32")
    assert _winograd_kernels(f) == 0


def test_an_epilogue_using_vectorized_math_compiles_in_the_body():
    """The epilogue's tanh is vecmath's (``vm.``), which the body's work function imports."""
    rng = np.random.default_rng(5)
    x = K.placeholder((None, 6, 6, 4), name="x")
    w = K.variable(rng.normal(size=(3, 3, 4, 8)) * 0.3, name="w")
    y = K.tanh(K.conv2d(x, w, padding="same") * 0.5)
    f = K.function([x], [y], backend="numba")
    data = rng.normal(size=(3, 6, 6, 4)).astype("float32")
    _assert_matches(f([data]), evaluate([y], {x: data}), "float32")
    assert any(WINOGRAD in s and "vm." in s for s in f.program.layout.kernel_sources)
