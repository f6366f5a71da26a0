"""Kernels working along one axis (softmax, argmax, exclusive products) and index-based ops."""

from __future__ import annotations

import numpy as np

from symkeras.codegen.numba.emitter import c_reshape
from symkeras.codegen.numba.loops import SHARED_WIDTH
from symkeras.codegen.numba.registry import kernel
from symkeras.graph import ops
from symkeras.graph.ops.reduce import Argmax, Argmin, ExclusiveProd, ExclusiveProdGradAtZero, Moments


def _rows(em, x, axes, name=None):
    """Move ``axes`` of x last and flatten them: returns (rows var, moved-shape dims, perm)."""
    perm = [a for a in range(x.ndim) if a not in axes] + list(axes)
    src = em.permute(name or em.name(x), x.ndim, perm, x.dtype)
    moved = [em.dim(x, p) for p in perm]
    group = " * ".join(f"({moved[len(perm) - len(axes) + i]})" for i in range(len(axes))) or "1"
    rows = em.fresh("rows")
    em.line(f"{rows} = np.ascontiguousarray({src}).reshape((-1, {group}))")
    return rows, moved, perm


def _unrows(em, out_name, flat, moved, perm, dtype):
    inverse = [int(p) for p in np.argsort(perm)]
    em.line(f"{out_name} = {em.permute(c_reshape(flat, em.tuple_of(moved)), len(perm), inverse, dtype)}")


@kernel(ops.Softmax, ops.LogSoftmax)
def softmax(em, node):
    (x,) = node.inputs
    log = isinstance(node.op, ops.LogSoftmax)
    dt = node.out.dtype
    rows, moved, perm = _rows(em, x, (node.op.axis,))
    res = em.fresh("sm")
    em.line(f"{res} = np.empty({rows}.shape, np.{dt})")
    em.open(f"for r in range({rows}.shape[0]):")
    em.line(f"mx = {rows}[r, 0]")
    em.open(f"for j in range(1, {rows}.shape[1]):")
    em.line(f"if {rows}[r, j] > mx:")
    em.line(f"    mx = {rows}[r, j]")
    em.close()
    em.line("total = 0.0")
    em.open(f"for j in range({rows}.shape[1]):")
    em.line(f"e = np.exp({rows}[r, j] - mx)")
    if not log:
        em.line(f"{res}[r, j] = e")
    em.line("total += e")
    em.close()
    em.open(f"for j in range({rows}.shape[1]):")
    if log:
        em.line(f"{res}[r, j] = {rows}[r, j] - mx - np.log(total)")
    else:
        em.line(f"{res}[r, j] = {res}[r, j] / total")
    em.close(2)
    _unrows(em, em.name(node.out), res, moved, perm, node.out.dtype)


@kernel(Argmax, Argmin)
def arg_reduce(em, node):
    (x,) = node.inputs
    better = ">" if isinstance(node.op, Argmax) else "<"
    rows, moved, perm = _rows(em, x, (node.op.axis,))
    res = em.fresh("arg")
    em.line(f"{res} = np.empty({rows}.shape[0], np.int64)")
    em.open(f"for r in range({rows}.shape[0]):")
    em.line(f"best = {rows}[r, 0]")
    em.line("at = 0")
    em.open(f"for j in range(1, {rows}.shape[1]):")
    em.line("if best != best:")
    em.line("    break")
    em.line(f"v = {rows}[r, j]")
    em.line(f"if v {better} best or v != v:")
    em.line("    best = v")
    em.line("    at = j")
    em.close()
    em.line(f"{res}[r] = at")
    em.close()
    keep = [em.dim(x, p) for p in perm[:-1]]
    if node.op.keepdims:
        keep.insert(node.op.axis, "1")
    em.line(f"{em.name(node.out)} = {c_reshape(res, em.tuple_of(keep))}")


@kernel(ExclusiveProd)
def exclusive_prod(em, node):
    (x,) = node.inputs
    rows, moved, perm = _rows(em, x, node.op.axis)
    res = em.fresh("ex")
    em.line(f"{res} = np.empty({rows}.shape, np.{x.dtype})")
    em.open(f"for r in range({rows}.shape[0]):")
    em.line(f"acc = np.{x.dtype}(1)")
    em.open(f"for j in range({rows}.shape[1]):")
    em.line(f"{res}[r, j] = acc")
    em.line(f"acc = acc * {rows}[r, j]")
    em.close()
    em.line(f"acc = np.{x.dtype}(1)")
    em.open(f"for j in range({rows}.shape[1] - 1, -1, -1):")
    em.line(f"{res}[r, j] = {res}[r, j] * acc")
    em.line(f"acc = acc * {rows}[r, j]")
    em.close(2)
    _unrows(em, em.name(node.out), res, moved, perm, node.out.dtype)


@kernel(ExclusiveProdGradAtZero)
def exclusive_prod_grad_at_zero(em, node):
    x, gz = node.inputs
    full = em.fresh("gfull")
    em.line(f"{full} = np.ascontiguousarray(np.broadcast_to({em.name(gz)}, {em.name(x)}.shape))")
    rows, moved, perm = _rows(em, x, node.op.axis)
    grows, _, _ = _rows(em, x, node.op.axis, name=full)
    res = em.fresh("gz0")
    em.filled(res, [f"{rows}.shape[0]", f"{rows}.shape[1]"], "0", f"np.{x.dtype}")
    em.open(f"for r in range({rows}.shape[0]):")
    em.open(f"for j in range({rows}.shape[1]):")
    em.line(f"if {rows}[r, j] != 0:")
    em.line("    continue")
    em.open(f"for k in range({rows}.shape[1]):")
    em.line("if k == j:")
    em.line("    continue")
    em.line(f"p = np.{x.dtype}(1)")
    em.open(f"for i in range({rows}.shape[1]):")
    em.line("if i != j and i != k:")
    em.line(f"    p = p * {rows}[r, i]")
    em.close()
    em.line(f"{res}[r, j] += {grows}[r, k] * p")
    em.close(3)
    _unrows(em, em.name(node.out), res, moved, perm, node.out.dtype)


def _flat_indices(em, idx):
    flat = em.fresh("idx")
    em.line(f"{flat} = np.ascontiguousarray({em.name(idx)}).reshape(-1)")
    return flat


@kernel(ops.Gather)
def gather(em, node):
    ref, idx = node.inputs
    flat = _flat_indices(em, idx)
    table = em.fresh("table")
    em.line(f"{table} = np.ascontiguousarray({em.name(ref)}).reshape(({em.shared_dim(ref, 0)}, -1))")
    res = em.fresh("rows")
    em.line(f"{res} = np.empty(({flat}.shape[0], {table}.shape[1]), np.{ref.dtype})")
    em.open(f"for q in range({flat}.shape[0]):")
    em.line(f"i = {flat}[q]")
    if node.op.strict:
        em.line(f"if i < 0 or i >= {table}.shape[0]:")
        em.line("    raise ValueError('index outside the rows of the table')")
    else:
        em.line("if i < 0:")
        em.line(f"    i += {table}.shape[0]")
        em.line(f"if i < 0 or i >= {table}.shape[0]:")
        em.line("    raise IndexError('gather index out of range')")
    em.open(f"for col in range({table}.shape[1]):")
    em.line(f"{res}[q, col] = {table}[i, col]")  # a loop: slice assignment costs seconds of compile
    em.close(2)
    em.line(f"{em.name(node.out)} = {c_reshape(res, em.tuple_of(em.shared_dims(idx) + em.shared_dims(ref)[1:]))}")


@kernel(ops.GatherGrad)
def gather_grad(em, node):
    g, idx, ref = node.inputs
    flat = _flat_indices(em, idx)
    res = em.fresh("scatter")
    em.filled(res, [em.shared_dim(ref, 0), " * ".join(em.shared_dims(ref)[1:]) or "1"], "0", f"np.{g.dtype}")
    rows = em.fresh("grows")
    em.line(f"{rows} = np.ascontiguousarray({em.name(g)}).reshape(({flat}.shape[0], -1))")
    em.open(f"for q in range({flat}.shape[0]):")
    em.line(f"i = {flat}[q]")
    em.line("if i < 0:")
    em.line(f"    i += {res}.shape[0]")
    em.open(f"for col in range({rows}.shape[1]):")
    em.line(f"{res}[i, col] += {rows}[q, col]")
    em.close(2)
    em.line(f"{em.name(node.out)} = {c_reshape(res, em.tuple_of(em.shared_dims(ref)))}")


@kernel(ops.OneHot)
def one_hot(em, node):
    (idx,) = node.inputs
    flat = _flat_indices(em, idx)
    n = node.op.num_classes
    res = em.fresh("onehot")
    em.filled(res, [f"{flat}.shape[0]", str(n)], "0", f"np.{node.out.dtype}")
    em.open(f"for q in range({flat}.shape[0]):")
    em.line(f"if 0 <= {flat}[q] < {n}:")
    em.line(f"    {res}[q, {flat}[q]] = 1")
    em.close()
    em.line(f"{em.name(node.out)} = {c_reshape(res, em.tuple_of(em.dims(idx) + [str(n)]))}")


@kernel(Moments)
def moments(em, node):
    """Mean, then the squared deviations from it, each accumulated in float64 in the input's memory order."""
    (x,) = node.inputs
    mean, var = node.outputs
    axes = node.op.axis
    # (every outer extent, and an inner one of 16 or more, read from the array: see loops.SHARED_WIDTH)
    sizes = [em.shared_dim(x, a) if a < x.ndim - 1 or (x.shape[a] or 0) >= SHARED_WIDTH else em.dim(x, a)
             for a in range(x.ndim)]
    kept = ["1" if a in axes else sizes[a] for a in range(x.ndim)]  # the statistics with keepdims
    loop = [f"i{a}" for a in range(x.ndim)]
    at = ", ".join("0" if a in axes else loop[a] for a in range(x.ndim)) or "()"
    element = f"{em.name(x)}[{', '.join(loop) or '()'}]"
    em.line(f"n = np.float64({' * '.join(f'({sizes[a]})' for a in axes) or '1'})")
    for acc, value in (("total", f"np.float64({element})"), ("squares", f"(np.float64({element}) - total[{at}]) ** 2")):
        em.filled(acc, kept, "0", "np.float64")
        for a in range(x.ndim):
            em.open(f"for {loop[a]} in range({sizes[a]}):")
        em.line(f"{acc}[{at}] += {value}")
        em.close(x.ndim)
        em.line(f"{acc}_flat = {c_reshape(acc, '-1')}")  # (a view: the divisions write into acc)
        em.open(f"for j in range({acc}_flat.size):")
        em.line(f"{acc}_flat[j] /= n")
        em.close()
    shape = em.tuple_of(kept if node.op.keepdims else [sizes[a] for a in range(x.ndim) if a not in axes])
    for out, acc in ((mean, "total"), (var, "squares")):
        dtype = f"np.{out.dtype}"
        em.filled(f"{acc}_out", kept, lambda index, acc=acc, dtype=dtype: f"{dtype}({acc}[{index}])", dtype)
        em.line(f"{em.name(out)} = {c_reshape(f'{acc}_out', shape)}")
