"""The reference evaluator: runs a graph node by node with each op's NumPy ``perform``.

It is the oracle every other backend is compared with.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import shapes
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph


class ReferenceProgram:
    """Evaluates a Graph; counts the calls of each random node (its draw number)."""

    def __init__(self, graph: Graph):
        self.graph = graph
        self.calls = {node.uid: 0 for node in graph.nodes if node.op.is_random}

    def leaf_values(self, feed: dict[Tensor, np.ndarray]) -> dict[Tensor, np.ndarray]:
        values: dict[Tensor, np.ndarray] = {}
        for leaf in self.graph.leaves:
            if leaf in feed:
                values[leaf] = feed[leaf]
            elif leaf.kind in ("variable", "constant"):
                values[leaf] = leaf.value
            elif leaf.default is not None:
                values[leaf] = leaf.default
        return values

    def run(self, feed: dict[Tensor, np.ndarray]) -> dict[Tensor, np.ndarray]:
        """Values of every tensor of the graph, given the placeholders' values."""
        values = self.leaf_values(feed)
        for node in self.graph.nodes:
            values[node.out] = self.run_node(node, [values[i] for i in node.inputs])
        return values

    def run_node(self, node, args: list[np.ndarray]) -> np.ndarray:
        out = node.out
        try:
            if node.op.is_random:
                result = node.op.perform(args, self.calls[node.uid])
                self.calls[node.uid] += 1
            else:
                result = node.op.perform(args)
        except Exception as exc:
            arg_shapes = ", ".join(shapes.fmt(np.shape(a)) for a in args)
            exc.add_note(f"while evaluating {node.op} on inputs of shapes {arg_shapes}")
            raise
        result = np.asarray(result, dtype=out.dtype)
        if not shapes.compatible(out.shape, result.shape):
            raise RuntimeError(
                f"{node.op} produced shape {shapes.fmt(result.shape)} where the graph expects "
                f"{shapes.fmt(out.shape)}."
            )
        return result


def evaluate(outputs, feed: dict | None = None):
    """Evaluate tensors once (fresh random state); returns arrays in the structure given."""
    single = isinstance(outputs, Tensor)
    outs = [outputs] if single else list(outputs)
    feed = feed or {}
    program = ReferenceProgram(Graph(list(feed), outs))
    values = program.run({k: np.asarray(v, dtype=k.dtype) for k, v in feed.items()})
    results = [np.array(values[o], copy=True) for o in outs]
    return results[0] if single else results
