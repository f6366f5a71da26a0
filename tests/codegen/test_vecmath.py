"""The float32 exp, sigmoid and tanh the Numba backend inlines into fused loops (codegen/numba/vecmath.py):
within three units in the last place of the float64 result over the whole float32 range, and exact at the
special values."""

import numba
import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen.numba import vecmath as vm


@numba.njit(error_model="numpy")
def _apply(x, which):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        if which == 0:
            out[i] = vm.exp32(x[i])
        elif which == 1:
            out[i] = vm.sigmoid32(x[i])
        else:
            out[i] = vm.tanh32(x[i])
    return out


POINTS = np.concatenate([np.linspace(-100, 90, 400001), np.linspace(-1, 1, 100001),
                         np.random.default_rng(0).normal(size=20000) * 5]).astype("float32")
REFERENCES = {0: np.exp, 1: lambda x: 1 / (1 + np.exp(-x)), 2: np.tanh}


@pytest.mark.parametrize("which", [0, 1, 2], ids=["exp", "sigmoid", "tanh"])
def test_within_three_ulps_of_float64(which):
    got = _apply(POINTS, which).astype("float64")
    with np.errstate(over="ignore"):
        want = REFERENCES[which](POINTS.astype("float64"))
    normal = (np.abs(want) >= np.finfo("float32").tiny) & (np.abs(want) <= np.finfo("float32").max)
    ulps = np.abs(got[normal] - want[normal]) / np.spacing(np.abs(want[normal]).astype("float32"))
    assert ulps.max() <= 3.0


def test_special_values():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 89.0, -104.0, 1e-30, -1e-30], "float32")
    exp, sigmoid, tanh = (_apply(x, w) for w in range(3))
    assert np.isnan(exp[0]) and np.isnan(sigmoid[0]) and np.isnan(tanh[0])
    np.testing.assert_array_equal(exp[1:], [np.inf, 0, 1, 1, np.inf, 0, 1, 1])
    np.testing.assert_array_equal(sigmoid[1:5], [1, 0, 0.5, 0.5])
    np.testing.assert_array_equal(tanh[1:], np.array([1, -1, 0, -0.0, 1, -1, 1e-30, -1e-30], "float32"))
    assert np.signbit(tanh[4])


def test_fused_float32_kernels_use_sigmoid_and_tanh_and_match_the_reference(rng):
    x = K.placeholder((None, 5))
    y = K.sigmoid(x) * K.tanh(x) + K.exp(-K.abs(x))
    f = K.function([x], [y], backend="numba")
    data = (rng.normal(size=(7, 5)) * 4).astype("float32")
    ref = K.function([x], [y], backend="reference")([data])[0]
    np.testing.assert_allclose(f([data])[0], ref, rtol=3e-7, atol=1e-7)
    kernels = "".join(f.program.layout.kernel_sources)
    assert "vm.sigmoid32(" in kernels and "vm.tanh32(" in kernels
