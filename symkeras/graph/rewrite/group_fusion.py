"""The ``group_fusion`` pass: elementwise groups of one static shape that feed one another become one op.

After fusion an optimizer's update of one parameter is still several groups:
Adam's new first and second moments, and the new parameter computed from
both (each an update value, so each its own array).  When a group ``P``
reads the results of groups ``Q`` of its own static shape that are outputs
(update values) and that nothing else reads, they become one FusedGroup
whose results are the ``Q``'s and ``P``'s: one kernel and
one loop instead of three, reading the gradient once.
"""

from __future__ import annotations

from collections import defaultdict

from symkeras.graph import provenance
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.fused import Fused, FusedGroup
from symkeras.graph.rewrite.core import Pass, PassRecord, carry_over


def _flat_group(t: Tensor) -> bool:
    """An elementwise group over one static shape: every array it reads has that shape (scalars aside)."""
    node = t.owner
    if node is None or not isinstance(node.op, Fused) or node.op.reduce is not None or len(node.outputs) != 1:
        return False
    if t.ndim == 0 or None in t.shape:
        return False
    return all(i.ndim == 0 or i.shape == t.shape for i in node.inputs)


class GroupFusion(Pass):
    name = "group_fusion"

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        readers: dict[Tensor, set] = defaultdict(set)
        for node in graph.nodes:
            for inp in node.inputs:
                readers[inp].add(node)
        protected = set(graph.inputs) | set(graph.effects)
        outputs = set(graph.outputs)
        groups: dict[Tensor, list[Tensor]] = {}  # P's output -> the Q outputs it absorbs
        absorbed: set[Tensor] = set()
        for t in graph.tensors:
            if not _flat_group(t):
                continue
            # (a Q read by P alone and not an output is fusion's to join: it made two groups for a reason,
            # its size bound say, and a group with one result is no FusedGroup)
            fed = [q for q in dict.fromkeys(t.owner.inputs)
                   if q not in absorbed and q not in groups and q not in protected and q in outputs
                   and _flat_group(q) and q.shape == t.shape and readers[q] == {t.owner}]
            if fed:
                groups[t] = fed
                absorbed.update(fed)
        if not groups:
            return graph
        mapping: dict[Tensor, Tensor] = {}
        rebuilt = {}

        def mapped(x: Tensor) -> Tensor:
            return mapping.get(x, x)

        for t in graph.tensors:
            if t.owner is None or t in graph.inputs or t in absorbed:
                continue
            if t not in groups:
                carry_over(t, mapped, rebuilt, mapping)
                continue
            fed = groups[t]
            op, inputs = _merged(fed, t)
            layers = list(dict.fromkeys(label for label in (provenance.of(x.owner) for x in (*fed, t)) if label))
            with provenance.origin(" + ".join(layers) if layers else None):
                results = op(*[mapped(i) for i in inputs])
            for old, new in zip([*fed, t], results):
                new.name = old.name
                new.tag.update(old.tag)
                mapping[old] = new
            record.fired["group_fusion"] += 1
            record.fired["groups_merged"] += len(fed)
        return graph.derived([mapped(o) for o in graph.outputs], mapping)


def _merged(fed: list[Tensor], top: Tensor) -> tuple[FusedGroup, list[Tensor]]:
    """The FusedGroup computing ``fed``'s groups then ``top``'s, with all their results; its inputs."""
    inputs: list[Tensor] = []
    index: dict[Tensor, int] = {}
    for group in (*fed, top):
        for i in group.owner.inputs:
            if i not in fed and i not in index:
                index[i] = len(inputs)
                inputs.append(i)
    steps: list[tuple] = []
    last: dict[Tensor, int] = {}  # a group's output -> its last step
    for group in (*fed, top):
        op = group.owner.op
        base = len(steps)

        def ref(r: int, node=group.owner, base=base, n=op.n_inputs) -> int:
            if r < n:
                source = node.inputs[r]
                return len(inputs) + last[source] if source in last else index[source]
            return len(inputs) + base + (r - n)

        for step_op, refs in op.program:
            steps.append((step_op, tuple(ref(r) for r in refs)))
        last[group] = len(steps) - 1
    results = [last[q] for q in fed] + [last[top]]
    return FusedGroup(len(inputs), steps, results), inputs
