"""Constant folding: nodes whose inputs are all constants become constants."""

from __future__ import annotations

import numpy as np

from symkeras.graph import shapes
from symkeras.graph.basic import Tensor, constant
from symkeras.graph.ops.shape import Shape
from symkeras.graph.rewrite.core import rule

#: results larger than this stay computed at run time (a folded constant is stored in the graph)
MAX_FOLDED_ELEMENTS = 1 << 16


@rule()
def fold_constants(t: Tensor) -> Tensor | None:
    node = t.owner
    if (node is None or node.op.is_random or node.op.has_side_effects
            or not all(i.kind == "constant" for i in node.inputs)):
        return None
    size = shapes.size(t.shape)
    if size is not None and size > MAX_FOLDED_ELEMENTS:
        return None
    value = np.asarray(node.op.perform([i.value for i in node.inputs]), dtype=t.dtype)
    if value.size > MAX_FOLDED_ELEMENTS:
        return None
    return constant(value, dtype=t.dtype)


@rule(Shape)
def fold_static_shape(t: Tensor) -> Tensor | None:
    """Shape(x) of a fully static x is a constant."""
    node = t.owner
    if node is None or not isinstance(node.op, Shape):
        return None
    x = node.inputs[0]
    if None in x.shape:
        return None
    return constant(np.array(x.shape, dtype=t.dtype), dtype=t.dtype)


RULES = [fold_constants, fold_static_shape]
