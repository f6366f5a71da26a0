"""Error messages shared by the backends, so both raise the same text."""

from __future__ import annotations

import numpy as np

from symkeras.graph import provenance, shapes
from symkeras.graph.basic import Tensor


def node_shape_error(node, args, error: Exception) -> ValueError:
    """The error of a node that could not run on its inputs' run-time shapes, naming its layer and op."""
    arg_shapes = ", ".join(shapes.fmt(np.shape(a)) for a in args)
    return ValueError(f"{provenance.where(node)} cannot run on inputs of shapes {arg_shapes}: {error}")


def nan_guard_message(function_name: str, node, index: int, count: int, output: int) -> str:
    """The NaN guard's error: the first node whose output holds NaN or Inf, with its op, its place in the
    optimized graph and the Keras layer it came from."""
    out = node.outputs[output]
    which = f"output {output}" if len(node.outputs) > 1 else "output"
    layer = provenance.of(node)
    origin = f", from layer {layer}" if layer else ""
    line = f"{node.op} [id ..] {out.dtype} {shapes.fmt(out.shape)}" + (f" <{layer}>" if layer else "")
    return (f"NaN guard: node {index + 1} of {count} (in run order) of the optimized graph of function "
            f"'{function_name}' ({node.op}{origin}) produced NaN or Inf in its {which} ({out.dtype} "
            f"{shapes.fmt(out.shape)}); f.debugprint() shows it as '{line}'.")


def update_shape_error(function_name: str, var: Tensor) -> str:
    return (f"Function '{function_name}' computed an update whose shape differs from variable "
            f"'{var.name}' of shape {shapes.fmt(var.shape)}; no variable was changed.")
