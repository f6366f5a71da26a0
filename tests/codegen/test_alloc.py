"""Allocation intrinsics (codegen/numba/alloc.py): the same arrays as NumPy's, and the text swap."""

import numba
import numpy as np
import pytest
from numba.core.errors import TypingError

from symkeras.codegen.numba.alloc import ALLOC_IMPORT, contiguous_, empty_, inline_allocations, reshaped_, zeros_


@numba.njit
def _allocations(a):
    scalar = empty_((), np.float32)
    scalar[()] = 2.5
    row = zeros_(a.shape[1], a.dtype)
    grid = zeros_((a.shape[0], 3), np.int64)
    filled = empty_((a.shape[0], a.shape[1]), a.dtype)
    filled[:] = a
    return scalar, row, grid, filled


def test_empty_and_zeros_allocate_the_shapes_and_dtypes_numpy_would():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    scalar, row, grid, filled = _allocations(a)
    assert scalar.shape == () and scalar.dtype == np.float32 and scalar[()] == 2.5
    assert row.shape == (3,) and row.dtype == np.float32 and not row.any()
    assert grid.shape == (2, 3) and grid.dtype == np.int64 and not grid.any()
    np.testing.assert_array_equal(filled, a)
    assert filled.flags.c_contiguous and not np.shares_memory(filled, a)


@numba.njit
def _contiguous(a):
    return contiguous_(a)


def test_contiguous_returns_a_c_array_itself_and_copies_a_strided_one():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert np.shares_memory(_contiguous(a), a)
    strided = a[:, ::2]
    copied = _contiguous(strided)
    assert copied.flags.c_contiguous and not np.shares_memory(copied, a)
    np.testing.assert_array_equal(copied, strided)
    np.testing.assert_array_equal(_contiguous(a.T), a.T)


def test_an_allocation_of_an_unknown_dtype_is_a_typing_error():
    @numba.njit
    def bad(n):
        return empty_(n, "no such dtype")

    with pytest.raises(TypingError, match="cannot allocate"):
        bad(3)


def test_inline_allocations_swaps_positional_calls_only():
    source = ("import numpy as np\nimport numba\n\n"
              "def kernel(a0):\n"
              "    out = np.empty((a0.shape[0], max(a0.shape[1], 2)), np.float32)\n"
              "    acc = np.zeros(a0.shape[1], a0.dtype)\n"
              "    flat = np.ascontiguousarray(a0).reshape(-1)\n"
              "    keep = np.zeros(a0.shape, dtype=a0.dtype)\n"
              "    like = np.empty_like(a0)\n"
              "    single = np.empty(4)\n"
              "    return out\n")
    swapped = inline_allocations(source)
    assert swapped.startswith(f"import numpy as np\nimport numba\n{ALLOC_IMPORT}\n")
    assert "out = empty_((a0.shape[0], max(a0.shape[1], 2)), np.float32)" in swapped
    assert "acc = zeros_(a0.shape[1], a0.dtype)" in swapped
    assert "flat = reshaped_(contiguous_(a0), -1)" in swapped
    for kept in ("np.zeros(a0.shape, dtype=a0.dtype)", "np.empty_like(a0)", "np.empty(4)"):
        assert kept in swapped
    assert inline_allocations("x = np.empty_like(y)\n") == "x = np.empty_like(y)\n"


@numba.njit
def _reshaped(a, n):
    return reshaped_(a, (n, -1)), reshaped_(a, -1), reshaped_(a, (a.shape[1], a.shape[0], 1))


def test_reshaped_views_a_c_array_as_numpy_reshapes_it():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    rows, flat, turned = _reshaped(a, 6)
    for got, want in ((rows, a.reshape(6, -1)), (flat, a.reshape(-1)), (turned, a.reshape(4, 3, 1))):
        assert got.shape == want.shape and got.flags.c_contiguous and np.shares_memory(got, a)
        np.testing.assert_array_equal(got, want)
    empty = np.zeros((0, 5), np.float64)
    assert [r.shape for r in _reshaped(empty, 0)] == [(0, 0), (0,), (5, 0, 1)]
    del a
    rows[0, 0] = 7.0  # (the view keeps the array alive)
    assert flat[0] == 7.0


def test_reshaped_to_and_from_zero_dimensions_and_read_only():
    @numba.njit
    def scalar(a):
        return reshaped_(a, ())

    got = scalar(np.array([2.5], np.float32))
    assert got.shape == () and got[()] == np.float32(2.5)
    frozen = np.arange(6.0).reshape(2, 3)
    frozen.flags.writeable = False
    rows, flat, _ = _reshaped(frozen, 3)
    assert rows.shape == (3, 2) and not rows.flags.writeable


def test_reshaped_to_a_shape_of_another_size_raises():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    with pytest.raises(ValueError, match="cannot reshape"):
        _reshaped(a, 5)


def test_reshaped_of_a_strided_array_is_a_typing_error():
    with pytest.raises(TypingError, match="C-contiguous"):
        _reshaped(np.arange(12.0).reshape(3, 4)[:, ::2], 2)
