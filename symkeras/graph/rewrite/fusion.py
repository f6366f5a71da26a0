"""Elementwise fusion: maximal groups of elementwise ops (and a reduction they feed) become one Fused op."""

from __future__ import annotations

import heapq
from collections import defaultdict

from symkeras.graph import provenance
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.fused import FUSABLE_REDUCTIONS, Fused
from symkeras.graph.rewrite.core import Pass, PassRecord, carry_over

#: at most this many ops in one fused kernel
MAX_GROUP = 32


def is_elementwise(t: Tensor) -> bool:
    """Computed by an elementwise op (the ``elementwise`` trait) with one output."""
    return t.owner is not None and t.owner.op.elementwise and len(t.owner.outputs) == 1


def _is_fusable_reduction(t: Tensor) -> bool:
    return t.owner is not None and t.owner.op.reduction in FUSABLE_REDUCTIONS


class ElementwiseFusion(Pass):
    name = "fusion"

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        consumers: dict[Tensor, set] = defaultdict(set)
        for node in graph.nodes:
            for inp in node.inputs:
                consumers[inp].update(node.outputs)
        protected = set(graph.outputs) | set(graph.inputs)

        position = {t: i for i, t in enumerate(graph.tensors)}
        group_of: dict[Tensor, Tensor] = {}  # member owned by a group -> that group's root
        groups: dict[Tensor, set] = {}
        # tensors that groups formed so far read as inputs: a group recomputing a cheap value reads that
        # value's operands itself, so a later group may not own them (its root would be dead, they not)
        read_by_groups: dict[Tensor, set] = defaultdict(set)
        for t in reversed(graph.tensors):
            if t in group_of or t in graph.inputs:
                continue
            fusable_root = is_elementwise(t) or (
                _is_fusable_reduction(t) and is_elementwise(t.owner.inputs[0])
                and t.owner.inputs[0] not in protected and t.owner.inputs[0] not in group_of
                and self._recomputed_elsewhere(t.owner.inputs[0], consumers[t.owner.inputs[0]] - {t},
                                               group_of, groups))
            if not fusable_root:
                continue
            owned = {t} if is_elementwise(t) else {t, t.owner.inputs[0]}
            members = set(owned)
            top = t if is_elementwise(t) else t.owner.inputs[0]
            # visit producers consumers-first, so ownership is decided with every consumer known
            # (a reduced value that other groups recompute leaves its producers to be shared, not owned)
            may_own = is_elementwise(t) or consumers[top] == {t}
            heap = [(-position[i], i.uid, i, may_own) for i in top.owner.inputs]
            heapq.heapify(heap)
            while heap:
                _, _, cand, may_own = heapq.heappop(heap)
                if (cand in members or cand in protected or cand in group_of or not is_elementwise(cand)
                        or len(members) >= MAX_GROUP):
                    continue
                exclusive = may_own and consumers[cand] <= owned and not read_by_groups[cand]
                if not exclusive and (not cand.owner.op.cheap or self._materialized(cand, consumers, protected)):
                    continue  # needed elsewhere too: recompute it here only if that is cheap and saves an array
                members.add(cand)
                if exclusive:
                    owned.add(cand)
                for i in cand.owner.inputs:
                    heapq.heappush(heap, (-position[i], i.uid, i, exclusive))
            for m in owned:
                group_of[m] = t
            groups[t] = members
            for m in members:
                for i in m.owner.inputs:
                    if i not in members:
                        read_by_groups[i].add(t)

        mapping: dict[Tensor, Tensor] = {}
        rebuilt = {}
        inputs = set(graph.inputs)

        def mapped(x: Tensor) -> Tensor:
            return mapping.get(x, x)

        for t in graph.tensors:
            if t.owner is None or t in inputs:
                continue
            root = group_of.get(t)
            if root is None:
                carry_over(t, mapped, rebuilt, mapping)
                continue
            if root is not t:
                continue  # built with its root
            new = self._fuse(root, groups[root], graph, mapped)
            new.name = t.name
            new.tag.update(t.tag)
            mapping[t] = new
            record.fired["fused_group"] += 1
            record.fired["fused_ops"] += len(groups[root])
        return graph.derived([mapped(o) for o in graph.outputs], mapping)

    @staticmethod
    def _materialized(t: Tensor, consumers, protected) -> bool:
        """Whether ``t`` is an array whatever fusion does: an output, or read by an op that is neither
        elementwise nor a fusable reduction.  Then a group reads it rather than recomputing it (which would
        keep its operands alive: a convolution's output read again for relu's gradient, say)."""
        return t in protected or any(not is_elementwise(c) and not _is_fusable_reduction(c) for c in consumers[t])

    @staticmethod
    def _recomputed_elsewhere(t: Tensor, others: set, group_of: dict, groups: dict) -> bool:
        """Whether every consumer of ``t`` in ``others`` lies in a group that computes ``t`` itself.

        (Groups are formed consumers first, so those are known.)  Then a
        reduction of ``t`` may own it: no kernel needs ``t`` as an array.
        """
        return all(c in group_of and t in groups[group_of[c]] for c in others)

    @staticmethod
    def _fuse(root: Tensor, members: set, graph: Graph, mapped) -> Tensor:
        reduce = None
        top = root
        if not is_elementwise(root):
            reduce = root.owner.op
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
        # the fused node names the layers of its members (in order)
        members = order + ([root] if reduce is not None else [])
        layers = list(dict.fromkeys(label for label in (provenance.of(t.owner) for t in members) if label))
        with provenance.origin(" + ".join(layers) if layers else None):
            return Fused(len(inputs), steps, reduce)(*[mapped(i) for i in inputs])
