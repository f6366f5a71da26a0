"""Loop nests for fused elementwise programs, with an optional reduction at the end.

Loops run in the memory order of the (C-contiguous) output; inputs are read
with NumPy broadcasting: a static size-1 axis reads index 0, a size known
only at run time reads through a 0/1 multiplier computed once per call.
"""

from __future__ import annotations

import numpy as np

from symkeras.codegen.numba.emitter import Emitter
from symkeras.codegen.numba.scalar import cast, expression, lit, maximum_source, minimum_source
from symkeras.graph import dtypes
from symkeras.graph.basic import Tensor
from symkeras.graph.ops.fused import _Meta

_INIT = {"sum": 0, "prod": 1, "any": False, "all": True}


def _reduce_init(kind: str, dtype: str):
    if kind == "max":
        return -np.inf if dtypes.is_float(dtype) else (np.iinfo(dtype).min if dtype != "bool" else False)
    if kind == "min":
        return np.inf if dtypes.is_float(dtype) else (np.iinfo(dtype).max if dtype != "bool" else True)
    return _INIT[kind]


def replay(program, inputs: list[Tensor]) -> list[_Meta]:
    metas = [_Meta(t.dtype, t.shape) for t in inputs]
    for op, refs in program:
        metas.append(_Meta(*op.infer([metas[r] for r in refs])))
    return metas


def emit_program(em: Emitter, out: Tensor, inputs: list[Tensor], program, reduce_op=None) -> None:
    """Emit the loops computing ``out`` from ``inputs`` through ``program`` (see ops.Fused).

    ``reduce_op``: None, or the reduction op (its ``reduction`` trait, ``axis``, ``keepdims``) applied last.
    """
    reduce = None if reduce_op is None else (reduce_op.reduction, reduce_op.axis, reduce_op.keepdims)
    metas = replay(program, inputs)
    elem_dtype, elem_shape = metas[-1].dtype, metas[-1].shape
    n = len(elem_shape)

    if reduce is None and is_flat(out, inputs):
        return _emit_flat(em, out, inputs, program, metas)

    # run-time sizes of the loop nest, and the broadcasting checks (one raise: each costs compile time)
    sizes, sole = [], {}
    for d in range(n):
        if elem_shape[d] is not None:
            sizes.append(str(elem_shape[d]))
            continue
        drivers = list(dict.fromkeys(em.dim(t, d - (n - t.ndim)) for t in inputs
                                     if d - (n - t.ndim) >= 0 and t.shape[d - (n - t.ndim)] != 1))
        if len(drivers) == 1:
            sole[d] = drivers[0]  # the loop runs over exactly this size: nothing to check
            sizes.append(drivers[0])
            continue
        var = em.fresh("n")
        em.line(f"{var} = {drivers[0]}")
        for other in drivers[1:]:
            em.line(f"{var} = {var} if {other} == 1 else {other}")
        sizes.append(var)
    loop_vars = [f"i{d}" for d in range(n)]
    loads, mismatches, multipliers = [], [], []
    for t in inputs:
        if _is_scalar_literal(t):
            loads.append(lit(t.value.reshape(()).item(), t.dtype))
            continue
        index = []
        for j in range(t.ndim):
            d = j + n - t.ndim
            if t.shape[j] == 1:
                index.append("0")
            elif t.shape[j] is not None:
                index.append(loop_vars[d])
            elif sole.get(d) == em.dim(t, j):
                index.append(loop_vars[d])
            else:
                size = em.dim(t, j)
                mismatches.append(f"({size} != 1 and {size} != {sizes[d]})")
                mult = em.fresh("m")
                multipliers.append(f"{mult} = 0 if {size} == 1 else 1")
                index.append(f"{loop_vars[d]} * {mult}")
        loads.append(f"{em.name(t)}[{', '.join(index) if index else '()'}]")
    if mismatches:
        em.line(f"if {' or '.join(mismatches)}:")
        em.line(f"    raise ValueError('operands could not be broadcast together in {_label(out)}')")
    for text in multipliers:
        em.line(text)

    target = em.name(out)
    acc_dtype = out.dtype
    if reduce is None:
        alloc = f"np.empty({em.tuple_of(sizes)}, np.{out.dtype})"
        if em.dest is not None:
            alloc = em.dest if em.dest_fits else f"{em.dest} if {em.dest}.shape == {em.tuple_of(sizes)} else {alloc}"
        em.line(f"{target} = {alloc}")
        out_index = loop_vars
    else:
        kind, axes, keepdims = reduce
        out_sizes = [("1" if keepdims else None) if d in axes else s for d, s in enumerate(sizes)]
        out_sizes = [s for s in out_sizes if s is not None]
        out_index = [("0" if keepdims else None) if d in axes else v for d, v in enumerate(loop_vars)]
        out_index = [v for v in out_index if v is not None]
        if kind == "sum" and out.dtype in ("float16", "float32"):
            acc_dtype = "float64"  # accumulate float32 sums in float64
        init = lit(_reduce_init(kind, acc_dtype), acc_dtype)
        em.filled(target, out_sizes, init, f"np.{acc_dtype}")

    # a reduction over the innermost axes accumulates in a local variable (a register, not the output's
    # memory); float sums and products may then be reassociated and vectorized (see linker.REASSOCIATE)
    kept = n - len(reduce[1]) if reduce is not None else n
    local = reduce is not None and reduce[0] in ("sum", "prod", "max", "min") and \
        set(reduce[1]) == set(range(kept, n))
    where = f"{target}[{', '.join(out_index) if out_index else '()'}]"
    for d in range(n):
        if local and d == kept:
            em.line(f"acc = {init}")
        em.open(f"for {loop_vars[d]} in range({sizes[d]}):")
    result = _emit_steps(em, program, loads, inputs, metas)
    if reduce is None:
        em.line(f"{where} = {result}")
    else:
        kind = reduce[0]
        value = cast(result, acc_dtype) if elem_dtype != acc_dtype else result
        into = "acc" if local else where
        if kind == "sum":
            em.line(f"{into} += {value}")
        elif kind == "prod":
            em.line(f"{into} *= {value}")
        elif kind == "max":
            em.line(f"{into} = {maximum_source(into, value)}")
        elif kind == "min":
            em.line(f"{into} = {minimum_source(into, value)}")
        elif kind == "any":
            em.line(f"if {value}:")
            em.line(f"    {where} = True")
        elif kind == "all":
            em.line(f"if not {value}:")
            em.line(f"    {where} = False")
        else:
            raise NotImplementedError(f"reduction {kind}")
        if local and kind in ("sum", "prod") and dtypes.is_float(acc_dtype):
            em.reassociate = True
    if local:
        em.close(n - kept)
        em.line(f"{where} = acc")
        em.close(kept)
    else:
        em.close(n)
    if acc_dtype != out.dtype:  # (a loop: astype costs compile time)
        em.line(f"{target}_acc = {target}")
        em.filled(target, out_sizes, lambda index: cast(f"{target}_acc[{index}]", out.dtype), f"np.{out.dtype}")


def _emit_steps(em: Emitter, program, loads: list[str], inputs: list[Tensor], metas) -> str:
    """One line per program step (``sK = ...``); returns the source of the last value."""
    values = list(loads)
    step_dtypes = [t.dtype for t in inputs]
    for s, (op, refs) in enumerate(program):
        meta = metas[len(inputs) + s]
        expr = expression(op, [values[r] for r in refs], [step_dtypes[r] for r in refs], meta.dtype)
        var = f"s{s}"
        em.line(f"{var} = {cast(expr, meta.dtype)}")
        values.append(var)
        step_dtypes.append(meta.dtype)
    return values[-1]


def _is_scalar_literal(t: Tensor) -> bool:
    return t.kind == "constant" and t.value.size == 1


def is_flat(out: Tensor, inputs: list[Tensor]) -> bool:
    """A static shape that every array input has too: one loop over the elements, sizes read at run time.

    Such a kernel's source does not depend on the shape, so every parameter
    of a model (whatever its shape) shares one optimizer-update kernel.
    """
    if out.ndim == 0 or any(d is None for d in out.shape):
        return False
    full = [t for t in inputs if not _is_scalar_literal(t) and t.ndim > 0]
    return bool(full) and all(t.shape == out.shape for t in full)


def _emit_flat(em: Emitter, out: Tensor, inputs: list[Tensor], program, metas) -> None:
    """One loop over the elements; arrays the step passes as 1-D (``em.flat_args``) are read as they are."""
    loads = []
    full = None
    for t in inputs:
        if _is_scalar_literal(t):
            loads.append(lit(t.value.reshape(()).item(), t.dtype))
        elif t.ndim == 0:
            loads.append(f"{em.name(t)}[()]")
        else:
            flat = em.name(t)
            if not em.flat_args:
                flat = em.fresh("flat")
                em.line(f"{flat} = {em.name(t)}.ravel()")
            loads.append(f"{flat}[i]")
            full = full or em.name(t)
    target = em.name(out)
    fresh = f"np.empty({full}.shape, np.{out.dtype})"
    em.line(f"{target} = {em.dest if em.dest is not None and em.dest_fits else fresh}")
    elements = target
    if not em.flat_args:
        elements = f"{target}_flat"
        em.line(f"{elements} = {target}.reshape(-1)")
    em.open(f"for i in range({elements}.size):")
    result = _emit_steps(em, program, loads, inputs, metas)
    em.line(f"{elements}[i] = {result}")
    em.close()


def _label(out: Tensor) -> str:
    return (out.owner.op.name if out.owner else "input").replace("'", "")
