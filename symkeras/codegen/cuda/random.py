"""Random draws on the GPU: the counter-based generator of symkeras.graph.ops.random, one thread per
element, so a CUDA function draws exactly the numbers the CPU backends draw for the same seed and call.

The draw's 64-bit key (seed, call number, redraw attempt) is computed on the host; each thread mixes it
with its element index (splitmix64 in uint64 arithmetic, which wraps on the GPU as in NumPy)."""

from __future__ import annotations

import numpy as np

from symkeras.codegen.cuda.compiler import compile_kernel, each_thread, launch_size
from symkeras.graph.ops import random as rnd

HEADER = "import math\nimport numpy as np\nfrom numba import cuda\n"
RANDOM_OPS = (rnd.RandomUniform, rnd.RandomNormal, rnd.RandomBinomial, rnd.TruncatedNormal)


def _mix(var: str) -> list[str]:
    return [f"{var} = ({var} ^ ({var} >> np.uint64(30))) * np.uint64({rnd.MIX1})",
            f"{var} = ({var} ^ ({var} >> np.uint64(27))) * np.uint64({rnd.MIX2})",
            f"{var} = {var} ^ ({var} >> np.uint64(31))"]


def _uniform(var: str, base: str, index: str) -> list[str]:
    return [f"h = {base} + np.uint64({index}) * np.uint64({rnd.GOLDEN})", *_mix("h"),
            f"{var} = np.float64(h >> np.uint64(11)) * {rnd.UNIT!r}"]


def _normal(var: str, base: str, index: str) -> list[str]:
    return [*_uniform("u1", base, f"np.uint64({index}) * np.uint64(2)"),
            *_uniform("u2", base, f"np.uint64({index}) * np.uint64(2) + np.uint64(1)"),
            f"{var} = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)"]


def _kernel(op):
    if isinstance(op, rnd.RandomNormal):
        draw = [*_normal("z", "bases[0]", "i"), f"out[i] = np.{op.dtype}({op.mean!r} + {op.stddev!r} * z)"]
    elif isinstance(op, rnd.RandomUniform):
        draw = [*_uniform("u", "bases[0]", "i"),
                f"out[i] = np.{op.dtype}({op.minval!r} + {op.maxval - op.minval!r} * u)"]
    elif isinstance(op, rnd.RandomBinomial):
        draw = [*_uniform("u", "bases[0]", "i"), f"out[i] = np.{op.dtype}(u < {op.p!r})"]
    else:  # truncated normal: redraws until within two standard deviations, as ops.random does
        draw = [*_normal("z", "bases[0]", "i"), f"for attempt in range(1, {rnd.TRUNCATED_ATTEMPTS}):",
                "    if abs(z) <= 2.0:", "        break",
                *["    " + line for line in _normal("z", "bases[attempt]", "i")],
                "z = min(max(z, -2.0), 2.0)", f"out[i] = np.{op.dtype}({op.mean!r} + {op.stddev!r} * z)"]
    body = each_thread("n") + ["    " + line for line in draw]
    return compile_kernel(["n", "bases", "out"], body, HEADER)


def random_launcher(node, context):
    from symkeras.codegen.cuda.launchers import empty, on_device

    op = node.op
    kernel = _kernel(op)
    attempts = rnd.TRUNCATED_ATTEMPTS if isinstance(op, rnd.TruncatedNormal) else 1

    def run(args):
        shape = op.concrete_shape(args)
        call = context.next_call(node)
        bases = np.array([rnd.stream_base(op.seed, call, a) for a in range(attempts)], dtype=np.uint64)
        flat = empty((int(np.prod(shape, dtype=np.int64)),), op.dtype)
        if flat.size:
            blocks, threads = launch_size(flat.size)
            kernel.function[blocks, threads](flat.size, on_device(bases), flat)
        return [flat.reshape(*shape) if shape else flat.reshape(1).reshape(())]
    return run
