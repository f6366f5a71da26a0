"""Static shapes: tuples of ints, with None for sizes known only at run time."""

from __future__ import annotations

from collections.abc import Sequence

Shape = tuple


def normalize(shape) -> Shape:
    """Turn a user shape (int, list, tuple with None) into a tuple."""
    if shape is None:
        raise ValueError("A shape is required.")
    if isinstance(shape, int):
        shape = (shape,)
    out = []
    for dim in shape:
        if dim is None:
            out.append(None)
            continue
        if not isinstance(dim, (int,)) and not hasattr(dim, "__index__"):
            raise TypeError(f"Shape {tuple(shape)} holds {dim!r}; dimensions are ints or None.")
        dim = int(dim)
        if dim < 0:
            raise ValueError(f"Shape {tuple(shape)} holds a negative dimension {dim}.")
        out.append(dim)
    return tuple(out)


def broadcast(*shapes: Sequence) -> Shape:
    """NumPy broadcasting of static shapes; raises ValueError on a contradiction."""
    try:
        return _BROADCASTS[shapes]
    except (KeyError, TypeError):  # (not seen yet; or shapes given as lists)
        pass
    out = _broadcast(shapes)
    if len(_BROADCASTS) < 4096 and all(s.__class__ is tuple for s in shapes):
        _BROADCASTS[shapes] = out
    return out


#: broadcast's results so far (graph building and the rewrite passes ask about the same shapes again)
_BROADCASTS: dict = {}


def _broadcast(shapes) -> Shape:
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out = []
    for axis in range(ndim):
        dims = [s[axis] for s in padded]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(
                "Shapes " + ", ".join(str(tuple(s)) for s in shapes) + " cannot be broadcast together "
                f"(axis {axis - ndim}: sizes {sorted(known)})."
            )
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def compatible(static: Sequence, actual: Sequence) -> bool:
    """Whether a concrete shape matches a static one."""
    return len(static) == len(actual) and all(s is None or s == a for s, a in zip(static, actual))


def normalize_axis(axis: int, ndim: int, what: str = "axis") -> int:
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ValueError(f"{what} {axis} is out of range for a tensor of rank {ndim}.")
    return axis % ndim if ndim else 0


def normalize_axes(axis, ndim: int) -> tuple:
    """``None`` -> all axes; int or sequence -> sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int) or hasattr(axis, "__index__"):
        axis = [int(axis)]
    axes = sorted({normalize_axis(int(a), ndim) for a in axis})
    return tuple(axes)


def size(shape: Sequence):
    """Number of elements, or None when a dimension is unknown."""
    n = 1
    for d in shape:
        if d is None:
            return None
        n *= d
    return n


def fmt(shape: Sequence) -> str:
    """``(None, 3)`` style text."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(d) for d in shape) + ")"
