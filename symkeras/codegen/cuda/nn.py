"""Softmax and log-softmax on the GPU: one thread per row along the op's axis (its maximum, the sum of the
shifted exponentials in float64, then the row's results), as the reference computes them."""

from __future__ import annotations

import numpy as np

from symkeras.codegen.cuda.compiler import axes_of, compile_kernel, each_thread, launch_size, unflatten
from symkeras.graph import ops

HEADER = "import math\nimport numpy as np\nfrom numba import cuda\n"


def _kernel(rank: int, axis: int, dtype: str, log: bool):
    others = [d for d in range(rank) if d != axis]
    body = each_thread("rows")
    inner = unflatten([f"k{d}" for d in others], axes_of("x", others))
    at = ", ".join("j" if d == axis else f"k{d}" for d in range(rank))
    inner += [
        f"top = x[{at.replace('j', '0')}]",
        f"for j in range(1, x.shape[{axis}]):",
        f"    v = x[{at}]",
        "    if v > top or v != v:",
        "        top = v",
        "total = 0.0",
        f"for j in range(x.shape[{axis}]):",
        f"    total += math.exp(np.float64(x[{at}]) - np.float64(top))",
    ]
    if log:
        inner += ["shift = math.log(total)", f"for j in range(x.shape[{axis}]):",
                  f"    out[{at}] = np.{dtype}(np.float64(x[{at}]) - np.float64(top) - shift)"]
    else:
        inner += [f"for j in range(x.shape[{axis}]):",
                  f"    out[{at}] = np.{dtype}(math.exp(np.float64(x[{at}]) - np.float64(top)) / total)"]
    body += ["    " + line for line in inner]
    return compile_kernel(["rows", "x", "out"], body, HEADER)


def softmax_launcher(node, context):
    from symkeras.codegen.cuda.launchers import empty, on_device

    x = node.inputs[0]
    axis = node.op.axis % x.ndim
    kernel = _kernel(x.ndim, axis, node.out.dtype, isinstance(node.op, ops.LogSoftmax))

    def run(args):
        value = on_device(args[0])
        out = empty(value.shape, node.out.dtype)
        rows = int(np.prod([s for d, s in enumerate(value.shape) if d != axis], dtype=np.int64))
        if rows and value.shape[axis]:
            blocks, threads = launch_size(rows)
            kernel.function[blocks, threads](rows, value, out)
        return [out]
    return run
