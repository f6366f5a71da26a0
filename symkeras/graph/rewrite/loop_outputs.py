"""Per-step outputs of a Loop that nothing reads are dropped from its step graph, and equal ones merged.

K.rnn makes a step's recurrent products per-step outputs so that the gradient's reverse loop reads them
(ops/loop_grad.py); a graph without that gradient (predict, evaluate) would store them at every step for
nothing.  States are kept (they are what the loop carries).  A reverse loop's step often returns one value
as two per-step outputs (the gates' gradient, read by the gradients of both weights) once the rewrites
inside it have merged their computations: ``merged_loop_outputs`` then stores it once.
"""

from __future__ import annotations

from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.loop import Loop
from symkeras.graph.rewrite.core import Pass, PassRecord


class UnusedLoopOutputs(Pass):
    name = "loop_outputs"
    merge_equal = False

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        used = set(graph.outputs) | {i for node in graph.nodes for i in node.inputs}
        mapping = {}
        for node in graph.nodes:
            args = [mapping.get(i, i) for i in node.inputs]
            op, kept = node.op, list(range(len(node.outputs)))
            same = {}
            if isinstance(op, Loop):
                kept = [k for k, out in enumerate(node.outputs) if k < op.n_states or out in used]
                if self.merge_equal:
                    first = {}
                    for k in kept[:]:
                        if k >= op.n_states:
                            j = first.setdefault(op.step.outputs[k], k)
                            if j != k:
                                same[k] = j
                                kept.remove(k)
                    if same:
                        record.fired["merged_equal_per_step_outputs"] += len(same)
                if len(kept) < len(node.outputs):
                    step = Graph(op.step.inputs, [op.step.outputs[k] for k in kept], allow_missing=True)
                    op = Loop(step, op.n_sequences, op.n_states, op.keep, op.backwards)
                    dropped = len(node.outputs) - len(kept) - len(same)
                    if dropped:
                        record.fired["dropped_unused_per_step_outputs"] += dropped
            if op is node.op and all(a is b for a, b in zip(args, node.inputs)):
                continue
            new = op.make_node(*args)
            new.tag.update(node.tag)
            for position, k in enumerate(kept):
                old, out = node.outputs[k], new.outputs[position]
                out.name = old.name
                out.tag.update(old.tag)
                mapping[old] = out
            for k, j in same.items():
                mapping[node.outputs[k]] = mapping[node.outputs[j]]
        return graph.derived([mapping.get(o, o) for o in graph.outputs], mapping)


class MergedLoopOutputs(UnusedLoopOutputs):
    """The same after the rewrites inside the loops, which make equal per-step outputs the same tensor."""

    name = "merged_loop_outputs"
    merge_equal = True
