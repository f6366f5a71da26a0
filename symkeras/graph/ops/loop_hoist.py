"""Hoisting a loop's time-parallel work: what a step computes from its sequence slices alone (no state) is
computed once over the whole sequences, before the loop, and enters it as new sequences.

The input projection of a recurrent cell, ``x_t W + b`` (and a dropout mask applied to ``x_t``), becomes one
``(T * samples, features) x (features, units)`` product instead of T small ones, and its gradients (with
respect to the inputs and to W) are products over all steps too, outside the reverse loop.

A node moves when its op can run on a leading time axis unchanged: an elementwise op whose per-step inputs
have the output's rank (NumPy broadcasting then keeps the time axis in front), or a contraction (Einsum),
which gets a time index on its per-step operands and its output.
"""

from __future__ import annotations

from symkeras.graph.basic import Tensor, placeholder
from symkeras.graph.fgraph import clone_tensors, topological_tensors
from symkeras.graph.ops.linalg import Einsum
from symkeras.graph.rewrite.dims import link_sizes


def _over_time(node, sequence_of: dict) -> Tensor | None:
    """``node`` applied to the whole sequences of its per-step inputs (None when its op cannot be)."""
    op = node.op
    if len(node.outputs) != 1:
        return None
    per_step = [i in sequence_of for i in node.inputs]
    if op.elementwise:
        rank = node.out.ndim
        for inp, stepped in zip(node.inputs, per_step):
            if (stepped and inp.ndim != rank) or (not stepped and inp.ndim > rank):
                return None
        return op(*[sequence_of[i] if s else i for i, s in zip(node.inputs, per_step)])
    if isinstance(op, Einsum):
        time = next(c for c in "tTsSuUvVwWxXyYzZ" if c not in op.spec)
        a_idx = time + op.a_idx if per_step[0] else op.a_idx
        b_idx = time + op.b_idx if per_step[1] else op.b_idx
        a, b = (sequence_of[i] if s else i for i, s in zip(node.inputs, per_step))
        return Einsum(f"{a_idx},{b_idx}->{time}{op.out_idx}")(a, b)
    return None


def hoist_sequence_work(slices: list[Tensor], sequences: list[Tensor], states: list[Tensor],
                        outputs: list[Tensor]):
    """Move the state-free work of a step out of its loop.

    Args:
        slices: the step's placeholders for one time step of each sequence.
        sequences: the sequences (time first) those slices come from.
        states: the step's placeholders for its states.
        outputs: the step's outputs, over ``slices``, ``states`` and outer tensors.

    Returns:
        (slices, sequences, outputs): the slices the step still reads (hoisted results among them, each a
        new placeholder with its sequence computed before the loop; at least one), their sequences, and
        the outputs rebuilt over them.
    """
    inner = set(slices) | set(states)
    order = topological_tensors(outputs, stop=inner)
    stateful, per_step = set(states), set(slices)
    for t in order:
        if t.owner is None or t in inner:
            continue
        if any(i in stateful for i in t.owner.inputs):
            stateful.add(t)
        elif any(i in per_step for i in t.owner.inputs):
            per_step.add(t)
    sequence_of = dict(zip(slices, sequences))
    for t in order:
        if t in per_step and t.owner is not None and t not in inner and t.owner.outputs[0] is t:
            over_time = _over_time(t.owner, sequence_of)
            if over_time is not None:
                sequence_of[t] = over_time
    hoisted = [t for t in sequence_of if t not in slices]
    if not hoisted:
        return list(slices), list(sequences), list(outputs)
    # the hoisted tensors the step still reads: used by a node that stays, or an output
    users = {}
    for t in order:
        if t.owner is not None and t not in inner and t not in sequence_of:
            for i in t.owner.inputs:
                users.setdefault(i, True)
    needed = [t for t in hoisted if t in users or any(t is o for o in outputs)]
    stand_ins = {t: link_sizes(placeholder(t.shape, dtype=t.dtype, name=f"{t.name or 'hoisted'}_t"), t)
                 for t in needed}
    mapping = clone_tensors(outputs, stand_ins, stop=inner)
    new_outputs = [mapping.get(o, o) for o in outputs]
    read = set(topological_tensors(new_outputs, stop=inner | set(stand_ins.values())))
    kept = [(s, q) for s, q in zip(slices, sequences) if s in read]
    kept += [(stand_ins[t], sequence_of[t]) for t in needed]
    if not kept:  # nothing reads a slice any more: the loop still needs one sequence for its length
        kept = [(slices[0], sequences[0])]
    return [s for s, _ in kept], [q for _, q in kept], new_outputs
