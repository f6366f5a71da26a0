"""CUDA kernels of elementwise programs (Fused, FusedGroup, lone elementwise ops) and of reductions.

One thread per result element: it rebuilds its multi-index from its flat index, reads each input with
NumPy broadcasting (an axis of size 1 reads index 0; an input of lower rank lines up with the last
axes), evaluates the program's steps with the shared scalar IR (codegen/scalar.py, in the CUDA
dialect) and stores its results.  A reduction's thread computes one output element, looping over the
reduced axes and accumulating float sums and products in float64 (then cast back), so that a float32
sum over many elements keeps its precision; where each output reduces many elements (a loss, a bias
gradient), a block computes each output instead: its threads take every blockDim-th element, then
combine their partial results in shared memory, pairwise (``block_reduction_kernel``).

The kernels' text depends on the ranks, dtypes and the program, not on the sizes: one compiled kernel
serves every batch size.
"""

from __future__ import annotations

import numpy as np

from symkeras.codegen.cuda.compiler import Kernel, axes_of, compile_kernel, each_thread, threads_per_block, unflatten
from symkeras.codegen.scalar import Dialect, cast, expression, lit, maximum_source, minimum_source, replay
from symkeras.graph import dtypes

#: how the CUDA kernels spell what the scalar expressions call (NumPy's scalar casts work as they are)
CUDA = Dialect("cuda", {
    "np.exp": "exp_", "np.log": "log_", "np.log1p": "log1p_", "np.expm1": "expm1_",
    "np.sqrt": "sqrt_", "np.sin": "math.sin", "np.cos": "math.cos", "np.tanh": "math.tanh",
    "np.floor": "math.floor", "np.ceil": "math.ceil", "np.rint": "rint_", "np.sign": "sign_",
    "np.inf": "math.inf", "np.nan": "math.nan",
}, vectorized=False)

HEADER = ("import math\nimport numpy as np\nfrom numba import cuda\n"
          "from symkeras.codegen.cuda.devmath import exp_, expm1_, log1p_, log_, rint_, sign_, sqrt_\n")


def _load(name: str, ndim: int, rank: int) -> str:
    """Element of input ``name`` (``ndim`` axes) at the broadcast index of a rank-``rank`` result."""
    if ndim == 0:
        return f"{name}[0]"
    index = [f"(k{rank - ndim + a} if {name}.shape[{a}] != 1 else 0)" for a in range(ndim)]
    return f"{name}[{', '.join(index)}]"


def _steps(program, inputs_meta, loads: list[str]) -> tuple[list[str], list[str], list]:
    """Lines computing the program's steps from the ``loads``; the name of each value, and its meta."""
    metas = replay(program, inputs_meta)
    values = list(loads)
    value_dtypes = [m.dtype for m in metas[:len(loads)]]
    lines = []
    for s, (op, refs) in enumerate(program):
        meta = metas[len(loads) + s]
        expr = expression(op, [values[r] for r in refs], [value_dtypes[r] for r in refs], meta.dtype, CUDA)
        lines.append(f"s{s} = {cast(expr, meta.dtype)}")
        values.append(f"s{s}")
        value_dtypes.append(meta.dtype)
    return lines, values, metas


def elementwise_kernel(program, inputs_meta, results: list[int], out_dtypes: list[str], rank: int) -> Kernel:
    """The kernel ``kernel(n, out0.., a0..)`` writing steps ``results`` of ``program`` (indices into its
    steps) into outputs of rank ``rank``; ``inputs_meta``: the inputs' (dtype, shape) stand-ins."""
    outs = [f"out{j}" for j in range(len(results))]
    args = [f"a{i}" for i in range(len(inputs_meta))]
    loads = [_load(a, len(m.shape), rank) for a, m in zip(args, inputs_meta)]
    body = each_thread("n")
    inner = unflatten([f"k{d}" for d in range(rank)], axes_of(outs[0], range(rank)))
    step_lines, values, _ = _steps(program, inputs_meta, [f"v{i}" for i in range(len(args))])
    inner += [f"v{i} = {load}" for i, load in enumerate(loads)] + step_lines
    where = ", ".join(f"k{d}" for d in range(rank)) if rank else "0"
    for out, r, dtype in zip(outs, results, out_dtypes):
        inner.append(f"{out}[{where}] = {cast(values[len(args) + r], dtype)}")
    body += ["    " + line for line in inner]
    return compile_kernel(["n", *outs, *args], body, HEADER)


def _accumulator(kind: str, dtype: str) -> tuple[str, str]:
    """(initial value, accumulator dtype) of a reduction of ``kind`` over ``dtype`` values."""
    wide = "float64" if kind in ("sum", "prod") and dtypes.is_float(dtype) else dtype
    if kind == "sum":
        return lit(0, wide), wide
    if kind == "prod":
        return lit(1, wide), wide
    if kind in ("any", "all"):
        return ("False" if kind == "any" else "True"), "bool"
    big = np.inf if dtypes.is_float(dtype) else (np.iinfo(dtype).max if dtype != "bool" else True)
    if kind == "max":
        big = -big if dtypes.is_float(dtype) else (np.iinfo(dtype).min if dtype != "bool" else False)
    return lit(big, dtype), dtype


def _combine(kind: str, acc: str, value: str) -> str:
    return {"sum": f"{acc} + {value}", "prod": f"{acc} * {value}", "max": maximum_source(acc, value),
            "min": minimum_source(acc, value), "any": f"{acc} or bool({value})",
            "all": f"{acc} and bool({value})"}[kind]


def reduction_kernel(program, inputs_meta, kind: str, axes: tuple, keepdims: bool, rank: int,
                     out_dtype: str) -> Kernel:
    """The kernel ``kernel(n, out, a0..)``: the last step of ``program`` over a rank-``rank`` index space
    (the inputs broadcast), reduced by ``kind`` over ``axes``; the result keeps those axes (size 1) with
    ``keepdims``.  One thread per output element."""
    args = [f"a{i}" for i in range(len(inputs_meta))]
    kept = [d for d in range(rank) if d not in axes]
    arg = kind in ("argmax", "argmin")
    init, wide = ("0", out_dtype) if arg else _accumulator(kind, out_dtype)
    body = each_thread("n")
    inner = []
    # the output's multi-index over the kept axes, from the sizes of the index space (``space``)
    inner += unflatten([f"k{d}" for d in kept], [f"space[{d}]" for d in kept])
    inner.append(f"acc = {init}")
    if arg:
        inner.append(f"best = {lit(0, inputs_meta[0].dtype)}")
    depth = ""
    for d in axes:
        inner.append(f"{depth}for k{d} in range(space[{d}]):")
        depth += "    "
    loads = [_load(a, len(m.shape), rank) for a, m in zip(args, inputs_meta)]
    step_lines, values, _ = _steps(program, inputs_meta, [f"v{i}" for i in range(len(args))])
    inner += [f"{depth}v{i} = {load}" for i, load in enumerate(loads)] + [depth + line for line in step_lines]
    if arg:  # the first extreme along the one axis; the first NaN if there is one (as np.argmax)
        better = ">" if kind == "argmax" else "<"
        (axis,) = axes
        inner += [f"{depth}v = {values[-1]}",
                  f"{depth}if k{axis} == 0 or (best == best and (v {better} best or v != v)):",
                  f"{depth}    best = v", f"{depth}    acc = k{axis}"]
    else:
        inner.append(f"{depth}acc = {cast(_combine(kind, 'acc', cast(values[-1], wide)), wide)}")
    where = [f"k{d}" if d not in axes else "0" for d in range(rank)] if keepdims else [f"k{d}" for d in kept]
    inner.append(f"out[{', '.join(where) or '0'}] = {cast('acc', out_dtype)}")
    body += ["    " + line for line in inner]
    return compile_kernel(["n", "space", "out", *args], body, HEADER)


#: reductions a block computes together (argmax/argmin and any/all stay one thread an output)
BLOCK_KINDS = ("sum", "prod", "max", "min")


def block_reduction_kernel(program, inputs_meta, kind: str, axes: tuple, keepdims: bool, rank: int,
                           out_dtype: str) -> Kernel:
    """Like ``reduction_kernel``, one block an output element: ``kernel(n, count, space, out, a0..)``,
    ``count`` the elements each output reduces.  Each thread accumulates every blockDim-th of them (float
    sums and products in float64), then the block combines the partial results pairwise in shared memory;
    blocks take every gridDim-th output."""
    args = [f"a{i}" for i in range(len(inputs_meta))]
    kept = [d for d in range(rank) if d not in axes]
    init, wide = _accumulator(kind, out_dtype)
    threads = threads_per_block()
    body = [f"partial = cuda.shared.array({threads}, np.{wide})", "t = cuda.threadIdx.x",
            "for o in range(cuda.blockIdx.x, n, cuda.gridDim.x):"]
    inner = unflatten([f"k{d}" for d in kept], [f"space[{d}]" for d in kept], flat="o")
    inner += [f"acc = {init}", "for j in range(t, count, cuda.blockDim.x):"]
    each = unflatten([f"k{d}" for d in axes], [f"space[{d}]" for d in axes], flat="j")
    loads = [_load(a, len(m.shape), rank) for a, m in zip(args, inputs_meta)]
    step_lines, values, _ = _steps(program, inputs_meta, [f"v{i}" for i in range(len(args))])
    each += [f"v{i} = {load}" for i, load in enumerate(loads)] + step_lines
    each.append(f"acc = {cast(_combine(kind, 'acc', cast(values[-1], wide)), wide)}")
    inner += ["    " + line for line in each]
    inner += ["partial[t] = acc", "cuda.syncthreads()", f"half = {threads // 2}", "while half > 0:",
              "    if t < half:",
              f"        partial[t] = {cast(_combine(kind, 'partial[t]', 'partial[t + half]'), wide)}",
              "    cuda.syncthreads()", "    half //= 2"]
    where = [f"k{d}" if d not in axes else "0" for d in range(rank)] if keepdims else [f"k{d}" for d in kept]
    inner += ["if t == 0:", f"    out[{', '.join(where) or '0'}] = {cast('partial[0]', out_dtype)}",
              "cuda.syncthreads()"]  # (before the next output writes partial again)
    body += ["    " + line for line in inner]
    return compile_kernel(["n", "count", "space", "out", *args], body, HEADER)
