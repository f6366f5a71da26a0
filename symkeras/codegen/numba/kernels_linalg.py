"""Einsum through BLAS: operands are permuted into batched (B, M, K) x (B, K, N) matrix products."""

from __future__ import annotations

from dataclasses import replace

from symkeras.codegen.numba.emitter import KernelText, c_reshape, transposed_layout
from symkeras.codegen.numba.registry import kernel
from symkeras.graph import ops


def _roles(op):
    a, b, out = op.a_idx, op.b_idx, op.out_idx
    batch = [c for c in a if c in b and c in out]
    contracted = [c for c in a if c in b and c not in out]
    a_free = [c for c in a if c not in b]
    b_free = [c for c in b if c not in a]
    return batch, a_free, contracted, b_free


def _operand(em, t, idx, order, dtype):
    """Source of ``t`` permuted to ``order`` (letters) and cast to ``dtype``, and its kernel-argument type."""
    name = em.name(t)
    known = em.layout_of(t)
    if t.dtype != dtype:
        name = f"{name}.astype(np.{dtype})"
        known = ("C", False)
    perm = [idx.index(c) for c in order]
    if len(idx) == 2 and perm == [1, 0]:
        # a transposed operand is a view (an F array for C data), in the step and in a Loop's kernel alike:
        # the product's kernel takes either order
        flipped = transposed_layout(known)
        return f"{name}.T", None if flipped is None else (dtype, 2, *flipped)
    if known is not None and perm != list(range(len(idx))):
        known = ("C", False)  # n-D permutes are copies
    arg_type = None if known is None else (dtype, len(idx), *known)
    return em.permute(name, len(idx), perm, dtype), arg_type


#: matrix products run in a kernel of their own, calling BLAS for C- or F-ordered operands
#: (compiled once per layout, cached and shared by every graph)
_BLAS = "from symkeras.codegen.numba.blas import gemm_into\n"
GEMM = KernelText(("a0", "a1"), """    if a0.shape[1] != a1.shape[0]:
        raise ValueError('matrix product: the inner sizes differ')
    out = np.empty((a0.shape[0], a1.shape[1]), a0.dtype)
    if gemm_into(a0, a1, out) != 0:
        raise RuntimeError('matrix product: no BLAS found (SciPy is required)')
    return out
""", imports=_BLAS)
#: the same for operands of a layout known only at run time (strided views are copied first)
GEMM_ANY_LAYOUT = replace(GEMM, body=GEMM.body.replace(
    "gemm_into(a0, a1, out)", "gemm_into(np.ascontiguousarray(a0), np.ascontiguousarray(a1), out)"))
#: a batch of matrix products, (B, M, K) x (B, K, N) C-ordered
BATCHED_GEMM = KernelText(("a0", "a1"), """    if a0.shape[0] != a1.shape[0] or a0.shape[2] != a1.shape[1]:
        raise ValueError('batched matrix product: the sizes differ')
    out = np.empty((a0.shape[0], a0.shape[1], a1.shape[2]), a0.dtype)
    for i in range(a0.shape[0]):
        if gemm_into(a0[i], a1[i], out[i]) != 0:
            raise RuntimeError('matrix product: no BLAS found (SciPy is required)')
    return out
""", imports=_BLAS)


@kernel(ops.Einsum, inline=True)
def einsum(em, node):
    op = node.op
    a, b = node.inputs
    dtype = node.out.dtype
    if dtype not in ("float32", "float64"):
        return _einsum_loops(em, node)
    batch, a_free, contracted, b_free = _roles(op)
    size = {}
    for idx, t in ((op.a_idx, a), (op.b_idx, b)):
        for axis, c in enumerate(idx):
            size.setdefault(c, em.shared_dim(t, axis))

    def prod(letters):
        return " * ".join(f"({size[c]})" for c in letters) or "1"

    out = em.name(node.out)
    # An operand whose axes come as (contracted, free) for a, (free, contracted) for b is the transpose
    # of its own C reshape: passed as that F view, not permuted into a copy (dW = X^T dZ over time steps)
    flipped = (not batch and a.ndim > 2 and list(op.a_idx) == contracted + a_free and a.dtype == dtype,
               not batch and b.ndim > 2 and list(op.b_idx) == b_free + contracted and b.dtype == dtype)
    a_src, a_type = (em.name(a), em.arg_type(a)) if flipped[0] else \
        _operand(em, a, op.a_idx, batch + a_free + contracted, dtype)
    b_src, b_type = (em.name(b), em.arg_type(b)) if flipped[1] else \
        _operand(em, b, op.b_idx, batch + contracted + b_free, dtype)
    m, k, n = prod(a_free), prod(contracted), prod(b_free)
    plain_2d = not batch and len(a_free) <= 1 and len(contracted) == 1 and len(b_free) <= 1 and a.ndim == 2 \
        and b.ndim == 2
    result = em.fresh("mm")
    if plain_2d:
        text = GEMM if a_type and b_type and a_type[2] in "CF" and b_type[2] in "CF" else GEMM_ANY_LAYOUT
        em.line(f"{result} = {em.call_kernel(text, [a_src, b_src], [a_type, b_type], (dtype, 2, 'C', False))}")
    else:
        lhs, rhs = em.fresh("lhs"), em.fresh("rhs")
        shapes = [(m, k), (k, n)]
        if batch:
            bsz = prod(batch)
            shapes = [(bsz, m, k), (bsz, k, n)]
        args = []
        one_each = (len(a_free) == 1 and len(contracted) == 1, len(contracted) == 1 and len(b_free) == 1)
        for name, src, known, shape, flip, matrix in ((lhs, a_src, a_type, shapes[0], flipped[0], one_each[0]),
                                                      (rhs, b_src, b_type, shapes[1], flipped[1], one_each[1])):
            if not batch and matrix and known is not None and known[1] == 2 and known[2] in "CF":
                em.line(f"{name} = {src}")  # a matrix already (a weight, or its transposed view)
                args.append(known)
                continue
            reshape = shape[::-1] if flip else shape
            c_name = em.fresh("flat") if flip else name
            em.line(f"{c_name} = np.ascontiguousarray({src}).reshape({em.tuple_of(reshape)})")
            # (a C array is passed on as it is, read-only or not; a copy is writable)
            writable = known is not None and (known[2] != "C" or not known[3])
            if flip:
                em.line(f"{name} = {c_name}.T")
            args.append((dtype, len(shape), "F" if flip else "C", False) if writable else None)
        text = BATCHED_GEMM if batch else GEMM
        em.line(f"{result} = {em.call_kernel(text, [lhs, rhs], args, (dtype, len(shapes[0]), 'C', False))}")
    natural = batch + a_free + b_free
    same = plain_2d and len(natural) == 2  # the kernel's (m, n) result is the natural shape already
    shaped = result if same else c_reshape(result, em.tuple_of(size[c] for c in natural))
    perm = [natural.index(c) for c in op.out_idx]
    em.line(f"{out} = {em.permute(shaped, len(perm), perm, dtype)}")
    if perm != list(range(len(perm))):
        em.set_layout(node.out, "F" if len(perm) == 2 and em.parent is None else "C")


def _einsum_loops(em, node):
    """Integer (or half-precision) contractions: a plain loop nest."""
    op = node.op
    a, b = node.inputs
    size = {}
    for idx, t in ((op.a_idx, a), (op.b_idx, b)):
        for axis, c in enumerate(idx):
            size.setdefault(c, em.dim(t, axis))
    letters = list(dict.fromkeys(op.out_idx + op.a_idx + op.b_idx))
    out = em.name(node.out)
    em.filled(out, [size[c] for c in op.out_idx], "0", f"np.{node.out.dtype}")
    for c in letters:
        em.open(f"for l_{c} in range({size[c]}):")

    def at(name, idx):
        return f"{name}[{', '.join('l_' + c for c in idx) or '()'}]"

    em.line(f"{at(out, op.out_idx)} += {at(em.name(a), op.a_idx)} * {at(em.name(b), op.b_idx)}")
    em.close(len(letters))
