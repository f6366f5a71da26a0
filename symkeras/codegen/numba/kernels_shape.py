"""Kernels of data-movement ops: views where NumPy gives views, loops otherwise."""

from __future__ import annotations

import math

from symkeras.codegen.numba.emitter import int_max
from symkeras.codegen.numba.registry import kernel
from symkeras.codegen.scalar import lit
from symkeras.graph import ops
from symkeras.graph.ops.shape import _index_tuple


def _view(em, node, expr):
    """``out`` may share memory with an input; its Numba layout is unknown unless the caller sets it."""
    em.line(f"{em.name(node.out)} = {expr}")
    em.aliases.add(node.out)
    em.set_layout(node.out, None)


def _reshape(em, node, x, sizes):
    _view(em, node, f"np.ascontiguousarray({em.name(x)}).reshape({em.tuple_of(sizes)})")
    known = em.layout_of(x)
    if known is not None and not known[1]:
        em.set_layout(node.out, "C")


@kernel(ops.Shape, inline=True)
def shape(em, node):
    (x,) = node.inputs
    out = em.name(node.out)
    em.line(f"{out} = np.empty({x.ndim}, np.int32)")
    for a in range(x.ndim):
        em.line(f"{out}[{a}] = {em.shared_dim(x, a)}")


@kernel(ops.Transpose, inline=True)
def transpose(em, node):
    x = node.inputs[0]
    _view(em, node, em.permute(em.name(x), x.ndim, node.op.perm, x.dtype))
    if x.ndim == 2 and list(node.op.perm) == [1, 0] and em.parent is None:
        em.view_layout(node.out, x, transposed=True)
    elif x.ndim == 2 and list(node.op.perm) == [1, 0]:
        em.set_layout(node.out, "C")  # inside a kernel (a Loop's step) the transpose is a C copy
    elif list(node.op.perm) == list(range(x.ndim)):
        em.view_layout(node.out, x)
    else:
        em.set_layout(node.out, "C")  # a copy


@kernel(ops.Reshape, inline=True)
def reshape(em, node):
    x, *dims = node.inputs
    sizes, dyn = [], iter(dims)
    for s in node.op.shape:
        sizes.append(f"np.int64({em.name(next(dyn))}[()])" if s is None else str(s))
    if -1 in node.op.shape:
        known = " * ".join(s for s in sizes if s != "-1") or "1"
        total = " * ".join(em.dims(x)) or "1"
        fill = em.fresh("n")
        em.line(f"{fill} = ({total}) // {int_max(known, '1')}")
        sizes = [fill if s == "-1" else s for s in sizes]
    _reshape(em, node, x, sizes)


@kernel(ops.ReshapeLike, inline=True)
def reshape_like(em, node):
    g, ref = node.inputs
    _reshape(em, node, g, em.shared_dims(ref))


@kernel(ops.Flatten, inline=True)
def flatten(em, node):
    (x,) = node.inputs
    keep = node.op.ndim - 1
    rest = " * ".join(em.shared_dims(x)[keep:]) or "1"
    _reshape(em, node, x, em.shared_dims(x)[:keep] + [f"({rest})"])


@kernel(ops.ExpandDims, inline=True)
def expand_dims(em, node):
    (x,) = node.inputs
    sizes = em.shared_dims(x)
    sizes.insert(node.op.axis, "1")
    _reshape(em, node, x, sizes)


@kernel(ops.Squeeze, inline=True)
def squeeze(em, node):
    (x,) = node.inputs
    for a in node.op.axis:
        if x.shape[a] is None:
            em.line(f"if {em.dim(x, a)} != 1:")
            em.line("    raise ValueError('cannot squeeze an axis whose size is not 1')")
    _reshape(em, node, x, [d for a, d in enumerate(em.shared_dims(x)) if a not in node.op.axis])


@kernel(ops.Concatenate)
def concatenate(em, node):
    axis, out = node.op.axis, em.name(node.out)
    first = node.inputs[0]
    sizes = em.shared_dims(first)
    sizes[axis] = " + ".join(em.shared_dim(t, axis) for t in node.inputs)
    em.line(f"{out} = np.empty({em.tuple_of(sizes)}, np.{node.out.dtype})")
    offset = "0"
    for t in node.inputs:
        index = [":"] * t.ndim
        index[axis] = f"{offset}:{offset} + {em.shared_dim(t, axis)}"
        view = em.fresh("part")
        em.line(f"{view} = {out}[{', '.join(index)}]")
        em.copy_into(view, em.name(t), t.ndim)
        offset = f"{offset} + {em.shared_dim(t, axis)}"


@kernel(ops.SplitLike, inline=True)
def split_like(em, node):
    g, *refs = node.inputs
    axis, index = node.op.axis, node.op.index
    start = " + ".join(em.dim(r, axis) for r in refs[:index]) or "0"
    stop = f"{start} + {em.dim(refs[index], axis)}"
    idx = [":"] * g.ndim
    idx[axis] = f"{start}:{stop}"
    _view(em, node, f"{em.name(g)}[{', '.join(idx)}]")


def _index_source(spec, em=None, x=None) -> str:
    """NumPy index source of ``spec``.  Given the emitter and the indexed tensor ``x``, a slice's
    bounds on an axis of static size n are written as fractions of the size read at run time
    (``x.shape[1] * 1 // 4`` for 16 of 64), so that the kernel's text holds no width (see
    Emitter.shared_dim): exact for this graph, and for any other whose kernel has the same text."""
    parts = []
    axis = 0
    for item in _index_tuple(spec):
        if item is None:
            parts.append("None")
            continue
        if isinstance(item, slice):
            size = x.shape[axis] if x is not None else None
            bounds = [_bound(em, x, axis, v, size) for v in (item.start, item.stop)]
            parts.append(":".join(bounds + ["" if item.step is None else str(item.step)]))
        else:
            parts.append(str(item))
        axis += 1
    return ", ".join(parts) if parts else "..."


def _bound(em, x, axis: int, value, size) -> str:
    if value is None:
        return ""
    if em is None or size is None or not 0 < value <= size or em.shared_dim(x, axis) == str(size):
        return str(value)
    if value == size:
        return em.shared_dim(x, axis)
    common = math.gcd(value, size)
    if size // common > MAX_PARTS:
        return str(value)  # not a share of the width (the first feature, say): a literal holds no width
    return f"{em.shared_dim(x, axis)} * {value // common} // {size // common}"


#: a slice bound that cuts an axis into at most this many equal parts (an LSTM's four gates, a GRU's three,
#: halves) is written as that share of the run-time size
MAX_PARTS = 8


@kernel(ops.Subtensor, inline=True)
def subtensor(em, node):
    (x,) = node.inputs
    if node.out.ndim == 0:
        em.line(f"{em.name(node.out)} = np.empty((), np.{node.out.dtype})")
        em.line(f"{em.name(node.out)}[()] = {em.name(x)}[{_index_source(node.op.spec)}]")
        return
    _view(em, node, f"{em.name(x)}[{_index_source(node.op.spec, em, x)}]")
    layout = _subtensor_layout(node.op.spec, em.layout_of(x))
    if layout is not None:
        em.set_layout(node.out, *layout)


def _subtensor_layout(spec, parent):
    """The (layout, read-only) Numba gives a basic index of an array of ``parent`` (layout, read-only), as
    its typing rules do: a C array stays C when every index but the last is an integer and the last is an
    integer or a slice without a step; None where not foreseen (newaxis, F arrays).  Known layouts let the
    step call the kernels that read the view through their addresses (no compile inside the step)."""
    if parent is None or any(entry[0] == "n" for entry in spec):
        return None
    layout, readonly = parent
    if layout == "A":
        return "A", readonly
    if layout != "C":
        return None
    if not spec:
        return "C", readonly
    *outer, last = spec
    contiguous = all(entry[0] == "i" for entry in outer) and (last[0] == "i" or last[3] is None)
    return ("C" if contiguous else "A"), readonly


@kernel(ops.SubtensorGrad)
def subtensor_grad(em, node):
    g, ref = node.inputs
    out = em.name(node.out)
    em.filled(out, em.shared_dims(ref), "0", f"np.{node.out.dtype}")
    if g.ndim == 0:
        em.line(f"{out}[{_index_source(node.op.spec, em, ref)}] = {em.name(g)}[()]")
        return
    view = em.fresh("region")
    em.line(f"{view} = {out}[{_index_source(node.op.spec, em, ref)}]")
    em.copy_into(view, em.name(g), g.ndim)


@kernel(ops.Pad)
def pad(em, node):
    (x,) = node.inputs
    out = em.name(node.out)
    sizes = [f"{d} + {a + b}" for d, (a, b) in zip(em.dims(x), node.op.pads)]
    em.filled(out, sizes, lit(node.op.value, x.dtype), f"np.{x.dtype}")
    index = ", ".join(f"{a}:{a} + {d}" for d, (a, _) in zip(em.dims(x), node.op.pads))
    view = em.fresh("inner")
    em.line(f"{view} = {out}[{index}]")
    em.copy_into(view, em.name(x), x.ndim)


def _nest(em, sizes):
    loop = [f"i{d}" for d in range(len(sizes))]
    for v, s in zip(loop, sizes):
        em.open(f"for {v} in range({s}):")
    return loop


@kernel(ops.Tile)
def tile(em, node):
    (x,) = node.inputs
    out = em.name(node.out)
    src = em.dims(x)
    sizes = [f"{d} * {r}" for d, r in zip(src, node.op.reps)]
    em.line(f"{out} = np.empty({em.tuple_of(sizes)}, np.{x.dtype})")
    loop = _nest(em, sizes)
    index = ", ".join(f"{v} % {d}" for v, d in zip(loop, src))
    em.line(f"{out}[{', '.join(loop) or '()'}] = {em.name(x)}[{index or '()'}]")
    em.close(len(loop))


@kernel(ops.TileGrad)
def tile_grad(em, node):
    (g,) = node.inputs
    out = em.name(node.out)
    sizes = [f"({d}) // {r}" for d, r in zip(em.dims(g), node.op.reps)]
    em.filled(out, sizes, "0", f"np.{g.dtype}")
    loop = _nest(em, em.dims(g))
    index = ", ".join(f"{v} % ({s})" for v, s in zip(loop, sizes))
    em.line(f"{out}[{index or '()'}] += {em.name(g)}[{', '.join(loop) or '()'}]")
    em.close(len(loop))


@kernel(ops.RepeatElements)
def repeat_elements(em, node):
    (x,) = node.inputs
    out, axis, rep = em.name(node.out), node.op.axis, node.op.rep
    sizes = em.dims(x)
    sizes[axis] = f"{sizes[axis]} * {rep}"
    em.line(f"{out} = np.empty({em.tuple_of(sizes)}, np.{x.dtype})")
    loop = _nest(em, sizes)
    src = [f"{v} // {rep}" if d == axis else v for d, v in enumerate(loop)]
    em.line(f"{out}[{', '.join(loop)}] = {em.name(x)}[{', '.join(src)}]")
    em.close(len(loop))


@kernel(ops.RepeatGrad)
def repeat_grad(em, node):
    (g,) = node.inputs
    out, axis, rep = em.name(node.out), node.op.axis, node.op.rep
    sizes = em.dims(g)
    target = list(sizes)
    target[axis] = f"({sizes[axis]}) // {rep}"
    em.filled(out, target, "0", f"np.{g.dtype}")
    loop = _nest(em, sizes)
    dst = [f"{v} // {rep}" if d == axis else v for d, v in enumerate(loop)]
    em.line(f"{out}[{', '.join(dst)}] += {em.name(g)}[{', '.join(loop)}]")
    em.close(len(loop))
