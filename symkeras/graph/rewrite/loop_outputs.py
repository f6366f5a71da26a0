"""Per-step outputs of a Loop that nothing reads are dropped from its step graph.

K.rnn makes a step's recurrent products per-step outputs so that the gradient's reverse loop reads them
(ops/loop_grad.py); a graph without that gradient (predict, evaluate) would store them at every step for
nothing.  States are kept (they are what the loop carries).
"""

from __future__ import annotations

from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.loop import Loop
from symkeras.graph.rewrite.core import Pass, PassRecord


class UnusedLoopOutputs(Pass):
    name = "loop_outputs"

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        used = set(graph.outputs) | {i for node in graph.nodes for i in node.inputs}
        mapping = {}
        for node in graph.nodes:
            args = [mapping.get(i, i) for i in node.inputs]
            op, kept = node.op, list(range(len(node.outputs)))
            if isinstance(op, Loop):
                kept = [k for k, out in enumerate(node.outputs) if k < op.n_states or out in used]
                if len(kept) < len(node.outputs):
                    step = Graph(op.step.inputs, [op.step.outputs[k] for k in kept], allow_missing=True)
                    op = Loop(step, op.n_sequences, op.n_states, op.keep, op.backwards)
                    record.fired["dropped_unused_per_step_outputs"] += len(node.outputs) - len(kept)
            if op is node.op and all(a is b for a, b in zip(args, node.inputs)):
                continue
            new = op.make_node(*args)
            new.tag.update(node.tag)
            for position, k in enumerate(kept):
                old, out = node.outputs[k], new.outputs[position]
                out.name = old.name
                out.tag.update(old.tag)
                mapping[old] = out
        return graph.derived([mapping.get(o, o) for o in graph.outputs], mapping)
