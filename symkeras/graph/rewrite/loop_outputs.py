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
        used, read_inputs = _liveness(graph)
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
                if len(read_inputs[node]) < len(node.inputs):
                    op, args = _without_unread_inputs(op, args, read_inputs[node])
                    record.fired["dropped_unread_loop_inputs"] += len(node.inputs) - len(args)
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


def _liveness(graph: Graph):
    """The tensors something reads, and for each Loop the positions of the inputs its step reads once its
    unread per-step outputs are gone (visited last node first: a reverse loop that stops reading a saved
    value leaves the forward loop's per-step output unread, in the same pass)."""
    used = set(graph.outputs)
    read_inputs = {}
    for node in reversed(graph.nodes):
        if not isinstance(node.op, Loop):
            used.update(node.inputs)
            continue
        op = node.op
        wanted = [o for k, o in enumerate(op.step.outputs) if k < op.n_states or node.outputs[k] in used]
        step_reads = {i for n in Graph(op.step.inputs, wanted, allow_missing=True).nodes for i in n.inputs}
        step_reads.update(wanted)
        keep = [k for k, ph in enumerate(op.step.inputs) if ph in step_reads or op.n_sequences <= k <
                op.n_sequences + op.n_states]
        if not any(k < op.n_sequences for k in keep):
            keep.insert(0, 0)  # a loop's length comes from its sequences: one stays
        read_inputs[node] = keep
        used.update(node.inputs[k] for k in keep)
    return used, read_inputs


def _without_unread_inputs(op: Loop, args, keep):
    """``op`` and its arguments without the sequences and non-sequences its step does not read."""
    step = Graph([op.step.inputs[k] for k in keep], op.step.outputs, allow_missing=True)
    n_sequences = sum(1 for k in keep if k < op.n_sequences)
    return Loop(step, n_sequences, op.n_states, op.keep, op.backwards), [args[k] for k in keep]


class MergedLoopOutputs(UnusedLoopOutputs):
    """The same after the rewrites inside the loops, which make equal per-step outputs the same tensor."""

    name = "merged_loop_outputs"
    merge_equal = True
