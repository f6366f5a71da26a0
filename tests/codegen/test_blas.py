"""gemm_into: BLAS matrix products on C- and F-ordered operands, as the GEMM kernels use them."""

import numba
import numpy as np
import pytest
from numba.core.errors import TypingError

import symkeras.backend as K
from symkeras.codegen.numba.blas import gemm_into
from symkeras.codegen.numba.kernels_linalg import GEMM, GEMM_ANY_LAYOUT


@numba.njit(cache=False)
def _product(a, b):
    out = np.empty((a.shape[0], b.shape[1]), a.dtype)
    status = gemm_into(a, b, out)
    return out, status


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("m,k,n", [(3, 4, 5), (1, 6, 1), (7, 1, 2), (4, 0, 3), (0, 3, 4), (2, 3, 0),
                                   (6, 5, 1), (1, 5, 6), (4, 0, 1), (1, 0, 4), (9, 1, 1)])
def test_every_layout_pair_matches_numpy(dtype, m, k, n):
    rng = np.random.default_rng(m * 100 + k * 10 + n)
    a = rng.normal(size=(m, k)).astype(dtype)
    b = rng.normal(size=(k, n)).astype(dtype)
    want = a.astype(np.float64) @ b.astype(np.float64)
    for left in (a, np.asfortranarray(a)):
        for right in (b, np.asfortranarray(b)):
            got, status = _product(left, right)
            assert status == 0 and got.dtype == dtype and got.shape == (m, n)
            # (k == 0: BLAS writes the zeros itself, the result starts uninitialized)
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_matrix_vector_products_call_gemv():
    a = np.ones((5, 3), np.float32)
    _product(a, np.ones((3, 1), np.float32))
    llvm = next(iter(_product.inspect_llvm().values()))
    assert "numba_xxgemv" in llvm and "numba_xxgemm" in llvm
    x = K.placeholder((None, 6), name="x")
    v = K.variable(np.arange(6, dtype="float32").reshape(6, 1), name="v")
    f = K.function([x], [K.dot(x, v), K.dot(K.transpose(v), K.transpose(x))])
    data = np.arange(12, dtype="float32").reshape(2, 6)
    column, row = f([data])
    np.testing.assert_allclose(column, data @ K.get_value(v), rtol=1e-6)
    np.testing.assert_allclose(row, K.get_value(v).T @ data.T, rtol=1e-6)


def test_transposed_views_are_read_in_place():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(6, 4)).astype("float32")
    x = rng.normal(size=(3, 6)).astype("float32")
    got, _ = _product(w.T, x.T)  # both F-ordered views
    np.testing.assert_allclose(got, w.T @ x.T, rtol=1e-5)


def test_operands_blas_cannot_read_are_typing_errors():
    a = np.ones((4, 6), np.float32)
    with pytest.raises(TypingError, match="must be C- or F-contiguous, got layout 'A'"):
        _product(a[:, ::2], np.ones((3, 2), np.float32))
    with pytest.raises(TypingError, match="float32 or float64 like a"):
        _product(a, np.ones((6, 2), np.float64))

    @numba.njit(cache=False)
    def into_transposed(a, b, out):
        return gemm_into(a, b, out.T)

    with pytest.raises(TypingError, match="writable C-contiguous"):
        into_transposed(a, np.ones((6, 2), np.float32), np.empty((2, 4), np.float32))


def test_kernel_texts_check_shapes_and_copy_strided_operands():
    assert "np.ascontiguousarray(a0)" in GEMM_ANY_LAYOUT.body and "np.ascontiguousarray" not in GEMM.body
    x = K.placeholder((None, 8), name="x")
    w = K.variable(np.arange(12, dtype="float32").reshape(4, 3) / 10, name="w")
    strided = x[:, ::2]  # a strided view feeds the matrix product
    f = K.function([x], [K.dot(strided, w)])
    data = np.arange(16, dtype="float32").reshape(2, 8)
    np.testing.assert_allclose(f([data])[0], data[:, ::2] @ K.get_value(w), rtol=1e-6)
    assert any("contiguous_(a0)" in k for k in f.program.layout.kernel_sources)
