"""A graph over given inputs and outputs: order, leaves, cloning, a networkx view.

The order is computed here (networkx takes a quarter second to import, and
every function builds graphs); networkx is imported when a view is asked for.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping

from symkeras.graph.basic import Node, Tensor


class MissingInputError(ValueError):
    """An output depends on a placeholder that is neither an input nor has a default."""


def ancestors_dag(outputs: Iterable[Tensor], stop: Iterable[Tensor] = ()):
    """networkx DiGraph of tensors: an edge input -> output for every node above ``outputs``.

    Tensors in ``stop`` are treated as leaves.  Each graph node carries the
    tensor under the attribute ``"tensor"``.
    """
    import networkx as nx

    stop = set(stop)
    dag = nx.DiGraph()
    tensors = topological_tensors(outputs, stop)
    for t in tensors:
        dag.add_node(t.uid, tensor=t)
    for t in tensors:
        if t.owner is not None and t not in stop:
            for inp in t.owner.inputs:
                dag.add_edge(inp.uid, t.uid)
    return dag


def topological_tensors(outputs: Iterable[Tensor], stop: Iterable[Tensor] = ()) -> list[Tensor]:
    """The tensors above ``outputs`` (``stop`` ones as leaves), inputs before their users.

    Among the tensors ready at each point the lowest uid comes first (so the
    order is the same in every run: the order tensors were made in).  Nodes
    with side effects (``has_side_effects``) also run in the order they were
    made (``effect_order``, kept when rewrites rebuild them): each one waits
    for the one made before it.
    """
    stop = set(stop)
    found: dict[int, Tensor] = {}
    todo = list(outputs)
    while todo:
        t = todo.pop()
        if t.uid in found:
            continue
        found[t.uid] = t
        if t.owner is not None and t not in stop:
            todo.extend(t.owner.inputs)
    waiting: dict[int, int] = {}
    users: dict[int, list[int]] = {}
    effects = [t for t in found.values() if t.owner is not None and t not in stop and t.owner.op.has_side_effects]
    effects = [t.uid for t in sorted(effects, key=_effect_order)]
    after = dict(zip(effects[1:], effects[:-1]))  # effect -> the effect made just before it
    for uid, t in found.items():
        inputs = {i.uid for i in t.owner.inputs} if t.owner is not None and t not in stop else set()
        if uid in after:
            inputs.add(after[uid])
        waiting[uid] = len(inputs)
        for i in inputs:
            users.setdefault(i, []).append(uid)
    ready = [uid for uid, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        uid = heapq.heappop(ready)
        order.append(found[uid])
        for user in users.get(uid, ()):
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    if len(order) != len(found):
        raise ValueError("The graph has a cycle.")
    return order


def _effect_order(t: Tensor) -> tuple:
    return t.owner.tag.get("effect_order", t.owner.uid), t.index


class Graph:
    """The subgraph that computes ``outputs`` from ``inputs`` (plus variables and constants).

    Nodes with side effects found above the outputs are kept in ``effects``
    (one output tensor each): a graph derived from this one (a rewrite, a
    clone) passes them on, so such a node stays even when no output needs
    its value any more.

    Raises:
        MissingInputError: an output needs a placeholder that is not among
            the inputs and has no default value.
    """

    def __init__(self, inputs: Iterable[Tensor], outputs: Iterable[Tensor], allow_missing: bool = False,
                 effects: Iterable[Tensor] = ()):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        inputs_set = set(self.inputs)
        self.tensors: list[Tensor] = topological_tensors(self.outputs + list(effects), stop=self.inputs)
        self._nx = None
        self.nodes: list[Node] = list(dict.fromkeys(
            t.owner for t in self.tensors if t.owner is not None and t not in inputs_set))
        self.effects = [node.outputs[0] for node in self.nodes if node.op.has_side_effects]
        self.leaves = [t for t in self.tensors if t.owner is None or t in inputs_set]
        missing = [t for t in self.leaves
                   if t.kind == "placeholder" and t not in inputs_set and t.default is None]
        if missing and not allow_missing:
            names = ", ".join(repr(t.name or f"placeholder#{t.uid}") for t in missing)
            raise MissingInputError(
                f"The outputs depend on placeholder(s) {names}, which are not among the "
                "function's inputs: add them to the inputs."
            )

    @property
    def variables(self) -> list[Tensor]:
        return [t for t in self.leaves if t.kind == "variable"]

    @property
    def constants(self) -> list[Tensor]:
        return [t for t in self.leaves if t.kind == "constant"]

    @property
    def nx(self):
        """The graph as a networkx DiGraph over tensor uids (each node's "tensor" attribute)."""
        if self._nx is None:
            self._nx = ancestors_dag(self.outputs, stop=self.inputs)
        return self._nx

    def ancestors(self, t: Tensor) -> set[Tensor]:
        import networkx as nx

        return {self.nx.nodes[u]["tensor"] for u in nx.ancestors(self.nx, t.uid)}

    def descendants(self, t: Tensor) -> set[Tensor]:
        import networkx as nx

        return {self.nx.nodes[u]["tensor"] for u in nx.descendants(self.nx, t.uid)}

    def clone(self, replace: Mapping[Tensor, Tensor] | None = None) -> tuple[Graph, dict]:
        """A copy of the graph with new nodes; ``replace`` swaps tensors for others.

        Returns the new Graph and the map old tensor -> new tensor.  Leaves
        (placeholders, variables, constants) are shared, not copied.
        """
        mapping = clone_tensors(self.outputs + self.effects, replace or {}, stop=self.inputs)
        new_inputs = [mapping.get(t, t) for t in self.inputs]
        return self.derived([mapping[t] for t in self.outputs], mapping, new_inputs), mapping

    def derived(self, outputs: list[Tensor], mapping: Mapping[Tensor, Tensor], inputs=None) -> Graph:
        """A graph over the same inputs (or ``inputs``) computing ``outputs``; this graph's side-effect
        nodes carried over through ``mapping`` (old tensor -> new tensor)."""
        effects = [mapping.get(e, e) for e in self.effects]
        return Graph(self.inputs if inputs is None else inputs, outputs, allow_missing=True, effects=effects)


def clone_tensors(outputs: Iterable[Tensor], replace: Mapping[Tensor, Tensor], stop=()) -> dict:
    """Rebuild the nodes above ``outputs`` with ``replace`` applied; returns old -> new."""
    outputs = list(outputs)
    for old, new in replace.items():
        if old.ndim != new.ndim or old.dtype != new.dtype:
            raise ValueError(f"Cannot replace {old!r} by {new!r}: dtype or rank differs.")
    # A replacement's own subgraph is kept as it is (it may use the tensor it
    # replaces: clone(y, {x: 2 * x}) is y evaluated at 2x), so no cycle can form.
    mapping: dict[Tensor, Tensor] = dict(replace)
    stop = set(stop)
    rebuilt: dict[Node, Node] = {}  # one new node for all outputs of an old one
    for t in topological_tensors(outputs, stop=stop):
        if t in mapping:
            continue
        if t.owner is None or t in stop:
            mapping[t] = t
            continue
        node = rebuilt.get(t.owner)
        if node is None:
            inputs = [mapping[i] for i in t.owner.inputs]
            node = t.owner if all(a is b for a, b in zip(inputs, t.owner.inputs)) else t.owner.rebuilt(inputs)
            rebuilt[t.owner] = node
        mapping[t] = node.outputs[t.index]
    return mapping
