"""Random kernels: the counter-based generator of symkeras.graph.ops.random, element by element."""

from __future__ import annotations

from symkeras.codegen.numba.emitter import kernel
from symkeras.graph.ops import random as rnd

#: module-level helpers (inlined into the step) mirroring the NumPy reference bit for bit
PRELUDE = f'''
@numba.njit
def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64({rnd.MIX1})
    z = (z ^ (z >> np.uint64(27))) * np.uint64({rnd.MIX2})
    return z ^ (z >> np.uint64(31))


@numba.njit
def _stream(seed, call, attempt):
    key = (np.uint64(seed) * np.uint64({rnd.GOLDEN}) + np.uint64(call) * np.uint64({rnd.MIX1})
           + np.uint64(attempt) * np.uint64({rnd.MIX2}))
    return _mix64(key)


@numba.njit
def _uniform(base, i):
    h = _mix64(base + np.uint64(i) * np.uint64({rnd.GOLDEN}))
    return np.float64(h >> np.uint64(11)) * {rnd.UNIT!r}


@numba.njit
def _normal(base, i):
    u1 = _uniform(base, np.uint64(i) * np.uint64(2))
    u2 = _uniform(base, np.uint64(i) * np.uint64(2) + np.uint64(1))
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
'''


@kernel(rnd.Random)
def random(em, node):
    op = node.op
    shape = [em.dim(node.inputs[0], a) if s is None else str(s) for a, s in enumerate(op.shape)]
    slot = em.random_slot(node)
    flat, base = em.fresh("draw"), em.fresh("base")
    total = " * ".join(f"({s})" for s in shape) or "1"
    em.line(f"call = calls[{slot}]")
    em.line(f"calls[{slot}] += 1")
    em.line(f"{base} = _stream({op.seed}, call, 0)")
    em.line(f"{flat} = np.empty({total}, np.{op.dtype})")
    em.open(f"for q in range({total}):")
    if isinstance(op, rnd.RandomNormal):
        em.line(f"{flat}[q] = {op.mean!r} + {op.stddev!r} * _normal({base}, q)")
    elif isinstance(op, rnd.RandomUniform):
        em.line(f"{flat}[q] = {op.minval!r} + {op.maxval - op.minval!r} * _uniform({base}, q)")
    elif isinstance(op, rnd.RandomBinomial):
        em.line(f"{flat}[q] = _uniform({base}, q) < {op.p!r}")
    elif isinstance(op, rnd.TruncatedNormal):
        em.line(f"z = _normal({base}, q)")
        em.open(f"for attempt in range(1, {rnd.TRUNCATED_ATTEMPTS}):")
        em.line("if abs(z) <= 2.0:")
        em.line("    break")
        em.line(f"z = _normal(_stream({op.seed}, call, attempt), q)")
        em.close()
        em.line("z = min(max(z, -2.0), 2.0)")
        em.line(f"{flat}[q] = {op.mean!r} + {op.stddev!r} * z")
    else:
        raise NotImplementedError(f"The Numba backend has no kernel for {op}.")
    em.close()
    em.line(f"{em.name(node.out)} = {flat}.reshape({em.tuple_of(shape)})")
