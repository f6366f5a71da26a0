"""Matrix products on the GPU: a shared-memory tiled kernel for two-operand products of matrices (either
operand read transposed in place), and one thread per result element for every other contraction.

The tiled kernel stages a TILE x TILE block of each operand in shared memory per step along the
contracted axis; each thread accumulates one result element in float32, as BLAS does.  (A
register-tiled kernel, several results per thread, is the next step towards cuBLAS's speed: it needs a
GPU to tune on.)
"""

from __future__ import annotations

import numpy as np

from symkeras.codegen.cuda import device
from symkeras.codegen.cuda.compiler import compile_kernel, counted, launch_size, unflatten
from symkeras.codegen.scalar import cast

HEADER = "import math\nimport numpy as np\nfrom numba import cuda\n"
#: the tiled kernel's block: TILE x TILE threads (the simulator runs every thread in Python: small tiles)
TILE = 16
SIMULATED_TILE = 4


def _roles(op):
    a, b, out = op.a_idx, op.b_idx, op.out_idx
    contracted = [c for c in a if c in b and c not in out]
    return contracted


def _is_matrix_product(op) -> bool:
    """Two matrices, one contracted letter, no batch letter: ``ik,kj->ij`` with any operand order."""
    a, b, out = op.a_idx, op.b_idx, op.out_idx
    contracted = _roles(op)
    return (len(a) == len(b) == len(out) == 2 and len(contracted) == 1
            and not set(a) & set(b) & set(out))


def _tiled_kernel(op, a_dtype: str, b_dtype: str, dtype: str, tile: int):
    """``c[i, j] = sum_k A[i, k] B[k, j]``: ``a`` and ``b`` are the einsum's operands (swapped first when
    the result's first letter is the second operand's), each read in its own axis order."""
    a, b, out = op.a_idx, op.b_idx, op.out_idx
    (k,) = _roles(op)
    i, j = out

    def read(name, idx, row_letter, row, col_letter, col, src_dtype):
        first, second = (row, col) if idx == row_letter + col_letter else (col, row)
        return cast(f"{name}[{first}, {second}]", dtype) if src_dtype != dtype else f"{name}[{first}, {second}]"

    a_load = read("a", a, i, "row", k, "ka", a_dtype)
    b_load = read("b", b, k, "kb", j, "col", b_dtype)
    zero = f"np.{dtype}(0)"
    body = [
        f"sa = cuda.shared.array(({tile}, {tile}), np.{dtype})",
        f"sb = cuda.shared.array(({tile}, {tile}), np.{dtype})",
        "tx = cuda.threadIdx.x",
        "ty = cuda.threadIdx.y",
        f"row = cuda.blockIdx.y * {tile} + ty",
        f"col = cuda.blockIdx.x * {tile} + tx",
        f"acc = {zero}",
        f"for t in range((size_k + {tile - 1}) // {tile}):",
        f"    ka = t * {tile} + tx",
        f"    kb = t * {tile} + ty",
        f"    sa[ty, tx] = {a_load} if row < size_i and ka < size_k else {zero}",
        f"    sb[ty, tx] = {b_load} if kb < size_k and col < size_j else {zero}",
        "    cuda.syncthreads()",
        f"    for q in range({tile}):",
        "        acc += sa[ty, q] * sb[q, tx]",
        "    cuda.syncthreads()",
        "if row < size_i and col < size_j:",
        "    c[row, col] = acc",
    ]
    return compile_kernel(["a", "b", "c", "size_i", "size_j", "size_k"], body, HEADER)


def _generic_kernel(op, a_dtype: str, b_dtype: str, dtype: str):
    """One thread per result element, looping over the contracted letters (any two-operand einsum)."""
    a, b, out = op.a_idx, op.b_idx, op.out_idx
    letters = list(dict.fromkeys(out + a + b))
    contracted = [c for c in letters if c not in out]
    body = ["n = 1"] + [f"n *= sizes[{letters.index(c)}]" for c in out]
    body += ["i = cuda.grid(1)", "if i < n:"]
    inner = unflatten([f"x_{c}" for c in out], [f"sizes[{letters.index(c)}]" for c in out])
    inner.append(f"acc = np.{dtype}(0)")
    depth = ""
    for c in contracted:
        inner.append(f"{depth}for x_{c} in range(sizes[{letters.index(c)}]):")
        depth += "    "
    a_val = cast(f"a[{', '.join(f'x_{c}' for c in a)}]", dtype) if a else "a[0]"
    b_val = cast(f"b[{', '.join(f'x_{c}' for c in b)}]", dtype) if b else "b[0]"
    inner.append(f"{depth}acc += {a_val} * {b_val}")
    inner.append(f"c[{', '.join(f'x_{c}' for c in out) or '0'}] = acc")
    body += ["    " + line for line in inner]
    return compile_kernel(["a", "b", "c", "sizes"], body, HEADER), letters


def einsum_launcher(node, context):
    from symkeras.codegen.cuda.launchers import empty, flat_scalar, on_device

    op = node.op
    x, y = node.inputs
    dtype = node.out.dtype
    if _is_matrix_product(op):
        swap = op.out_idx[0] not in op.a_idx
        first, second = (op.b_idx, op.a_idx) if swap else (op.a_idx, op.b_idx)
        dtypes = (y.dtype, x.dtype) if swap else (x.dtype, y.dtype)
        tile = SIMULATED_TILE if device.simulated() else TILE
        view = type(op)(f"{first},{second}->{op.out_idx}")
        kernel = _tiled_kernel(view, *dtypes, dtype, tile)
        (k,) = _roles(op)
        i, j = op.out_idx

        def run(args):
            a, b = (on_device(v) for v in (args[::-1] if swap else args))
            size = {c: n for idx, arr in ((first, a), (second, b)) for c, n in zip(idx, arr.shape)}
            if a.shape[first.index(k)] != b.shape[second.index(k)]:
                raise ValueError(f"{op}: the contracted sizes differ ({a.shape} and {b.shape})")
            c = empty((size[i], size[j]), dtype)
            if c.size:
                counted()
                grid = (max(1, -(-size[j] // tile)), max(1, -(-size[i] // tile)))
                kernel.function[grid, (tile, tile)](a, b, c, size[i], size[j], size[k])
            return [c]
        return run

    kernel, letters = _generic_kernel(op, x.dtype, y.dtype, dtype)

    def run(args):
        a, b = (on_device(v) for v in args)
        size = {}
        for idx, arr in ((op.a_idx, a), (op.b_idx, b)):
            for c, n in zip(idx, arr.shape):
                if size.setdefault(c, n) != n:
                    raise ValueError(f"{op}: index {c!r} has sizes {size[c]} and {n} ({a.shape}, {b.shape})")
        c = empty(tuple(size[ch] for ch in op.out_idx), dtype)
        count = int(np.prod(c.shape, dtype=np.int64))
        if count:
            blocks, threads = launch_size(count)
            kernel.function[blocks, threads](flat_scalar(a), flat_scalar(b), flat_scalar(c),
                                             tuple(size[ch] for ch in letters))
        return [c]
    return run
