"""Matrix products on the GPU: a register-tiled kernel for two-operand products of matrices (either operand
read transposed in place), and one thread per result element for every other contraction.

The tiled kernel's block computes a 128 x 128 tile of the result from 8-deep slabs of both operands
staged in shared memory, each thread an 8 x 8 sub-tile accumulated in registers in float32 (as BLAS
accumulates), the shape of the "first register-tiled" kernel the issue measured at 6.8 TFLOP/s on an
H100; its tile sizes are untuned (no GPU was lent to the session that wrote it).
"""

from __future__ import annotations

import numpy as np

from symkeras.codegen.cuda import device
from symkeras.codegen.cuda.compiler import compile_kernel, counted, each_thread, launch_size, unflatten
from symkeras.codegen.scalar import cast

HEADER = "import math\nimport numpy as np\nfrom numba import cuda\n"
#: the tiled kernel's (BM = BN, BK, TM, TN): 128 x 128 tiles of c in 8-deep slabs, 8 x 8 results a thread
#: (256 threads a block); the simulator runs every thread in Python: 8 x 8 tiles, 2 x 2 a thread
TILES = (128, 8, 8, 8)
SIMULATED_TILES = (8, 4, 2, 2)


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


def _tiled_kernel(op, a_dtype: str, b_dtype: str, dtype: str, tiles: tuple[int, int, int, int]):
    """``c[i, j] = sum_k A[i, k] B[k, j]`` (``a`` and ``b``, the einsum's operands, each read in its own axis
    order), register-tiled: a block computes a BM x BN tile of c, staging BK-deep slabs of A (transposed)
    and B in shared memory; each thread keeps a TM x TN sub-tile of accumulators in registers and, per
    step of the slab, reads TM values of A and TN of B from shared memory for TM * TN multiply-adds."""
    bm, bk, tm, tn = tiles
    bn = bm
    threads = (bm // tm) * (bn // tn)
    a, b, out = op.a_idx, op.b_idx, op.out_idx
    (k,) = _roles(op)
    i, j = out

    def read(name, idx, row_letter, row, col_letter, col, src_dtype):
        first, second = (row, col) if idx == row_letter + col_letter else (col, row)
        value = f"{name}[{first}, {second}]"
        return cast(value, dtype) if src_dtype != dtype else value

    zero = f"np.{dtype}(0)"
    body = [
        f"sa = cuda.shared.array(({bk}, {bm}), np.{dtype})",
        f"sb = cuda.shared.array(({bk}, {bn}), np.{dtype})",
        f"acc = cuda.local.array(({tm}, {tn}), np.{dtype})",
        f"ra = cuda.local.array({tm}, np.{dtype})",
        f"rb = cuda.local.array({tn}, np.{dtype})",
        "tx = cuda.threadIdx.x",
        "ty = cuda.threadIdx.y",
        f"tid = ty * {bn // tn} + tx",
        f"row0 = cuda.blockIdx.y * {bm}",
        f"col0 = cuda.blockIdx.x * {bn}",
        f"for m in range({tm}):",
        f"    for q in range({tn}):",
        f"        acc[m, q] = {zero}",
        f"for k0 in range(0, size_k, {bk}):",
        f"    for load in range({bm * bk // threads}):",
        f"        e = tid + load * {threads}",
        f"        gi = row0 + e // {bk}",
        f"        ga = k0 + e % {bk}",
        f"        sa[e % {bk}, e // {bk}] = {read('a', a, i, 'gi', k, 'ga', a_dtype)} "
        f"if gi < size_i and ga < size_k else {zero}",
        f"    for load in range({bk * bn // threads}):",
        f"        e = tid + load * {threads}",
        f"        gb = k0 + e // {bn}",
        f"        gj = col0 + e % {bn}",
        f"        sb[e // {bn}, e % {bn}] = {read('b', b, k, 'gb', j, 'gj', b_dtype)} "
        f"if gb < size_k and gj < size_j else {zero}",
        "    cuda.syncthreads()",
        f"    for kk in range({bk}):",
        f"        for m in range({tm}):",
        f"            ra[m] = sa[kk, ty * {tm} + m]",
        f"        for q in range({tn}):",
        f"            rb[q] = sb[kk, tx * {tn} + q]",
        f"        for m in range({tm}):",
        f"            for q in range({tn}):",
        "                acc[m, q] += ra[m] * rb[q]",
        "    cuda.syncthreads()",
        f"for m in range({tm}):",
        f"    gi = row0 + ty * {tm} + m",
        f"    for q in range({tn}):",
        f"        gj = col0 + tx * {tn} + q",
        "        if gi < size_i and gj < size_j:",
        "            c[gi, gj] = acc[m, q]",
    ]
    return compile_kernel(["a", "b", "c", "size_i", "size_j", "size_k"], body, HEADER)


def _generic_kernel(op, a_dtype: str, b_dtype: str, dtype: str):
    """One thread per result element, looping over the contracted letters (any two-operand einsum)."""
    a, b, out = op.a_idx, op.b_idx, op.out_idx
    letters = list(dict.fromkeys(out + a + b))
    contracted = [c for c in letters if c not in out]
    body = ["n = 1"] + [f"n *= sizes[{letters.index(c)}]" for c in out]
    body += each_thread("n")
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
        tiles = SIMULATED_TILES if device.simulated() else TILES
        tile, per_thread = tiles[0], tiles[2]
        view = type(op)(f"{first},{second}->{op.out_idx}")
        kernel = _tiled_kernel(view, *dtypes, dtype, tiles)
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
                block = (tile // per_thread, tile // per_thread)
                kernel.function[grid, block](a, b, c, size[i], size[j], size[k])
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
