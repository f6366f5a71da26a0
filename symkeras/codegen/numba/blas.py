"""Matrix products straight through BLAS, without np.dot's Numba implementation.

Numba's np.dot compiles a sizeable implementation for every combination of
operand layouts (0.3-0.6 s each, three per training step).  ``gemm_into``
is the call alone: it hands the operands' memory, C- or F-ordered, to the
``numba_xxgemm`` wrapper that Numba's own np.dot ends in (it forwards to
SciPy's BLAS), so a kernel using it compiles in a fraction of that time.
A product whose result is one row or one column (matrix times vector) goes
to ``numba_xxgemv`` instead.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

_BLAS_KIND = {types.float32: "s", types.float64: "d"}


def _check_operands(a, b, out) -> None:
    for name, t in (("a", a), ("b", b), ("out", out)):
        if not isinstance(t, types.Array) or t.ndim != 2:
            raise TypingError(f"gemm_into: {name} must be a 2-D array, got {t}")
        if t.dtype not in _BLAS_KIND or t.dtype != a.dtype:
            raise TypingError(f"gemm_into: {name} must be float32 or float64 like a, got {t.dtype}")
    for name, t in (("a", a), ("b", b)):
        if t.layout not in ("C", "F"):
            raise TypingError(f"gemm_into: {name} must be C- or F-contiguous, got layout {t.layout!r}")
    if out.layout != "C" or not out.mutable:
        raise TypingError(f"gemm_into: out must be a writable C-contiguous array, got {out}")


@intrinsic
def gemm_into(typingctx, a, b, out):
    """``out[...] = a @ b`` for 2-D arrays; returns BLAS's status (0: done, -1: no BLAS found).

    The caller checks the shapes (a is m x k, b is k x n, out is m x n).
    """
    _check_operands(a, b, out)

    def codegen(context, builder, sig, args):
        a_type, b_type, _ = sig.args
        arrays = [context.make_array(t)(context, builder, v) for t, v in zip(sig.args, args)]
        (m, k), (_, n) = (cgutils.unpack_tuple(builder, arrays[i].shape, 2) for i in (0, 1))
        one = ir.Constant(m.type, 1)

        def leading(size):
            return builder.select(builder.icmp_signed(">", size, one), size, one)

        # A row-major m x n result is the column-major n x m matrix b^T a^T: BLAS computes that one.
        def operand(t, array, rows, cols):
            # a C-ordered operand read column-major is its own transpose already
            flag = "n" if t.layout == "C" else "t"
            return ir.Constant(ir.IntType(8), ord(flag)), leading(cols if t.layout == "C" else rows), array.data

        trans_b, ld_b, data_b = operand(b_type, arrays[1], k, n)
        trans_a, ld_a, data_a = operand(a_type, arrays[0], m, k)
        dtype = context.get_value_type(a_type.dtype)
        alpha = cgutils.alloca_once_value(builder, ir.Constant(dtype, 1.0))
        beta = cgutils.alloca_once_value(builder, ir.Constant(dtype, 0.0))
        void_p = ir.IntType(8).as_pointer()
        char, intp = ir.IntType(8), m.type
        fnty = ir.FunctionType(ir.IntType(32), [char, char, char, intp, intp, intp, void_p, void_p, intp,
                                                void_p, intp, void_p, void_p, intp])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "numba_xxgemm")
        status = cgutils.alloca_once_value(builder, ir.Constant(ir.IntType(32), 0))
        empty = builder.or_(builder.icmp_signed("==", m, m.type(0)), builder.icmp_signed("==", n, n.type(0)))
        kind = ir.Constant(char, ord(_BLAS_KIND[a_type.dtype]))
        gemv_ty = ir.FunctionType(ir.IntType(32), [char, char, intp, intp, void_p, void_p, intp,
                                                   void_p, void_p, void_p])
        gemv = cgutils.get_or_insert_function(builder.module, gemv_ty, "numba_xxgemv")
        out_data = builder.bitcast(arrays[2].data, void_p)
        alpha_p, beta_p = builder.bitcast(alpha, void_p), builder.bitcast(beta, void_p)

        def matrix_vector(matrix_type, matrix, rows, cols, vector, transposed):
            """y = op(M) x with M rows x cols as stored; ``transposed``: y = M^T x."""
            # BLAS sees a C-ordered M as its transpose (cols x rows, column-major)
            flip = matrix_type.layout == "C"
            trans = ir.Constant(char, ord("t" if transposed != flip else "n"))
            blas_rows, blas_cols = (cols, rows) if flip else (rows, cols)
            return builder.call(gemv, [kind, trans, blas_rows, blas_cols, alpha_p,
                                       builder.bitcast(matrix, void_p), leading(blas_rows),
                                       builder.bitcast(vector, void_p), beta_p, out_data])

        zero = m.type(0)
        # gemv writes nothing when k == 0 (gemm then writes the zeros): only k > 0 takes it
        column = builder.and_(builder.icmp_signed("==", n, one), builder.icmp_signed(">", k, zero))
        row = builder.and_(builder.icmp_signed("==", m, one), builder.icmp_signed(">", k, zero))
        with builder.if_then(builder.not_(empty)):
            with builder.if_else(column) as (vector_column, other):
                with vector_column:  # out (m x 1) = a b: b's k elements are contiguous
                    builder.store(matrix_vector(a_type, data_a, m, k, data_b, False), status)
                with other:
                    with builder.if_else(row) as (vector_row, general):
                        with vector_row:  # out (1 x n) = (b^T a^T)^T: a's k elements are contiguous
                            builder.store(matrix_vector(b_type, data_b, k, n, data_a, True), status)
                        with general:
                            result = builder.call(fn, [kind, trans_b, trans_a, n, m, k, alpha_p,
                                                       builder.bitcast(data_b, void_p), ld_b,
                                                       builder.bitcast(data_a, void_p), ld_a,
                                                       beta_p, out_data, leading(n)])
                            builder.store(result, status)
        return builder.load(status)

    return types.int32(a, b, out), codegen
