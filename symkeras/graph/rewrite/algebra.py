"""Algebraic simplifications that never change NaN/Inf semantics.

``x * 0`` and ``x - x`` stay as they are: they are NaN for NaN or Inf inputs.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import ops
from symkeras.graph.basic import Tensor
from symkeras.graph.rewrite.core import is_op, rule
from symkeras.graph.rewrite.dims import input_of_same_shape, same_runtime_shape


def _const_equal(t: Tensor, value) -> bool:
    return t.kind == "constant" and t.value.size > 0 and bool(np.all(t.value == value))


def _keeps(t: Tensor, x: Tensor) -> bool:
    """Replacing t by x keeps dtype and the (static) shape."""
    return x.dtype == t.dtype and x.shape == t.shape


@rule(ops.Identity, ops.StopGradient)
def remove_identity(t):
    if is_op(t, ops.Identity, ops.StopGradient) and _keeps(t, t.owner.inputs[0]):
        return t.owner.inputs[0]
    return None


@rule(ops.Add, ops.Sub, ops.Mul, ops.TrueDiv)
def neutral_element(t):
    """x + 0, 0 + x, x - 0, x * 1, 1 * x, x / 1 -> x."""
    if not is_op(t, ops.Add, ops.Sub, ops.Mul, ops.TrueDiv):
        return None
    a, b = t.owner.inputs
    op = t.owner.op
    neutral = 0 if isinstance(op, (ops.Add, ops.Sub)) else 1
    if _const_equal(b, neutral) and _keeps(t, a):
        return a
    if isinstance(op, (ops.Add, ops.Mul)) and _const_equal(a, neutral) and _keeps(t, b):
        return b
    return None


@rule(ops.Mul)
def multiply_by_minus_one(t):
    if not is_op(t, ops.Mul):
        return None
    a, b = t.owner.inputs
    for x, c in ((a, b), (b, a)):
        if _const_equal(c, -1) and _keeps(t, x):
            return ops.neg(x)
    return None


@rule(ops.Neg)
def double_negation(t):
    if is_op(t, ops.Neg) and is_op(t.owner.inputs[0], ops.Neg):
        return t.owner.inputs[0].owner.inputs[0]
    return None


@rule(ops.Transpose)
def transpose_of_transpose(t):
    if not is_op(t, ops.Transpose):
        return None
    x = t.owner.inputs[0]
    perm = t.owner.op.perm
    if perm == tuple(range(len(perm))):
        return x
    if is_op(x, ops.Transpose):
        inner = x.owner.op.perm
        return ops.transpose(x.owner.inputs[0], tuple(inner[p] for p in perm))
    return None


@rule(ops.Subtensor)
def subtensor_of_transpose(t):
    """An index of a transpose is the transpose of the index of its input (so that reading one column of
    a transposed sequence, a recurrent layer's batch size, does not transpose the whole of it)."""
    if not is_op(t, ops.Subtensor):
        return None
    x = t.owner.inputs[0]
    spec = t.owner.op.spec
    if not is_op(x, ops.Transpose) or any(entry[0] == "n" for entry in spec) or len(spec) > x.ndim:
        return None
    perm = x.owner.op.perm
    spec = list(spec) + [("s", None, None, None)] * (x.ndim - len(spec))
    inner = [None] * x.ndim
    for axis, entry in enumerate(spec):
        inner[perm[axis]] = entry
    kept = [perm[axis] for axis, entry in enumerate(spec) if entry[0] == "s"]
    indexed = ops.Subtensor(tuple(inner))(x.owner.inputs[0])
    order = [sorted(kept).index(a) for a in kept]
    return indexed if order == list(range(len(order))) else ops.transpose(indexed, tuple(order))


@rule(ops.Reshape, ops.Flatten, ops.ReshapeLike)
def reshape_of_reshape(t):
    if not is_op(t, ops.Reshape, ops.Flatten, ops.ReshapeLike):
        return None
    x = t.owner.inputs[0]
    if None not in t.shape and x.shape == t.shape:
        return x
    if is_op(t, ops.Reshape) and len(t.owner.inputs) == 1 and is_op(x, ops.Reshape, ops.Flatten, ops.ReshapeLike):
        return ops.Reshape(t.owner.op.shape)(x.owner.inputs[0])
    return None


@rule(ops.Cast)
def cast_to_same_dtype(t):
    if is_op(t, ops.Cast) and t.owner.inputs[0].dtype == t.dtype:
        return t.owner.inputs[0]
    return None


@rule(ops.Sum, ops.Max, ops.Min, ops.Prod)
def reduce_over_size_one_axes(t):
    if not is_op(t, ops.Sum, ops.Max, ops.Min, ops.Prod):
        return None
    x = t.owner.inputs[0]
    op = t.owner.op
    if x.dtype != t.dtype or not all(x.shape[a] == 1 for a in op.axis):
        return None
    return x if op.keepdims else ops.squeeze(x, op.axis)


@rule(ops.BroadcastLike, ops.SumToLike, ops.ReshapeLike)
def broadcast_no_op(t):
    """BroadcastLike / SumToLike / ReshapeLike whose input already has the (static) result shape."""
    if not is_op(t, ops.BroadcastLike, ops.SumToLike, ops.ReshapeLike):
        return None
    g = t.owner.inputs[0]
    if None not in t.shape and g.shape == t.shape:
        return g
    if is_op(t, ops.SumToLike) and g.ndim == t.ndim and all(
            d is not None and d != 1 for d in t.shape):
        return g  # no axis of the reference can be 1, so nothing was broadcast
    if g.shape == t.shape and same_runtime_shape(g, t.owner.inputs[1]):
        return g  # g provably has the reference's run-time shape already (see dims.py)
    return None


@rule(ops.SumToLike)
def sum_to_like_static(t):
    """SumToLike onto a fully static shape is a plain Sum (fusable with its producer)."""
    if not is_op(t, ops.SumToLike) or None in t.shape:
        return None
    g = t.owner.inputs[0]
    lead = g.ndim - t.ndim
    ones = [lead + i for i, d in enumerate(t.shape) if d == 1 and g.shape[lead + i] != 1]
    if not ones:
        return ops.reduce_sum(g, tuple(range(lead))) if lead else g
    summed = ops.reduce_sum(g, tuple(range(lead)) + tuple(ones), keepdims=True)
    return ops.reshape(summed, t.shape) if lead else summed


@rule(ops.Shape)
def shape_through_elementwise(t):
    """Shape(f(x, ...)) -> Shape(x) when the elementwise f provably keeps x's run-time shape.

    (So a reduction's element count does not keep its producer from fusing with it.)
    """
    if not is_op(t, ops.Shape):
        return None
    x = input_of_same_shape(t.owner.inputs[0])
    return None if x is None else ops.shape_of(x)


@rule()
def shape_reference_through_elementwise(t):
    """A shape-only reference (the ``shape_from`` input) to f(x, ...) becomes a reference to x.

    x has f's run-time shape, so the result is the same; the reference then
    no longer keeps f's result alive: f fuses into its real consumer, or is
    not computed at all.
    """
    node = t.owner
    if node is None or node.op.shape_from is None or node.op.shape_from >= len(node.inputs):
        return None
    inputs = list(node.inputs)
    x = input_of_same_shape(inputs[node.op.shape_from])
    if x is None:
        return None
    inputs[node.op.shape_from] = x
    return node.op(*inputs)


@rule(ops.Pow)
def power_by_constant(t):
    """x ** 1 -> x, x ** 2 -> square(x), x ** -1 -> 1 / x (x ** 0.5 stays: sqrt(-inf) is NaN)."""
    if not is_op(t, ops.Pow):
        return None
    x, c = t.owner.inputs
    if c.kind != "constant" or c.value.ndim != 0 or x.dtype != t.dtype or x.shape != t.shape:
        return None
    exponent = float(c.value)
    if exponent == 1:
        return x
    if exponent == 2:
        return ops.square(x)
    if exponent == -1 and t.dtype.startswith("float"):
        return ops.reciprocal(x)
    return None


@rule(ops.Where)
def select_by_constant_condition(t):
    """where(True, a, b) -> a, where(False, a, b) -> b: a learning phase made a constant drops the other branch
    (inference graphs draw no dropout mask and compute no batch statistics)."""
    cond, a, b = t.owner.inputs
    if cond.kind != "constant" or cond.value.size == 0:
        return None
    flags = np.asarray(cond.value, dtype=bool)
    if not (flags.all() or not flags.any()):
        return None
    chosen = a if flags.all() else b
    if chosen.shape != t.shape:
        return None
    return chosen if chosen.dtype == t.dtype else ops.cast(chosen, t.dtype)


def _added_terms(t: Tensor) -> list[Tensor]:
    """The terms of a tree of Adds rooted at ``t`` (``t`` itself when it is no Add)."""
    if not is_op(t, ops.Add):
        return [t]
    return [term for x in t.owner.inputs for term in _added_terms(x)]


def _slice_along(spec, ndim: int) -> tuple[int, int | None, int | None] | None:
    """(axis, start, stop) of an index that is a plain slice along one axis and whole along the others."""
    entries = list(spec) + [("s", None, None, None)] * (ndim - len(spec))
    if len(entries) != ndim or any(e[0] != "s" or e[3] not in (None, 1) for e in entries):
        return None
    sliced = [(a, e[1], e[2]) for a, e in enumerate(entries) if (e[1], e[2]) != (None, None)]
    return sliced[0] if len(sliced) == 1 else None


@rule(ops.Add)
def sum_of_slice_gradients(t):
    """The sum of SubtensorGrads of one reference whose slices along one axis tile it (a recurrent step's
    gate gradients) is the concatenation of the slices' gradients: one pass instead of a zero-filled array
    per slice and the adds.  Run after the other rules (its own pass): while the SubtensorGrads stand,
    their sum has its reference's run-time shape, which removes the SumToLikes of it."""
    terms = _added_terms(t)
    if len(terms) < 2 or not all(is_op(x, ops.SubtensorGrad) for x in terms):
        return None
    ref = terms[0].owner.inputs[1]
    if any(x.owner.inputs[1] is not ref or x.dtype != t.dtype for x in terms):
        return None
    pieces = [_slice_along(x.owner.op.spec, ref.ndim) for x in terms]
    if None in pieces or len({axis for axis, _, _ in pieces}) != 1:
        return None
    axis = pieces[0][0]
    size = ref.shape[axis]
    if size is None or any(not isinstance(v, (int, type(None))) or (v is not None and v < 0)
                           for _, start, stop in pieces for v in (start, stop)):
        return None
    spans = sorted((((start or 0, size if stop is None else min(stop, size)), x.owner.inputs[0])
                    for (_, start, stop), x in zip(pieces, terms)), key=lambda span: span[0])
    ends = [0] + [stop for (_, stop), _ in spans]
    if any(start != end for ((start, _), _), end in zip(spans, ends)) or ends[-1] != size:
        return None
    grads = [g for _, g in spans]
    if any(g.ndim != ref.ndim or g.shape[axis] not in (None, stop - start)
           for ((start, stop), g) in spans):
        return None
    try:
        joined = ops.concatenate(grads, axis=axis)
    except ValueError:  # the slices' gradients disagree in another axis's static size
        return None
    if joined.shape != t.shape or joined.dtype != t.dtype:
        return None
    # viewed with the reference's shape (a view, no copy): its run-time sizes stay those of the reference,
    # which removes the SumToLikes of a loop's per-step output against that reference's sequence
    return ops.reshape_like(joined, ref)


RULES = [remove_identity, neutral_element, multiply_by_minus_one, double_negation, transpose_of_transpose,
         subtensor_of_transpose,
         reshape_of_reshape, cast_to_same_dtype, reduce_over_size_one_axes, broadcast_no_op, sum_to_like_static,
         shape_through_elementwise, shape_reference_through_elementwise, power_by_constant,
         select_by_constant_condition]
