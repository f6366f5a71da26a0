"""The reference backend: runs a graph node by node with each op's NumPy ``perform`` (the oracle).

Every other backend is compared with it.  Its kernels are the ops' own
``perform`` methods, so an op needs nothing else to run here.  It runs the
optimized graph a Function hands it (Fused nodes replay their program), or
a graph as built (``evaluate``, ``mode="none"``).
"""

from __future__ import annotations

import time

import numpy as np

from symkeras.codegen.backend import Backend, Program, Residency, apply_updates, register_backend
from symkeras.codegen.errors import nan_guard_message, node_shape_error
from symkeras.graph import provenance, shapes
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.runtime.storage import HOST


class Evaluator:
    """Evaluates a Graph; counts the calls of each random node (its draw number).

    ``read(variable)`` gives a variable's array (default: the host storage's buffer).
    """

    def __init__(self, graph: Graph, read=HOST.array, guard: str | None = None, profile: bool = False):
        self.graph = graph
        self.read = read
        #: profile: seconds per node over the runs so far
        self.node_seconds = [0.0] * len(graph.nodes) if profile else None
        #: the function's name when its NaN guard is on: every node's float outputs are checked
        self.guard = guard
        self.calls = {node.uid: 0 for node in graph.nodes if node.op.is_random}

    def leaf_values(self, feed: dict[Tensor, np.ndarray]) -> dict[Tensor, np.ndarray]:
        values: dict[Tensor, np.ndarray] = {}
        for leaf in self.graph.leaves:
            if leaf in feed:
                values[leaf] = feed[leaf]
            elif leaf.kind == "variable":
                values[leaf] = self.read(leaf)
            elif leaf.kind == "constant":
                values[leaf] = leaf.value
            elif leaf.default is not None:
                values[leaf] = leaf.default
        return values

    def run(self, feed: dict[Tensor, np.ndarray]) -> dict[Tensor, np.ndarray]:
        """Values of every tensor of the graph, given the placeholders' values."""
        values = self.leaf_values(feed)
        count = len(self.graph.nodes)
        for index, node in enumerate(self.graph.nodes):
            start = time.perf_counter() if self.node_seconds is not None else 0.0
            results = self.run_node(node, [values[i] for i in node.inputs])
            if self.node_seconds is not None:
                self.node_seconds[index] += time.perf_counter() - start
            if self.guard is not None:
                for k, value in enumerate(results):
                    if value.dtype.kind == "f" and not np.isfinite(value).all():
                        raise FloatingPointError(nan_guard_message(self.guard, node, index, count, k))
            values.update(zip(node.outputs, results))
        return values

    def run_node(self, node, args: list[np.ndarray]) -> list[np.ndarray]:
        """The node's outputs (a list, one array per output)."""
        try:
            if node.op.is_random:
                result = node.op.perform(args, self.calls[node.uid])
                self.calls[node.uid] += 1
            else:
                result = node.op.perform(args)
        except ValueError as exc:  # NumPy's word for shapes that do not fit
            raise node_shape_error(node, args, exc) from exc
        except Exception as exc:
            arg_shapes = ", ".join(shapes.fmt(np.shape(a)) for a in args)
            exc.add_note(f"while evaluating {provenance.where(node)} on inputs of shapes {arg_shapes}")
            raise
        results = [result] if len(node.outputs) == 1 else list(result)
        checked = []
        for out, value in zip(node.outputs, results):
            value = np.asarray(value, dtype=out.dtype)
            if not shapes.compatible(out.shape, value.shape):
                raise RuntimeError(f"{provenance.where(node)} produced shape {shapes.fmt(value.shape)} where the "
                                   f"graph expects {shapes.fmt(out.shape)}.")
            checked.append(value)
        return checked


class ReferenceProgram(Program):
    """A Function's graph run by the Evaluator; updates written to the host storage after each call."""

    def __init__(self, backend, graph, inputs, outputs, updates, name, nan_guard=False, profile=False):
        super().__init__()
        self.backend = backend
        self.inputs, self.outputs, self.updates, self.name = list(inputs), list(outputs), list(updates), name
        self.evaluator = Evaluator(graph, guard=name if nan_guard else None, profile=profile)
        self.residency = Residency(backend.storage, graph.variables + [var for var, _ in self.updates])
        self.stats = {"nodes": len(graph.nodes)}

    def run(self, arrays):
        self.residency.ensure()
        values = self.evaluator.run(dict(zip(self.inputs, arrays)))
        results = [np.array(values[o], copy=True) for o in self.outputs]
        apply_updates(self.name, self.updates, values, HOST.write)
        return results

    def node_seconds(self):
        return None if self.evaluator.node_seconds is None else list(self.evaluator.node_seconds)

    def trace(self, graph, arrays):
        self.residency.ensure()
        return Evaluator(graph).run(dict(zip(self.inputs, arrays)))


class ReferenceBackend(Backend):
    """The NumPy oracle: every op's ``perform``, node by node, on the host storage."""

    name = "reference"
    storage = HOST
    is_reference = True

    def compile(self, graph, inputs, outputs, updates, name, nan_guard=False, profile=False):
        return ReferenceProgram(self, graph, inputs, outputs, updates, name, nan_guard, profile)


register_backend(ReferenceBackend())


def evaluate(outputs, feed: dict | None = None):
    """Evaluate tensors once (graph as built, fresh random state); returns arrays in the structure given."""
    single = isinstance(outputs, Tensor)
    outs = [outputs] if single else list(outputs)
    feed = feed or {}
    graph = Graph(list(feed), outs)
    Residency(HOST, graph.variables).ensure()
    evaluator = Evaluator(graph)
    values = evaluator.run({k: np.asarray(v, dtype=k.dtype) for k, v in feed.items()})
    results = [np.array(values[o], copy=True) for o in outs]
    return results[0] if single else results
