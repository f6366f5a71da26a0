"""Loop nests for fused elementwise programs, with an optional reduction at the end.

Loops run in the memory order of the (C-contiguous) output; inputs are read
with NumPy broadcasting: a static size-1 axis reads index 0, a size known
only at run time reads through a 0/1 multiplier computed once per call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symkeras.codegen.numba import threads
from symkeras.codegen.numba.emitter import Emitter
from symkeras.codegen.scalar import cast, expression, lit, maximum_source, minimum_source, replay
from symkeras.graph import dtypes
from symkeras.graph.basic import Tensor
from symkeras.graph.rewrite.dims import same_size

_INIT = {"sum": 0, "prod": 1, "any": False, "all": True}


def _reduce_init(kind: str, dtype: str):
    if kind == "max":
        return -np.inf if dtypes.is_float(dtype) else (np.iinfo(dtype).min if dtype != "bool" else False)
    if kind == "min":
        return np.inf if dtypes.is_float(dtype) else (np.iinfo(dtype).max if dtype != "bool" else True)
    return _INIT[kind]



def emit_program(em: Emitter, out: Tensor, inputs: list[Tensor], program, reduce_op=None) -> None:
    """Emit the loops computing ``out`` from ``inputs`` through ``program`` (see ops.Fused).

    ``reduce_op``: None, or the reduction op (its ``reduction`` trait, ``axis``, ``keepdims``) applied last.
    Steps: the loop sizes, the input loads (with the broadcasting checks), the result's buffer, the loop
    nest with the program and its accumulation, the final cast.
    """
    reduce = None if reduce_op is None else (reduce_op.reduction, reduce_op.axis, reduce_op.keepdims)
    metas = replay(program, inputs)
    if reduce is None and is_flat(out, inputs):
        return _emit_flat(em, out, inputs, program, metas)
    n = len(metas[-1].shape)
    sizes, sole = _loop_sizes(em, inputs, metas[-1].shape)
    loop_vars = [f"i{d}" for d in range(n)]
    loads, rows = _loads(em, out, inputs, sizes, sole, loop_vars)
    buffer = _result_buffer(em, out, sizes, loop_vars, reduce)
    # a reduction over the innermost axes accumulates in a local variable (a register, not the output's
    # memory); float sums and products may then be reassociated and vectorized (see linker.KERNEL_JIT_...)
    kept = n - len(reduce[1]) if reduce is not None else n
    local = reduce is not None and reduce[0] in ("sum", "prod", "max", "min") and \
        set(reduce[1]) == set(range(kept, n))
    split = _splits(metas[-1].shape) and (reduce is None or _splits_sum(reduce, local))
    where = buffer.where
    if split and reduce is not None:
        where = _open_partial_sums(em, out, buffer, sizes[0], loop_vars[0])
    for d in range(n):
        if local and d == kept:
            em.line(f"acc = {buffer.init}")
        if split and reduce is not None and d == 0:
            continue  # opened with the parts
        loop = "numba.prange" if split and d == 0 else "range"
        if d == n - 1:
            for line in rows:
                em.line(line)
        em.open(f"for {loop_vars[d]} in {loop}({sizes[d]}):")
    em.target.parallel = em.target.parallel or split
    result = emit_steps(em, program, loads, inputs, metas)
    if reduce is None:
        em.line(f"{where} = {result}")
    else:
        value = cast(result, buffer.acc_dtype) if metas[-1].dtype != buffer.acc_dtype else result
        _accumulate(em, reduce[0], "acc" if local else where, where, value)
        if local and reduce[0] in ("sum", "prod") and dtypes.is_float(buffer.acc_dtype):
            em.target.reassociate = True
    if local:
        em.close(n - kept)
        em.line(f"{buffer.where} = acc")
        em.close(kept)
    else:
        em.close(n + (1 if split and reduce is not None else 0))
    if split and reduce is not None:
        _add_partial_sums(em, out, buffer)
    if buffer.acc_dtype != out.dtype:  # (a loop: astype costs compile time)
        target = em.name(out)
        em.line(f"{target}_acc = {target}")
        em.filled(target, buffer.sizes, lambda index: cast(f"{target}_acc[{index}]", out.dtype), f"np.{out.dtype}")


#: a loop nest over a batch whose samples have at least this many elements each shares its samples out over
#: Numba's threads (when threads.parts() > 1); smaller ones would pay more for the hand-over than they save
SPLIT_ELEMENTS = 1 << 13


def _splits_sum(reduce, local: bool) -> bool:
    """Whether a reduction's batch axis may be shared out: a sum over it (a bias's gradient, say) into an
    output element per kept position (each part then sums its samples into partial sums of its own)."""
    kind, axes, _ = reduce
    return kind == "sum" and 0 in axes and not local and threads.parts() > 1


def _open_partial_sums(em: Emitter, out: Tensor, buffer: _Buffer, batch: str, sample: str) -> str:
    """Open the parallel loop over parts, each summing samples ``t, t + parts, ...`` into its own partial
    sums; returns the source of the element a step adds to."""
    parts = threads.parts()
    partial = f"{em.name(out)}_parts"
    em.filled(partial, [str(parts), *buffer.sizes], buffer.init, f"np.{buffer.acc_dtype}")
    em.open(f"for t in numba.prange({parts}):")
    em.open(f"for {sample} in range(t, {batch}, {parts}):")
    return f"{partial}[t, {buffer.index}]" if buffer.index else f"{partial}[t]"


def _add_partial_sums(em: Emitter, out: Tensor, buffer: _Buffer) -> None:
    partial = f"{em.name(out)}_parts"

    def total(index: str) -> str:
        at = "" if index == "()" else f", {index}"
        return " + ".join(f"{partial}[{t}{at}]" for t in range(threads.parts()))

    em.filled(em.name(out), buffer.sizes, total, f"np.{buffer.acc_dtype}")


def _splits(shape) -> bool:
    """Whether the nest producing ``shape`` runs its batch axis in parallel: a run-time batch of samples
    of static size >= SPLIT_ELEMENTS."""
    return len(shape) > 1 and shape[0] is None and None not in shape[1:] and \
        int(np.prod(shape[1:])) >= SPLIT_ELEMENTS


def _loop_sizes(em: Emitter, inputs: list[Tensor], shape) -> tuple[list[str], dict]:
    """The source of each loop's extent, and the axes whose extent is exactly one input's size (``sole``).

    A size known only at run time is the largest of the inputs' sizes there (NumPy broadcasting).
    """
    n = len(shape)
    sizes, sole = [], {}
    for d in range(n):
        if shape[d] is not None:
            sizes.append(_width(em, inputs, n, d, shape[d]) or str(shape[d]))
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
    return sizes, sole


#: a nest reads a static extent from an input's shape (so that layers of different widths share their
#: elementwise kernels, bias gradients and reductions: memory per distinct model, Numba never frees code)
#: on every outer axis, and on the innermost axis when the extent is at least this large: the inner loop
#: vectorizes with its count read at run time as well as with a literal one (B1, B2, B4, B5 unchanged in
#: alternating runs), but a small literal count lets LLVM unroll it
SHARED_WIDTH = 16


def _width(em: Emitter, inputs: list[Tensor], n: int, d: int, size: int) -> str | None:
    """The source reading the static extent ``size`` of axis ``d`` of an ``n``-D nest from an input that has
    it, or None (a literal then)."""
    if size <= 1 or (d == n - 1 and size < SHARED_WIDTH):
        return None
    for t in inputs:
        j = d - (n - t.ndim)
        if j >= 0 and t.shape[j] == size and not _is_scalar_literal(t):
            return f"{em.name(t)}.shape[{j}]"
    return None


def _loads(em: Emitter, out: Tensor, inputs: list[Tensor], sizes, sole, loop_vars) -> tuple[list[str], list[str]]:
    """The source reading each input's element in the loop nest, and the lines to run before the innermost
    loop (rows of strided inputs); emits the broadcasting check (one raise: each costs compile time) and the
    0/1 multipliers of sizes that may be 1 at run time."""
    n = len(loop_vars)
    loads, mismatches, multipliers = [], [], []
    rows = []
    for t in inputs:
        if _is_scalar_literal(t):
            loads.append(lit(t.value.reshape(()).item(), t.dtype))
            continue
        index = []
        for j in range(t.ndim):
            d = j + n - t.ndim
            if t.shape[j] == 1:
                index.append("0")
            elif t.shape[j] is not None or sole.get(d) == em.dim(t, j):
                index.append(loop_vars[d])
            else:
                size = em.dim(t, j)
                mismatches.append(f"({size} != 1 and {size} != {sizes[d]})")
                mult = em.fresh("m")
                multipliers.append(f"{mult} = 0 if {size} == 1 else 1")
                index.append(f"{loop_vars[d]} * {mult}")
        layout = em.layout_of(t)
        if n >= 2 and t.ndim >= 2 and index[-1] == loop_vars[-1] and layout is not None and layout[0] == "A":
            # a strided view (a column block, say): its rows are read as contiguous arrays (no copy when
            # they are), so that LLVM vectorizes the inner loop, which a run-time stride prevents (an F array's
            # rows are not contiguous: it is read as it is)
            row = em.fresh("row")
            rows.append(f"{row} = np.ascontiguousarray({em.name(t)}[{', '.join(index[:-1])}])")
            loads.append(f"{row}[{index[-1]}]")
            continue
        loads.append(f"{em.name(t)}[{', '.join(index) if index else '()'}]")
    if mismatches:
        em.line(f"if {' or '.join(mismatches)}:")
        em.line(f"    raise ValueError('operands could not be broadcast together in {_label(out)}')")
    for text in multipliers:
        em.line(text)
    return loads, rows


@dataclass
class _Buffer:
    """Where the loop nest writes: the element source, the buffer's sizes, and a reduction's accumulator."""

    where: str
    sizes: list[str]
    acc_dtype: str
    init: str | None = None
    #: the index of ``where`` ("" when the result is 0-d)
    index: str = ""


def _result_buffer(em: Emitter, out: Tensor, sizes, loop_vars, reduce) -> _Buffer:
    """Allocate the result (or reuse the planned buffer); a reduction's is filled with its initial value."""
    target = em.name(out)
    if reduce is None:
        alloc = f"np.empty({em.tuple_of(sizes)}, np.{out.dtype})"
        dest = em.target.dest
        if dest is not None:
            alloc = dest if em.target.dest_fits else f"{dest} if {dest}.shape == {em.tuple_of(sizes)} else {alloc}"
        em.line(f"{target} = {alloc}")
        return _Buffer(f"{target}[{', '.join(loop_vars) or '()'}]", list(sizes), out.dtype)
    kind, axes, keepdims = reduce
    out_sizes = ["1" if d in axes else s for d, s in enumerate(sizes) if d not in axes or keepdims]
    out_index = ["0" if d in axes else v for d, v in enumerate(loop_vars) if d not in axes or keepdims]
    acc_dtype = "float64" if kind == "sum" and out.dtype in ("float16", "float32") else out.dtype
    init = lit(_reduce_init(kind, acc_dtype), acc_dtype)
    em.filled(target, out_sizes, init, f"np.{acc_dtype}")
    return _Buffer(f"{target}[{', '.join(out_index) or '()'}]", out_sizes, acc_dtype, init, ", ".join(out_index))


def _accumulate(em: Emitter, kind: str, into: str, where: str, value: str) -> None:
    """One element's contribution to a reduction (``into``: the accumulator, ``where``: the output element)."""
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


def emit_steps(em: Emitter, program, loads: list[str], inputs: list[Tensor], metas, prefix: str = "s") -> str:
    """One line per program step (``sK = ...``, ``prefix`` for ``s``); returns the source of the last value."""
    values = list(loads)
    step_dtypes = [t.dtype for t in inputs]
    for s, (op, refs) in enumerate(program):
        meta = metas[len(inputs) + s]
        expr = expression(op, [values[r] for r in refs], [step_dtypes[r] for r in refs], meta.dtype)
        var = f"{prefix}{s}"
        em.line(f"{var} = {cast(expr, meta.dtype)}")
        values.append(var)
        step_dtypes.append(meta.dtype)
    return values[-1]


def _is_scalar_literal(t: Tensor) -> bool:
    return t.kind == "constant" and t.value.size == 1


def is_flat(out: Tensor, inputs: list[Tensor]) -> bool:
    """Every array input has the output's shape: one loop over the elements, sizes read at run time.

    Such a kernel's source does not depend on the shape, so every parameter
    of a model (whatever its shape) shares one optimizer-update kernel, and
    every layer one kernel of each activation and its gradient.  A size known
    only at run time (the batch) must provably be the output's in every input
    (graph.rewrite.dims): NumPy would broadcast one of size 1.
    """
    if out.ndim == 0:
        return False
    full = [t for t in inputs if not _is_scalar_literal(t) and t.ndim > 0]
    if not full or any(t.shape != out.shape for t in full):
        return False
    memo: dict = {}
    return all(same_size(t, axis, out, axis, memo) for t in full for axis, d in enumerate(out.shape) if d is None)


def _flat_loads(em: Emitter, inputs: list[Tensor]) -> tuple[list[str], str | None]:
    """The source reading each input at element ``i`` of a flat loop (a scalar once, before it), and the
    name of the first array input."""
    loads = []
    full = None
    for t in inputs:
        scalar = _scalar_load(em, t)
        if scalar is not None:
            loads.append(scalar)
        else:
            flat = em.name(t)
            if not em.target.flat_args:
                flat = em.fresh("flat")
                em.line(f"{flat} = {em.name(t)}.ravel()")
            loads.append(f"{flat}[i]")
            full = full or em.name(t)
    return loads, full


def _scalar_load(em: Emitter, t: Tensor) -> str | None:
    """The source of a scalar input's value (a literal, or a 0-d array read once, before the loop), or None
    for an array."""
    if _is_scalar_literal(t):
        return lit(t.value.reshape(()).item(), t.dtype)
    if t.ndim == 0:
        scalar = em.fresh("scalar")
        em.line(f"{scalar} = {em.name(t)}[()]")
        return scalar
    return None


def _group_targets(em: Emitter, outputs: list[Tensor], like: str) -> list[str]:
    """A group's results: the buffers ``em.target.dests`` gives, or new arrays in the shape of ``like``."""
    targets = []
    for k, out in enumerate(outputs):
        target = em.name(out)
        dest = em.target.dests[k] if k < len(em.target.dests) else None
        em.line(f"{target} = {dest if dest is not None else f'np.empty({like}.shape, np.{out.dtype})'}")
        targets.append(target)
    return targets


def _emit_flat(em: Emitter, out: Tensor, inputs: list[Tensor], program, metas) -> None:
    """One loop over the elements; arrays the step passes as 1-D (``em.target.flat_args``) are read as they are.

    A batch whose samples are large (``_splits``) runs its elements in parallel, in contiguous shares.
    """
    loads, full = _flat_loads(em, inputs)
    target = em.name(out)
    # (a 1-D shape written as a tuple: the launcher's rewrite reads the allocation's rank from it)
    shape = f"({full}.shape[0],)" if em.target.flat_args else f"{full}.shape"
    fresh = f"np.empty({shape}, np.{out.dtype})"
    dest = em.target.dest
    if dest is not None and em.target.dest_fits:
        em.line(f"{target} = {dest}")
    elif dest is not None:  # a buffer of the output's static shape: its run-time size decides
        em.line(f"{target} = {dest} if {dest}.shape == {full}.shape else {fresh}")
    else:
        em.line(f"{target} = {fresh}")
    elements = target
    if not em.target.flat_args:
        elements = f"{target}_flat"
        em.line(f"{elements} = {target}.reshape(-1)")
    split = _splits(out.shape)
    em.target.parallel = em.target.parallel or split
    em.open(f"for i in {'numba.prange' if split else 'range'}({elements}.size):")
    result = emit_steps(em, program, loads, inputs, metas)
    em.line(f"{elements}[i] = {result}")
    em.close()


def emit_flat_group(em: Emitter, outputs: list[Tensor], inputs: list[Tensor], program, results) -> None:
    """One loop over the elements computing ``program`` and writing each of its ``results`` steps (a
    FusedGroup): every output has the inputs' static shape; ``em.target.dests`` names the buffers given."""
    metas = replay(program, inputs)
    if _by_rows(em, inputs):
        return _emit_group_rows(em, outputs, inputs, program, results, metas)
    loads, full = _flat_loads(em, inputs)
    elements = []
    for target in _group_targets(em, outputs, full):
        if em.target.flat_args:
            elements.append(target)
        else:
            elements.append(f"{target}_flat")
            em.line(f"{target}_flat = {target}.reshape(-1)")
    em.open(f"for i in range({elements[0]}.size):")
    emit_steps(em, program, loads, inputs, metas)  # step k's value is ``s{k}``
    for element, step in zip(elements, results):
        em.line(f"{element}[i] = s{step}")
    em.close()


def _by_rows(em: Emitter, inputs: list[Tensor]) -> bool:
    """Whether a group's inputs are matrices passed as they are, one of them a strided view (a column block
    of a Loop step's gates): raveling it would copy it, its rows are contiguous."""
    arrays = [t for t in inputs if not _is_scalar_literal(t) and t.ndim > 0]
    layouts = [em.layout_of(t) for t in arrays]
    return not em.target.flat_args and bool(arrays) and all(t.ndim == 2 for t in arrays) and \
        all(layout is not None and layout[0] in "CA" for layout in layouts) and \
        any(layout[0] == "A" for layout in layouts)


def _emit_group_rows(em: Emitter, outputs: list[Tensor], inputs: list[Tensor], program, results, metas) -> None:
    """emit_flat_group over the rows of matrices: each row read as a contiguous array (no copy when it is,
    so LLVM vectorizes the inner loop), the results written row by row."""
    first = next(t for t in inputs if not _is_scalar_literal(t) and t.ndim > 0)
    targets = _group_targets(em, outputs, em.name(first))
    loads = [_scalar_load(em, t) for t in inputs]
    em.open(f"for r in range({targets[0]}.shape[0]):")
    for k, t in enumerate(inputs):
        if loads[k] is None:
            row = em.fresh("row")
            em.line(f"{row} = np.ascontiguousarray({em.name(t)}[r])")
            loads[k] = f"{row}[i]"
    em.open(f"for i in range({targets[0]}.shape[1]):")
    emit_steps(em, program, loads, inputs, metas)
    for target, step in zip(targets, results):
        em.line(f"{target}[r, i] = s{step}")
    em.close(2)


def _label(out: Tensor) -> str:
    return (out.owner.op.name if out.owner else "input").replace("'", "")
