"""Error messages shared by the backends, so both raise the same text."""

from __future__ import annotations

import numpy as np

from symkeras.graph import provenance, shapes
from symkeras.graph.basic import Tensor


def node_shape_error(node, args, error: Exception) -> ValueError:
    """The error of a node that could not run on its inputs' run-time shapes, naming its layer and op."""
    arg_shapes = ", ".join(shapes.fmt(np.shape(a)) for a in args)
    return ValueError(f"{provenance.where(node)} cannot run on inputs of shapes {arg_shapes}: {error}")


def update_shape_error(function_name: str, var: Tensor) -> str:
    return (f"Function '{function_name}' computed an update whose shape differs from variable "
            f"'{var.name}' of shape {shapes.fmt(var.shape)}; no variable was changed.")
