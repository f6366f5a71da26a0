"""Sizes known only at run time (None), matched through how tensors were made.

``dim_root(t, axis)`` names the (tensor, axis) whose run-time size ``t`` has
along ``axis``: elementwise results keep the size of the input the others
broadcast into, BroadcastLike/SumToLike/FullLike take their reference's
sizes, a random tensor drawn with a reference's shape has them, and a
matrix product's axis has the size of the operand axis of the same letter.
Two tensors whose None axes have the same roots have the same shape whatever
the batch size, so a gradient's SumToLike between them sums nothing.

A placeholder standing for a value whose sizes are known to match another's
(a loop's slices and states: one batch of samples) says so in its tag
``"size_of"``: axis -> (tensor, axis); ``link_sizes`` writes it.
"""

from __future__ import annotations

from symkeras.graph.basic import Tensor

Dim = tuple[Tensor, int]


def dim_root(t: Tensor, axis: int, memo: dict | None = None) -> Dim:
    memo = {} if memo is None else memo
    key = (t, axis)
    if key in memo:
        return memo[key]
    memo[key] = key  # bounds the recursion; a DAG has no cycle
    source = _same_size_source(t, axis, memo)
    root = key if source is None else dim_root(*source, memo)
    memo[key] = root
    return root


def same_size(x: Tensor, a: int, y: Tensor, b: int, memo: dict | None = None) -> bool:
    """Whether axis ``a`` of ``x`` and axis ``b`` of ``y`` provably have one run-time size."""
    dx, dy = x.shape[a], y.shape[b]
    if dx is not None or dy is not None:
        return dx == dy
    memo = {} if memo is None else memo
    return dim_root(x, a, memo) == dim_root(y, b, memo)


def same_runtime_shape(x: Tensor, y: Tensor, memo: dict | None = None) -> bool:
    memo = {} if memo is None else memo
    return x.ndim == y.ndim and all(same_size(x, a, y, a, memo) for a in range(x.ndim))


def input_of_same_shape(y: Tensor, memo: dict | None = None) -> Tensor | None:
    """An input of the elementwise ``y`` that provably has ``y``'s run-time shape, if there is one."""
    if y.owner is None or not (y.owner.op.elementwise or _elementwise_group(y.owner.op)):
        return None
    memo = {} if memo is None else memo
    for x in y.owner.inputs:
        if x.ndim == y.ndim and x.shape == y.shape and all(
                _broadcasts_into(o, x, memo) for o in y.owner.inputs if o is not x):
            return x
    return None


def _elementwise_group(op) -> bool:
    """A Fused op without a reduction broadcasts its inputs as its steps do (NumPy rules)."""
    return type(op).__name__ == "Fused" and op.reduce is None


def _broadcasts_into(o: Tensor, x: Tensor, memo: dict) -> bool:
    """o broadcast against x leaves x's shape as it is, whatever the run-time sizes."""
    if o.ndim > x.ndim:
        return False
    lead = x.ndim - o.ndim
    return all(o.shape[j] == 1 or same_size(o, j, x, lead + j, memo) for j in range(o.ndim))


def link_sizes(t: Tensor, like: Tensor, axes=None, offset: int = 0) -> Tensor:
    """Tag ``t`` (a new placeholder) as having the run-time size of ``like``'s axis ``a + offset`` along each
    of its None ``axes`` ``a`` (default: all of them); returns ``t``.  ``offset=1``: ``t`` is one step of the
    sequence ``like``."""
    axes = range(t.ndim) if axes is None else axes
    links = {a: dim_root(like, a + offset) for a in axes if t.shape[a] is None and like.shape[a + offset] is None}
    if links:
        t.tag["size_of"] = links
    return t


def _same_size_source(t: Tensor, axis: int, memo: dict) -> Dim | None:
    node = t.owner
    if node is None:
        return t.tag.get("size_of", {}).get(axis)
    op = node.op
    ref = None
    if op.shape_from is not None and op.shape_from < len(node.inputs):
        ref = node.inputs[op.shape_from]
    elif op.elementwise or _elementwise_group(op):
        ref = input_of_same_shape(t, memo)
    else:
        source = op.size_source(list(node.inputs), t, axis)
        if source is not None:
            return node.inputs[source[0]], source[1]
    if ref is not None and ref.ndim == t.ndim and ref.shape == t.shape:
        return ref, axis
    return None
