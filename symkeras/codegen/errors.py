"""Error messages shared by the backends, so both raise the same text."""

from __future__ import annotations

from symkeras.graph import shapes
from symkeras.graph.basic import Tensor


def update_shape_error(function_name: str, var: Tensor) -> str:
    return (f"Function '{function_name}' computed an update whose shape differs from variable "
            f"'{var.name}' of shape {shapes.fmt(var.shape)}; no variable was changed.")
