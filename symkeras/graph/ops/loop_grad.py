"""The gradient of a Loop: a Loop running the other way over the gradient of its step (backpropagation
through time).

Going back from the last step, the reverse loop carries the gradient with
respect to the state before the step it is at and the sums of the
non-sequences' gradients.  At step t its step graph recomputes the forward
step from the inputs of step t (the state before it is a sequence built from
the forward loop's stacked states) and takes the gradient of

    sum(new_state * (carry + gradient flowing into the state after step t))
      + sum(per_step_output * its gradient)

with respect to the step's sequence slices, the state before it and the
non-sequences: the new carry, the step's share of the non-sequences'
gradients, and the gradients of the sequences at t.
"""

from __future__ import annotations

from symkeras.graph import dtypes
from symkeras.graph.basic import placeholder
from symkeras.graph.ops.broadcast import zeros_like
from symkeras.graph.ops.linalg import Einsum
from symkeras.graph.ops.loop import Loop, capture_step
from symkeras.graph.ops.reduce import reduce_sum
from symkeras.graph.ops.shape import concatenate, expand_dims
from symkeras.graph.rewrite.dims import link_sizes


def states_before_each_step(op: Loop, inits, after):
    """Per state, the value it has before each step, aligned with time: the initial value at the first step
    run, then the stacked values after the steps before."""
    before = []
    for init, seq in zip(inits, after):
        first = expand_dims(init, 0)
        before.append(concatenate([seq[1:], first], 0) if op.backwards else concatenate([first, seq[:-1]], 0))
    return before


def loop_vjp(op: Loop, inputs, outputs, output_grads):
    """One gradient (or None) per input of the Loop node ``inputs -> outputs`` (see the module docstring)."""
    from symkeras.graph.fgraph import clone_tensors
    from symkeras.graph.grad import gradients

    if all(g is None for g in output_grads):
        return [None] * len(inputs)
    nst = op.n_states
    seqs, inits, nonseqs = op.split(inputs)
    x_in, s_in, w_in = op.split(op.step.inputs)
    state_grads, out_grads = list(output_grads[:nst]), list(output_grads[nst:])
    after = outputs[:nst] if all(k == "all" for k in op.keep) else \
        op.with_keep(("all",) * nst).make_node(*inputs).outputs[:nst]
    before = states_before_each_step(op, inits, after)

    diff_x = [k for k, t in enumerate(seqs) if dtypes.is_float(t.dtype)]
    diff_s = [j for j, t in enumerate(inits) if dtypes.is_float(t.dtype)]
    diff_w = [k for k, t in enumerate(nonseqs) if dtypes.is_float(t.dtype)]
    # the new placeholders keep the sizes their originals are known to share (rewrite/dims.py)
    px = [link_sizes(placeholder(t.shape, dtype=t.dtype, name=f"x{k}"), t) for k, t in enumerate(x_in)]
    pbefore = [link_sizes(placeholder(t.shape, dtype=t.dtype, name=f"state{j}"), t) for j, t in enumerate(s_in)]
    pw = [link_sizes(placeholder(t.shape, dtype=t.dtype, name=f"w{k}"), t) for k, t in enumerate(w_in)]
    mapping = clone_tensors(op.step.outputs, dict(zip(op.step.inputs, px + pbefore + pw)))
    new_states = [mapping[o] for o in op.step.outputs[:nst]]
    step_outputs = [mapping[o] for o in op.step.outputs[nst:]]

    # sequences of the reverse loop: the forward step's inputs, then the gradients flowing in at each step
    sequences, slices = list(seqs) + before, px + pbefore
    flowing = {}
    for j in diff_s:
        if op.keep[j] == "all" and state_grads[j] is not None:
            flowing[j] = link_sizes(placeholder(s_in[j].shape, dtype=s_in[j].dtype, name=f"gstate{j}"), s_in[j])
            sequences.append(state_grads[j])
            slices.append(flowing[j])
    out_flowing = {}
    for m, g in enumerate(out_grads):
        if g is not None and dtypes.is_float(step_outputs[m].dtype):
            out_flowing[m] = link_sizes(placeholder(step_outputs[m].shape, dtype=step_outputs[m].dtype,
                                                    name=f"goutput{m}"), step_outputs[m])
            sequences.append(g)
            slices.append(out_flowing[m])
    carries = {j: link_sizes(placeholder(s_in[j].shape, dtype=s_in[j].dtype, name=f"carry{j}"), s_in[j])
               for j in diff_s}
    sums = {k: link_sizes(placeholder(w_in[k].shape, dtype=w_in[k].dtype, name=f"sum{k}"), w_in[k]) for k in diff_w}

    terms = []
    for j in diff_s:
        into = carries[j] + flowing[j] if j in flowing else carries[j]
        terms.append(reduce_sum(new_states[j] * into))
    terms += [reduce_sum(step_outputs[m] * g) for m, g in out_flowing.items()]
    if not terms:  # only integer states and outputs receive gradients
        return [None] * len(inputs)
    cost = terms[0]
    for term in terms[1:]:
        cost = cost + term
    wrt = [px[k] for k in diff_x] + [pbefore[j] for j in diff_s] + [pw[k] for k in diff_w]
    grads = gradients(cost, wrt)
    grads = _read_saved_values(op, mapping, outputs, after, grads, slices, sequences)
    split = len(diff_x) + len(diff_s)
    g_x, g_before, g_w = grads[:len(diff_x)], grads[len(diff_x):split], grads[split:]
    # a non-sequence's gradient that is one product of per-step values is summed over all steps by one
    # product after the loop (its operands leave the loop as sequences) instead of accumulated step by step
    per_step = list(g_x)
    contractions, accumulated = {}, []
    for k, g in zip(diff_w, g_w):
        operands = _per_step_contraction(g, slices)
        if operands is None:
            accumulated.append((k, g))
            continue
        positions = []
        for operand in operands:
            if operand in slices:
                positions.append(("sequence", slices.index(operand)))
            else:
                if not any(operand is p for p in per_step):
                    per_step.append(operand)
                positions.append(("output", next(i for i, p in enumerate(per_step) if p is operand)))
        contractions[k] = (g.owner.op, positions)
    state_inputs = [carries[j] for j in diff_s] + [sums[k] for k, _ in accumulated]
    step_outputs_rev = list(g_before) + [sums[k] + g for k, g in accumulated] + per_step
    step, captured = capture_step(slices + state_inputs + pw, step_outputs_rev, name="const")

    initial = []
    for j in diff_s:
        given = state_grads[j] if op.keep[j] == "last" else None
        initial.append(given if given is not None else zeros_like(inits[j]))
    initial += [zeros_like(nonseqs[k]) for k, _ in accumulated]
    reverse = Loop(step, len(sequences), len(state_inputs), ("last",) * len(state_inputs), not op.backwards)
    results = reverse.make_node(*sequences, *initial, *nonseqs, *captured).outputs
    stacked = results[len(state_inputs):]

    result = [None] * len(inputs)
    for pos, k in enumerate(diff_x):
        result[k] = stacked[pos]
    for pos, j in enumerate(diff_s):
        result[op.n_sequences + j] = results[pos]
    for pos, (k, _) in enumerate(accumulated):
        result[op.n_sequences + nst + k] = results[len(diff_s) + pos]
    for k, (einsum, positions) in contractions.items():
        seqs_of = [sequences[i] if where == "sequence" else stacked[i] for where, i in positions]
        time = next(c for c in "tTsSuUvVwWxXyYzZ" if c not in einsum.spec)
        summed = Einsum(f"{time}{einsum.a_idx},{time}{einsum.b_idx}->{einsum.out_idx}")(*seqs_of)
        result[op.n_sequences + nst + k] = summed
    return result


def _read_saved_values(op: Loop, mapping, outputs, after, grads, slices, sequences):
    """The gradients reading the forward loop's own results (its per-step outputs and states, stacked) where
    they use the recomputed ones: what only those need is not computed again in the reverse step (K.rnn
    makes the step's recurrent products per-step outputs for this).  Extends ``slices`` and ``sequences``."""
    from symkeras.graph.fgraph import clone_tensors, topological_tensors

    nst = op.n_states
    saved = {mapping[u]: outputs[nst + m] for m, u in enumerate(op.step.outputs[nst:])}
    saved.update((mapping[u], after[j]) for j, u in enumerate(op.step.outputs[:nst]))
    inner = set(slices)
    # the latest values first: a value only they are computed from (the product under the gates'
    # sigmoids) is then no longer read, and stays out of the reverse loop
    order = {t: k for k, t in enumerate(topological_tensors(grads, stop=inner))}
    for clone in sorted((c for c in saved if c in order), key=lambda c: -order[c]):
        if clone in inner or clone.owner is None or clone not in set(topological_tensors(grads, stop=inner)):
            continue
        stand_in = link_sizes(placeholder(clone.shape, dtype=clone.dtype, name="saved"), clone)
        slices.append(stand_in)
        sequences.append(saved[clone])
        inner.add(stand_in)
        remap = clone_tensors(grads, {clone: stand_in}, stop=inner)
        grads = [remap.get(g, g) for g in grads]
    return grads


def _per_step_contraction(g, slices):
    """The two operands of ``g`` when it is one Einsum of values that change with each step (slices of the
    reverse loop's sequences, or tensors computed in its step), else None."""
    if g.owner is None or not isinstance(g.owner.op, Einsum):
        return None
    a, b = g.owner.inputs
    inner = set(slices)

    def varies(t):
        from symkeras.graph.fgraph import topological_tensors

        return t in inner or any(x in inner for x in topological_tensors([t], stop=inner))
    return (a, b) if varies(a) and varies(b) else None
