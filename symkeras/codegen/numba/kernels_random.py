"""Random kernels: the counter-based generator of symkeras.graph.ops.random, element by element."""

from __future__ import annotations

from symkeras.codegen.numba.emitter import c_reshape
from symkeras.codegen.numba.registry import kernel
from symkeras.graph.ops import random as rnd

# The generator is written out inline (helper functions would cost a Numba compile each).


def _mix(em, var: str) -> None:
    em.line(f"{var} = ({var} ^ ({var} >> np.uint64(30))) * np.uint64({rnd.MIX1})")
    em.line(f"{var} = ({var} ^ ({var} >> np.uint64(27))) * np.uint64({rnd.MIX2})")
    em.line(f"{var} = {var} ^ ({var} >> np.uint64(31))")


def _stream(em, var: str, seed: str, attempt: str) -> None:
    """``var`` = the base key of draw ``call`` of the node with ``seed`` (see ops.random.stream_base)."""
    em.line(f"{var} = (np.uint64({seed}) * np.uint64({rnd.GOLDEN}) + np.uint64(call) * np.uint64({rnd.MIX1})"
            f" + np.uint64({attempt}) * np.uint64({rnd.MIX2}))")
    _mix(em, var)


def _uniform(em, var: str, base: str, index: str) -> None:
    em.line(f"h = {base} + np.uint64({index}) * np.uint64({rnd.GOLDEN})")
    _mix(em, "h")
    em.line(f"{var} = np.float64(h >> np.uint64(11)) * {rnd.UNIT!r}")


def _normal(em, var: str, base: str, index: str) -> None:
    """Box-Muller over the uniform pair (2i, 2i + 1), as ops.random.normals."""
    _uniform(em, "u1", base, f"np.uint64({index}) * np.uint64(2)")
    _uniform(em, "u2", base, f"np.uint64({index}) * np.uint64(2) + np.uint64(1)")
    em.line(f"{var} = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)")


@kernel(rnd.Random)
def random(em, node):
    op = node.op
    shape = [em.dim(node.inputs[0], a) if s is None else str(s) for a, s in enumerate(op.shape)]
    key = em.random_key(node)
    flat, base = em.fresh("draw"), em.fresh("base")
    total = " * ".join(f"({s})" for s in shape) or "1"
    em.line(f"call = {key}[0]")
    em.line(f"{key}[0] += 1")
    _stream(em, base, f"{key}[1]", "0")
    em.line(f"{flat} = np.empty({total}, np.{op.dtype})")
    em.open(f"for q in range({total}):")
    if isinstance(op, rnd.RandomNormal):
        _normal(em, "z", base, "q")
        em.line(f"{flat}[q] = {op.mean!r} + {op.stddev!r} * z")
    elif isinstance(op, rnd.RandomUniform):
        _uniform(em, "u", base, "q")
        em.line(f"{flat}[q] = {op.minval!r} + {op.maxval - op.minval!r} * u")
    elif isinstance(op, rnd.RandomBinomial):
        _uniform(em, "u", base, "q")
        em.line(f"{flat}[q] = u < {op.p!r}")
    elif isinstance(op, rnd.TruncatedNormal):
        _normal(em, "z", base, "q")
        em.open(f"for attempt in range(1, {rnd.TRUNCATED_ATTEMPTS}):")
        em.line("if abs(z) <= 2.0:")
        em.line("    break")
        _stream(em, "retry", f"{key}[1]", "attempt")
        _normal(em, "z", "retry", "q")
        em.close()
        em.line("z = min(max(z, -2.0), 2.0)")
        em.line(f"{flat}[q] = {op.mean!r} + {op.stddev!r} * z")
    else:
        raise NotImplementedError(f"The Numba backend has no kernel for {op}.")
    em.close()
    em.line(f"{em.name(node.out)} = {c_reshape(flat, em.tuple_of(shape))}")
