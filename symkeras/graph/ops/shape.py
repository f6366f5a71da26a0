"""Ops that move data without arithmetic: transpose, reshape, indexing, concat, tile, pad."""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor, as_tensor
from symkeras.graph.ops.broadcast import zeros_like


class Shape(Op):
    """The run-time shape of a tensor as an int32 vector (K.shape)."""

    nin = 1
    differentiable = False

    def infer(self, inputs):
        return "int32", (inputs[0].ndim,)

    def perform(self, inputs, rng=None):
        return np.array(inputs[0].shape, dtype="int32")


class Transpose(Op):
    view_of = 0
    __props__ = ("perm",)
    nin = 1

    def __init__(self, perm):
        self.perm = tuple(int(p) for p in perm)

    def infer(self, inputs):
        (x,) = inputs
        if sorted(self.perm) != list(range(x.ndim)):
            raise ValueError(f"permutation {self.perm} does not fit a tensor of shape {shapes.fmt(x.shape)}.")
        return x.dtype, tuple(x.shape[p] for p in self.perm)

    def perform(self, inputs, rng=None):
        return np.transpose(inputs[0], self.perm)

    def grad(self, inputs, out, gz):
        return [Transpose(tuple(np.argsort(self.perm)))(gz)]


class Reshape(Op):
    """Reshape to ``shape``: ints, at most one -1, and None for a size given as an extra scalar input."""

    view_of = 0
    __props__ = ("shape",)

    def __init__(self, shape):
        self.shape = tuple(None if s is None else int(s) for s in shape)

    def infer(self, inputs):
        x, *dims = inputs
        if sum(s is None for s in self.shape) != len(dims):
            raise ValueError(f"Reshape{self.shape} needs one scalar input per None, got {len(dims)}.")
        if sum(s == -1 for s in self.shape) > 1:
            raise ValueError(f"Cannot reshape to {self.shape}: only one dimension may be -1.")
        for d in dims:
            if d.ndim != 0 or not dtypes.is_int(d.dtype):
                raise TypeError(f"Reshape sizes must be integer scalars; got {d!r}.")
        total = shapes.size(x.shape)
        known = [s for s in self.shape if s is not None and s != -1]
        if -1 in self.shape:
            rest = shapes.size(known)
            fill = None
            if total is not None and None not in self.shape:
                if rest == 0 or total % rest:
                    raise ValueError(f"Cannot reshape a tensor of shape {shapes.fmt(x.shape)} to {self.shape}.")
                fill = total // rest
            out = tuple(fill if s == -1 else s for s in self.shape)
        else:
            out = self.shape
            if total is not None and None not in out and shapes.size(out) != total:
                raise ValueError(f"Cannot reshape a tensor of shape {shapes.fmt(x.shape)} to {self.shape}.")
        return x.dtype, out

    def perform(self, inputs, rng=None):
        x, *dims = inputs
        dims = iter(dims)
        target = tuple(int(next(dims)) if s is None else s for s in self.shape)
        try:
            return x.reshape(target)
        except ValueError as exc:
            raise ValueError(f"Cannot reshape an array of shape {x.shape} to {target}.") from exc

    def grad(self, inputs, out, gz):
        return [reshape_like(gz, inputs[0])] + [None] * (len(inputs) - 1)


class ReshapeLike(Op):
    """Reshape ``g`` to the run-time shape of ``ref`` (same number of elements)."""

    view_of = 0
    shape_from = 1
    nin = 2

    def infer(self, inputs):
        g, ref = inputs
        return g.dtype, ref.shape

    def perform(self, inputs, rng=None):
        g, ref = inputs
        return g.reshape(ref.shape)

    def grad(self, inputs, out, gz):
        return [reshape_like(gz, inputs[0]), None]


class Flatten(Op):
    """Keep the first ``ndim - 1`` axes and collapse the rest (Theano's flatten)."""

    view_of = 0
    __props__ = ("ndim",)
    nin = 1

    def __init__(self, ndim=1):
        self.ndim = int(ndim)

    def infer(self, inputs):
        (x,) = inputs
        if not 1 <= self.ndim <= max(x.ndim, 1):
            raise ValueError(f"Cannot flatten a rank-{x.ndim} tensor to rank {self.ndim}.")
        keep = x.shape[: self.ndim - 1]
        return x.dtype, keep + (shapes.size(x.shape[self.ndim - 1:]),)

    def perform(self, inputs, rng=None):
        (x,) = inputs
        return x.reshape(x.shape[: self.ndim - 1] + (-1,))

    def grad(self, inputs, out, gz):
        return [reshape_like(gz, inputs[0])]


class ExpandDims(Op):
    view_of = 0
    __props__ = ("axis",)
    nin = 1

    def __init__(self, axis):
        self.axis = int(axis)

    def infer(self, inputs):
        (x,) = inputs
        shape = list(x.shape)
        shape.insert(self.axis, 1)
        return x.dtype, tuple(shape)

    def perform(self, inputs, rng=None):
        return np.expand_dims(inputs[0], self.axis)

    def grad(self, inputs, out, gz):
        return [reshape_like(gz, inputs[0])]


class Squeeze(Op):
    view_of = 0
    __props__ = ("axis",)
    nin = 1

    def __init__(self, axis):
        self.axis = tuple(int(a) for a in axis)

    def infer(self, inputs):
        (x,) = inputs
        for a in self.axis:
            if x.shape[a] not in (None, 1):
                raise ValueError(f"Cannot squeeze axis {a} of size {x.shape[a]} (shape {shapes.fmt(x.shape)}).")
        return x.dtype, tuple(d for i, d in enumerate(x.shape) if i not in self.axis)

    def perform(self, inputs, rng=None):
        (x,) = inputs
        for a in self.axis:
            if x.shape[a] != 1:
                raise ValueError(f"Cannot squeeze axis {a} of an array of shape {x.shape}: its size is not 1.")
        return np.squeeze(x, self.axis)

    def grad(self, inputs, out, gz):
        return [reshape_like(gz, inputs[0])]


class Concatenate(Op):
    __props__ = ("axis",)

    def __init__(self, axis):
        self.axis = int(axis)

    def infer(self, inputs):
        if not inputs:
            raise ValueError("concatenate needs at least one tensor.")
        ndim = inputs[0].ndim
        if any(t.ndim != ndim for t in inputs):
            raise ValueError("concatenate needs tensors of one rank; got shapes "
                             + ", ".join(shapes.fmt(t.shape) for t in inputs) + ".")
        out = []
        for i in range(ndim):
            dims = [t.shape[i] for t in inputs]
            if i == self.axis:
                out.append(None if None in dims else sum(dims))
                continue
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(f"concatenate along axis {self.axis}: sizes along axis {i} differ "
                                 "(" + ", ".join(shapes.fmt(t.shape) for t in inputs) + ").")
            out.append(known.pop() if known else None)
        return dtypes.upcast(*[t.dtype for t in inputs]), tuple(out)

    def perform(self, inputs, rng=None):
        return np.concatenate(inputs, axis=self.axis)

    def grad(self, inputs, out, gz):
        return [SplitLike(self.axis, i)(gz, *inputs) if dtypes.is_float(t.dtype) else None
                for i, t in enumerate(inputs)]


class SplitLike(Op):
    """Piece ``index`` of ``g`` cut along ``axis`` at the sizes of the reference tensors."""

    view_of = 0
    __props__ = ("axis", "index")

    def __init__(self, axis, index):
        self.axis = int(axis)
        self.index = int(index)

    def infer(self, inputs):
        g, *refs = inputs
        return g.dtype, refs[self.index].shape

    def perform(self, inputs, rng=None):
        g, *refs = inputs
        start = sum(r.shape[self.axis] for r in refs[: self.index])
        stop = start + refs[self.index].shape[self.axis]
        index = [slice(None)] * g.ndim
        index[self.axis] = slice(start, stop)
        return g[tuple(index)]

    def grad(self, inputs, out, gz):
        g, *refs = inputs
        pieces = [gz if i == self.index else zeros_like(r, gz.dtype) for i, r in enumerate(refs)]
        return [Concatenate(self.axis)(*pieces)] + [None] * len(refs)


class Tile(Op):
    __props__ = ("reps",)
    nin = 1

    def __init__(self, reps):
        self.reps = tuple(int(r) for r in reps)

    def infer(self, inputs):
        (x,) = inputs
        if len(self.reps) != x.ndim:
            raise ValueError(f"tile needs one repetition count per axis of {shapes.fmt(x.shape)}; got {self.reps}.")
        return x.dtype, tuple(None if d is None else d * r for d, r in zip(x.shape, self.reps))

    def perform(self, inputs, rng=None):
        return np.tile(inputs[0], self.reps)

    def grad(self, inputs, out, gz):
        return [TileGrad(self.reps)(gz)]


class TileGrad(Op):
    """Sum the tiles of ``g`` back onto one tile (the adjoint of Tile)."""

    __props__ = ("reps",)
    nin = 1

    def __init__(self, reps):
        self.reps = tuple(int(r) for r in reps)

    def infer(self, inputs):
        (g,) = inputs
        return g.dtype, tuple(None if d is None else d // r for d, r in zip(g.shape, self.reps))

    def perform(self, inputs, rng=None):
        (g,) = inputs
        split = []
        for d, r in zip(g.shape, self.reps):
            split += [r, d // r]
        return g.reshape(split).sum(axis=tuple(range(0, 2 * g.ndim, 2)))

    def grad(self, inputs, out, gz):
        return [Tile(self.reps)(gz)]


class RepeatElements(Op):
    """Repeat each element ``rep`` times along ``axis`` (np.repeat)."""

    __props__ = ("rep", "axis")
    nin = 1

    def __init__(self, rep, axis):
        self.rep = int(rep)
        self.axis = int(axis)

    def infer(self, inputs):
        (x,) = inputs
        shape = list(x.shape)
        if shape[self.axis] is not None:
            shape[self.axis] *= self.rep
        return x.dtype, tuple(shape)

    def perform(self, inputs, rng=None):
        return np.repeat(inputs[0], self.rep, axis=self.axis)

    def grad(self, inputs, out, gz):
        return [RepeatGrad(self.rep, self.axis)(gz)]


class RepeatGrad(Op):
    """Sum each run of ``rep`` entries along ``axis`` (the adjoint of RepeatElements)."""

    __props__ = ("rep", "axis")
    nin = 1

    def __init__(self, rep, axis):
        self.rep = int(rep)
        self.axis = int(axis)

    def infer(self, inputs):
        (g,) = inputs
        shape = list(g.shape)
        if shape[self.axis] is not None:
            shape[self.axis] //= self.rep
        return g.dtype, tuple(shape)

    def perform(self, inputs, rng=None):
        (g,) = inputs
        split = g.shape[: self.axis] + (g.shape[self.axis] // self.rep, self.rep) + g.shape[self.axis + 1:]
        return g.reshape(split).sum(axis=self.axis + 1)

    def grad(self, inputs, out, gz):
        return [RepeatElements(self.rep, self.axis)(gz)]


class Pad(Op):
    """Constant padding: ``pads`` holds one (before, after) pair per axis."""

    __props__ = ("pads", "value")
    nin = 1

    def __init__(self, pads, value=0.0):
        self.pads = tuple((int(a), int(b)) for a, b in pads)
        self.value = float(value)

    def infer(self, inputs):
        (x,) = inputs
        if len(self.pads) != x.ndim:
            raise ValueError(f"pad needs one (before, after) pair per axis of {shapes.fmt(x.shape)}.")
        return x.dtype, tuple(None if d is None else d + a + b for d, (a, b) in zip(x.shape, self.pads))

    def perform(self, inputs, rng=None):
        return np.pad(inputs[0], self.pads, mode="constant", constant_values=self.value)

    def grad(self, inputs, out, gz):
        spec = tuple(("s", a, -b if b else None, None) for a, b in self.pads)
        return [Subtensor(spec)(gz)]


# --- basic indexing -------------------------------------------------------------

def _index_tuple(spec) -> tuple:
    parts = []
    for entry in spec:
        if entry[0] == "i":
            parts.append(entry[1])
        elif entry[0] == "s":
            parts.append(slice(*entry[1:]))
        else:
            parts.append(None)
    return tuple(parts)


def _index_text(spec) -> str:
    """NumPy-style text of an index spec, e.g. ``1:, ::-1, None, 0``."""
    parts = []
    for entry in spec:
        if entry[0] == "i":
            parts.append(str(entry[1]))
        elif entry[0] == "n":
            parts.append("None")
        else:
            start, stop, step = ("" if v is None else str(v) for v in entry[1:])
            parts.append(f"{start}:{stop}" + (f":{step}" if step else ""))
    return ", ".join(parts)


class Subtensor(Op):
    """Basic indexing: entries ("i", k), ("s", start, stop, step) and ("n",) for newaxis."""

    view_of = 0
    __props__ = ("spec",)
    nin = 1

    def __init__(self, spec):
        self.spec = tuple(tuple(e) for e in spec)

    def infer(self, inputs):
        (x,) = inputs
        consumed = sum(e[0] != "n" for e in self.spec)
        if consumed > x.ndim:
            raise IndexError(f"Too many indices ({consumed}) for a tensor of shape {shapes.fmt(x.shape)}.")
        out, axis = [], 0
        for entry in self.spec:
            if entry[0] == "n":
                out.append(1)
                continue
            d = x.shape[axis]
            if entry[0] == "i":
                k = entry[1]
                if d is not None and not -d <= k < d:
                    raise IndexError(f"Index {k} is out of bounds for axis {axis} of size {d} "
                                     f"(shape {shapes.fmt(x.shape)}).")
            else:
                out.append(None if d is None else len(range(*slice(*entry[1:]).indices(d))))
            axis += 1
        out.extend(x.shape[axis:])
        return x.dtype, tuple(out)

    def __str__(self):
        return f"Subtensor{{{_index_text(self.spec)}}}"

    def size_source(self, inputs, out, axis):
        """An output axis taken whole from an input axis (``:``, or an axis after the index) has its size."""
        in_axis = out_axis = 0
        for entry in self.spec:
            if entry[0] == "n":
                out_axis += 1
                continue
            if entry[0] == "s":
                if out_axis == axis:
                    whole = entry[1] is None and entry[2] is None and entry[3] in (None, 1)
                    return (0, in_axis) if whole else None
                out_axis += 1
            in_axis += 1
        return (0, in_axis + axis - out_axis) if axis >= out_axis else None

    def perform(self, inputs, rng=None):
        return inputs[0][_index_tuple(self.spec)]

    def grad(self, inputs, out, gz):
        return [SubtensorGrad(self.spec)(gz, inputs[0])]


class SubtensorGrad(Op):
    """Zeros of ``ref``'s shape with ``g`` written at the index (the adjoint of Subtensor)."""

    __props__ = ("spec",)
    nin = 2
    shape_from = 1

    def __init__(self, spec):
        self.spec = tuple(tuple(e) for e in spec)

    def infer(self, inputs):
        g, ref = inputs
        return g.dtype, ref.shape

    def __str__(self):
        return f"SubtensorGrad{{{_index_text(self.spec)}}}"

    def perform(self, inputs, rng=None):
        g, ref = inputs
        out = np.zeros(ref.shape, dtype=g.dtype)
        out[_index_tuple(self.spec)] = g
        return out

    def grad(self, inputs, out, gz):
        return [Subtensor(self.spec)(gz), None]


def _normalize_index(index, ndim: int) -> tuple:
    if not isinstance(index, tuple):
        index = (index,)
    n_ellipsis = sum(i is Ellipsis for i in index)
    if n_ellipsis > 1:
        raise IndexError("An index can hold only one Ellipsis.")
    consumed = sum(i is not None and i is not Ellipsis for i in index)
    spec = []
    for item in index:
        if item is Ellipsis:
            spec.extend([("s", None, None, None)] * max(ndim - consumed, 0))
        elif item is None:
            spec.append(("n",))
        elif isinstance(item, slice):
            parts = []
            for p in (item.start, item.stop, item.step):
                if p is not None and not hasattr(p, "__index__"):
                    raise TypeError(f"Slice bounds must be ints or None; got {p!r}.")
                parts.append(None if p is None else int(p))
            if parts[2] == 0:
                raise ValueError("Slice step cannot be zero.")
            spec.append(("s", *parts))
        elif hasattr(item, "__index__") and not isinstance(item, bool):
            spec.append(("i", int(item)))
        else:
            raise TypeError(f"Unsupported index {item!r}: use ints, slices, None or Ellipsis "
                            "(gather for integer arrays).")
    return tuple(spec)


# --- builders ---------------------------------------------------------------------

def shape_of(x) -> Tensor:
    return Shape()(as_tensor(x))


def transpose(x, perm=None) -> Tensor:
    x = as_tensor(x)
    if perm is None:
        perm = tuple(reversed(range(x.ndim)))
    perm = tuple(shapes.normalize_axis(int(p), x.ndim) for p in perm)
    if perm == tuple(range(x.ndim)):
        return x
    return Transpose(perm)(x)


def reshape(x, shape) -> Tensor:
    """Reshape; ``shape`` holds ints (one may be -1) or integer scalar tensors."""
    x = as_tensor(x)
    if isinstance(shape, Tensor):
        if shape.ndim != 1 or shape.shape[0] is None:
            raise ValueError(f"A shape tensor must be a vector of static length; got {shape!r}.")
        shape = [shape[i] for i in range(shape.shape[0])]
    if isinstance(shape, int):
        shape = (shape,)
    spec, dims = [], []
    for s in shape:
        if isinstance(s, Tensor):
            spec.append(None)
            dims.append(s)
        else:
            spec.append(int(s))
    return Reshape(tuple(spec))(x, *dims)


def reshape_like(g, ref) -> Tensor:
    g, ref = as_tensor(g), as_tensor(ref)
    if g.shape == ref.shape and None not in g.shape:
        return g
    return ReshapeLike()(g, ref)


def flatten(x, ndim=1) -> Tensor:
    return Flatten(ndim)(as_tensor(x))


def expand_dims(x, axis=-1) -> Tensor:
    x = as_tensor(x)
    return ExpandDims(shapes.normalize_axis(axis, x.ndim + 1))(x)


def expand_dims_many(x, axes) -> Tensor:
    """Insert size-1 axes at the given (sorted, final-position) axes."""
    for a in sorted(axes):
        x = ExpandDims(a)(x)
    return x


def squeeze(x, axis=None) -> Tensor:
    x = as_tensor(x)
    if axis is None:
        axes = tuple(i for i, d in enumerate(x.shape) if d == 1)
    else:
        axes = shapes.normalize_axes(axis, x.ndim)
    if not axes:
        return x
    return Squeeze(axes)(x)


def concatenate(tensors, axis=-1) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("concatenate needs at least one tensor.")
    axis = shapes.normalize_axis(axis, tensors[0].ndim)
    if len(tensors) == 1:
        return tensors[0]
    return Concatenate(axis)(*tensors)


def stack(tensors, axis=0) -> Tensor:
    tensors = [as_tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("stack needs at least one tensor.")
    axis = shapes.normalize_axis(axis, tensors[0].ndim + 1)
    return Concatenate(axis)(*[ExpandDims(axis)(t) for t in tensors])


def tile(x, reps) -> Tensor:
    x = as_tensor(x)
    reps = (reps,) if isinstance(reps, int) else tuple(int(r) for r in reps)
    if len(reps) > x.ndim:
        x = reshape_leading_ones(x, len(reps) - x.ndim)
    reps = (1,) * (x.ndim - len(reps)) + reps
    return Tile(reps)(x)


def reshape_leading_ones(x, n) -> Tensor:
    for _ in range(n):
        x = ExpandDims(0)(x)
    return x


def repeat_elements(x, rep, axis) -> Tensor:
    x = as_tensor(x)
    return RepeatElements(rep, shapes.normalize_axis(axis, x.ndim))(x)


def pad(x, pads, value=0.0) -> Tensor:
    x = as_tensor(x)
    return Pad(pads, value)(x)


def subtensor(x, index) -> Tensor:
    """``x[index]`` with ints, slices, None and Ellipsis; an integer list/tensor gathers on axis 0."""
    x = as_tensor(x)
    if isinstance(index, (list, np.ndarray)) or (isinstance(index, Tensor) and dtypes.is_int(index.dtype)):
        from symkeras.graph.ops.nn import gather

        return gather(x, index)
    if isinstance(index, Tensor):
        raise TypeError(f"Cannot index with a tensor of dtype {index.dtype}; use an integer tensor.")
    return Subtensor(_normalize_index(index, x.ndim))(x)
