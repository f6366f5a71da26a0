"""CUDA kernels that move elements: transposes, concatenation, writes into a slice (a Subtensor's
gradient), embedding lookups (Gather) and their scatter-add gradient.  One thread per element moved."""

from __future__ import annotations

import numpy as np

from symkeras.codegen.cuda.compiler import axes_of, compile_kernel, each_thread, launch, unflatten
from symkeras.graph.ops.nn import Gather, GatherGrad
from symkeras.graph.ops.shape import Concatenate, SplitLike, SubtensorGrad, Transpose, _index_tuple

HEADER = "import math\nimport numpy as np\nfrom numba import cuda\n"


def _elementwise(params: list[str], rank: int, shape_of: str, lines: list[str]):
    index = unflatten([f"k{d}" for d in range(rank)], axes_of(shape_of, range(rank)))
    body = each_thread("n") + ["    " + line for line in index + lines]
    return compile_kernel(["n", *params], body, HEADER)


def fill_kernel(rank: int, dtype: str):
    """``out[...] = 0`` (rank >= 1)."""
    return _elementwise(["out"], rank, "out", [f"out[{', '.join(f'k{d}' for d in range(rank))}] = np.{dtype}(0)"])


def copy_into_kernel(rank: int, dtype: str):
    """``out[...] = src`` for two arrays of one shape (``out`` may be a strided view)."""
    at = ", ".join(f"k{d}" for d in range(rank))
    return _elementwise(["out", "src"], rank, "out", [f"out[{at}] = np.{dtype}(src[{at}])"])


def transpose_launcher(node, context):
    from symkeras.codegen.cuda.launchers import empty, on_device

    perm = node.op.perm
    rank = len(perm)
    # out axis d is input axis perm[d]: the input's index at its axis a is out's at perm.index(a)
    source = ", ".join(f"k{perm.index(a)}" for a in range(rank))
    kernel = _elementwise(["out", "x"], rank, "out", [f"out[{', '.join(f'k{d}' for d in range(rank))}] = x[{source}]"])

    def run(args):
        x = on_device(args[0])
        out = empty(tuple(x.shape[p] for p in perm), x.dtype)
        launch(kernel, out.size, out, x)
        return [out]
    return run


def concatenate_launcher(node, context):
    from symkeras.codegen.cuda.launchers import empty, on_device

    op, rank, count = node.op, node.out.ndim, len(node.inputs)
    axis = op.axis % rank
    dtype = node.out.dtype
    lines = []
    for j in range(count):
        at = ", ".join(f"k{d} - offset{j}" if d == axis else f"k{d}" for d in range(rank))
        keyword = "if" if j == 0 else "elif"
        lines += ([f"{keyword} k{axis} < offset{j + 1}:"] if j < count - 1 else ["else:"])
        lines.append(f"    value = np.{dtype}(a{j}[{at}])")
    lines.append(f"out[{', '.join(f'k{d}' for d in range(rank))}] = value")
    params = ["out", *[f"a{j}" for j in range(count)], *[f"offset{j}" for j in range(count + 1)]]
    kernel = _elementwise(params, rank, "out", lines)

    def run(args):
        arrays = [on_device(a) for a in args]
        offsets = np.cumsum([0] + [a.shape[axis] for a in arrays]).tolist()
        shape = list(arrays[0].shape)
        shape[axis] = offsets[-1]
        out = empty(shape, dtype)
        launch(kernel, out.size, out, *arrays, *offsets)
        return [out]
    return run


def split_like_launcher(node, context):
    """A piece of ``g`` along the axis: a view."""
    op = node.op

    def run(args):
        g, *refs = args
        start = sum(r.shape[op.axis] for r in refs[:op.index])
        index = [slice(None)] * g.ndim
        index[op.axis] = slice(start, start + refs[op.index].shape[op.axis])
        return [g[tuple(index)]]
    return run


def subtensor_grad_launcher(node, context):
    from symkeras.codegen.cuda.launchers import empty, on_device

    plain = tuple(i for i in _index_tuple(node.op.spec) if i is not None)  # (new axes only add 1s to g)
    dtype = node.out.dtype
    fill = fill_kernel(node.out.ndim, dtype)
    copies: dict[int, object] = {}

    def run(args):
        g, ref = on_device(args[0]), args[1]
        out = empty(ref.shape, dtype)
        launch(fill, out.size, out)
        if len(plain) == len(ref.shape) and all(isinstance(i, int) for i in plain):  # one element
            at = int(np.ravel_multi_index(tuple(i % n for i, n in zip(plain, ref.shape)), ref.shape))
            target, piece = out.reshape(out.size)[at:at + 1], g.reshape(1)
        else:
            target = out[plain]
            piece = g if tuple(g.shape) == tuple(target.shape) else g.reshape(*target.shape)
        if target.ndim not in copies:
            copies[target.ndim] = copy_into_kernel(target.ndim, dtype)
        launch(copies[target.ndim], target.size, target, piece)
        return [out]
    return run


def gather_launcher(node, context):
    """``out[i.., j..] = ref[idx[i..], j..]``; an index outside the table is the reference's error (the
    kernel flags it, the host raises)."""
    from symkeras.codegen.cuda.launchers import empty, on_device

    ref_t, idx_t = node.inputs
    rank, idx_rank = node.out.ndim, idx_t.ndim
    strict = node.op.strict
    low = "0" if strict else "-rows"
    row = f"idx[{', '.join(f'k{d}' for d in range(idx_rank))}]" if idx_rank else "idx[0]"
    rest = "".join(f", k{d}" for d in range(idx_rank, rank))
    lines = ["rows = ref.shape[0]", f"j = {row}",
             f"if j < {low} or j >= rows:", "    bad[0] = 1", "    bad[1] = j", "else:",
             "    if j < 0:", "        j += rows", f"    out[{', '.join(f'k{d}' for d in range(rank))}] = ref[j{rest}]"]
    kernel = _elementwise(["out", "ref", "idx", "bad"], rank, "out", lines)

    def run(args):
        ref, idx = on_device(args[0]), on_device(args[1])
        out = empty(tuple(idx.shape) + tuple(ref.shape[1:]), ref_t.dtype)
        bad = on_device(np.zeros(2, np.int64))
        launch(kernel, out.size, out, ref, idx.reshape(1) if idx.ndim == 0 else idx, bad)
        flag, index = bad.copy_to_host()
        if flag:
            n = ref.shape[0]
            if strict:
                raise ValueError(f"index {index} is outside [0, {n}) (the rows of the table)")
            raise IndexError(f"gather index {index} is out of range for a reference of {n} rows.")
        return [out]
    return run


def gather_grad_launcher(node, context):
    """Zeros shaped like the table, ``g``'s rows added at their indices (atomically: rows may repeat)."""
    from symkeras.codegen.cuda.launchers import empty, on_device

    g_t, idx_t, ref_t = node.inputs
    rank, idx_rank, dtype = g_t.ndim, idx_t.ndim, node.out.dtype
    fill = fill_kernel(ref_t.ndim, dtype)
    row = f"idx[{', '.join(f'k{d}' for d in range(idx_rank))}]" if idx_rank else "idx[0]"
    rest = "".join(f", k{d}" for d in range(idx_rank, rank))
    lines = [f"j = {row}", "if j < 0:", "    j += out.shape[0]",
             f"cuda.atomic.add(out, (j{rest}), g[{', '.join(f'k{d}' for d in range(rank))}])"]
    kernel = _elementwise(["g", "idx", "out"], rank, "g", lines)

    def run(args):
        g, idx, ref = on_device(args[0]), on_device(args[1]), args[2]
        out = empty(ref.shape, dtype)
        launch(fill, out.size, out)
        launch(kernel, g.size, g, idx.reshape(1) if idx.ndim == 0 else idx, out)
        return [out]
    return run


LAUNCHERS = {Transpose: transpose_launcher, Concatenate: concatenate_launcher, SplitLike: split_like_launcher,
             SubtensorGrad: subtensor_grad_launcher, Gather: gather_launcher, GatherGrad: gather_grad_launcher}
