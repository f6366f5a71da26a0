"""Elementwise fusion: maximal groups of elementwise ops (and a reduction they feed) become one Fused op."""

from __future__ import annotations

from collections import defaultdict

from symkeras.graph import ops
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.fused import REDUCTIONS, Fused
from symkeras.graph.ops.reduce import Reduce
from symkeras.graph.rewrite.core import Pass, PassRecord

ELEMENTWISE = (ops.Unary, ops.Binary, ops.Where, ops.FullLike, ops.BroadcastLike)


def is_elementwise(t: Tensor) -> bool:
    return t.owner is not None and isinstance(t.owner.op, ELEMENTWISE)


def _is_fusable_reduction(t: Tensor) -> bool:
    return t.owner is not None and isinstance(t.owner.op, Reduce) and type(t.owner.op).__name__ in REDUCTIONS


class ElementwiseFusion(Pass):
    name = "fusion"

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        consumers: dict[Tensor, set] = defaultdict(set)
        for node in graph.nodes:
            for inp in node.inputs:
                consumers[inp].add(node.out)
        protected = set(graph.outputs) | set(graph.inputs)

        group_of: dict[Tensor, Tensor] = {}  # member -> root of its group
        groups: dict[Tensor, list[Tensor]] = {}
        for t in reversed(graph.tensors):
            if t in group_of or t in graph.inputs:
                continue
            fusable_root = is_elementwise(t) or (
                _is_fusable_reduction(t) and is_elementwise(t.owner.inputs[0])
                and t.owner.inputs[0] not in protected and consumers[t.owner.inputs[0]] == {t})
            if not fusable_root:
                continue
            members = {t}
            todo = list(t.owner.inputs) if is_elementwise(t) else [t.owner.inputs[0]]
            if not is_elementwise(t):
                members.add(t.owner.inputs[0])
                todo = list(t.owner.inputs[0].owner.inputs)
            while todo:
                cand = todo.pop()
                if (cand in members or cand in group_of or cand in protected or not is_elementwise(cand)
                        or not consumers[cand] <= members):
                    continue
                members.add(cand)
                todo.extend(cand.owner.inputs)
            for m in members:
                group_of[m] = t
            groups[t] = members

        mapping: dict[Tensor, Tensor] = {}
        inputs = set(graph.inputs)

        def mapped(x: Tensor) -> Tensor:
            return mapping.get(x, x)

        for t in graph.tensors:
            if t.owner is None or t in inputs:
                continue
            root = group_of.get(t)
            if root is None:
                args = [mapped(i) for i in t.owner.inputs]
                if any(a is not b for a, b in zip(args, t.owner.inputs)):
                    new = t.owner.op(*args)
                    new.name, new.tag = t.name, dict(t.tag)
                    mapping[t] = new
                continue
            if root is not t:
                continue  # built with its root
            new = self._fuse(root, groups[root], graph, mapped)
            new.name, new.tag = t.name, dict(t.tag)
            mapping[t] = new
            record.fired["fused_group"] += 1
            record.fired["fused_ops"] += len(groups[root])
        return Graph(graph.inputs, [mapped(o) for o in graph.outputs], allow_missing=True)

    @staticmethod
    def _fuse(root: Tensor, members: set, graph: Graph, mapped) -> Tensor:
        reduce = None
        top = root
        if not is_elementwise(root):
            op = root.owner.op
            reduce = (type(op).__name__, op.axis, op.keepdims)
            top = root.owner.inputs[0]
        order = [t for t in graph.tensors if t in members and is_elementwise(t)]
        inputs: list[Tensor] = []
        index: dict[Tensor, int] = {}
        for t in order:
            for inp in t.owner.inputs:
                if inp not in members and inp not in index:
                    index[inp] = len(inputs)
                    inputs.append(inp)
        steps = []
        for t in order:
            refs = tuple(index[i] if i in index else len(inputs) + order.index(i) for i in t.owner.inputs)
            steps.append((t.owner.op, refs))
        assert order[-1] is top
        return Fused(len(inputs), steps, reduce)(*[mapped(i) for i in inputs])
