"""The Loop op in the Numba backend: a kernel of its own running ``for t in range(T)`` over its step graph.

The step graph's nodes are emitted inside the loop like the step's own
(kernels called through their addresses, which the loop kernel receives in
the step's ``fns``; views and BLAS calls inline), so no Python runs per
time step, and the step function stays small: each loop is compiled on its
own (in parallel with the rest, cached, shared by the layers with the same
code).  Sequence slices are views; states are carried in local variables;
stacked outputs are allocated once, before the loop (per-step outputs at
the first step, when their shape is known).
"""

from __future__ import annotations

import re

import numpy as np

from symkeras.codegen.numba.registry import kernel
from symkeras.graph import ops

FRESH = ("C", False)


@kernel(ops.Loop)
def loop(em, node):
    from symkeras.codegen.numba.linker import emit_node

    op = node.op
    step = op.step
    seqs, inits, nonseqs = op.split(node.inputs)
    x_in, s_in, w_in = op.split(step.inputs)
    # the op, not its layer: layer names in the kernel's text would keep equal loops of two layers (or two
    # models) from sharing one compiled kernel
    where = str(op)
    steps = em.fresh("steps")
    # (read at run time: loops over sequences of different lengths share one kernel)
    em.line(f"{steps} = {em.shared_dim(seqs[0], 0)}")
    for seq in seqs[1:]:
        em.line(f"if {em.shared_dim(seq, 0)} != {steps}:")
        em.line(f"    raise ValueError({f'{where}: its sequences differ in their number of time steps'!r})")
    em.line(f"if {steps} == 0:")
    em.line(f"    raise ValueError({f'{where}: the sequences have no time steps'!r})")
    _bind_constants(em, step)
    states = []
    for init in inits:
        state = em.fresh("state")
        em.line(f"{state} = {em.name(init)}.copy()")
        states.append(state)
    nst = op.n_states
    for j, init in enumerate(inits):
        if op.keep[j] == "all":
            em.line(f"{em.name(node.outputs[j])} = np.empty(({steps},) + {states[j]}.shape, np.{init.dtype})")
    for out in node.outputs[nst:]:
        # allocated at the first step, when the per-step shape is known
        em.line(f"{em.name(out)} = np.empty({(1,) * out.ndim}, np.{out.dtype})")
    # a matrix the step reads only transposed (the reverse step's dz U^T) is transposed once, before the
    # loop: BLAS multiplies by a C-ordered operand faster (a (64, 128) x (128, 32) product 5 us against
    # 7-8 us for the transposed view)
    transposed_views = {}
    for w_ph, w in zip(w_in, nonseqs):
        if _read_transposed(step, w_ph) and em.layout_of(w) is not None:
            transposed, view = em.fresh("transposed"), em.fresh("view")
            em.line(f"{transposed} = np.ascontiguousarray({em.name(w)}.T)")
            em.line(f"{view} = {transposed}.T")
            transposed_views[w_ph] = view
    t = em.fresh("time")
    first = f"{steps} - 1" if op.backwards else "0"
    em.open(f"for {t} in range({steps} - 1, -1, -1):" if op.backwards else f"for {t} in range({steps}):")
    for x_ph, seq in zip(x_in, seqs):
        em.line(f"{em.name(x_ph)} = {em.name(seq)}[{t}]")
        em.layouts[x_ph] = em.layout_of(seq)
    for s_ph, state in zip(s_in, states):
        em.bind(s_ph, state)
        em.layouts[s_ph] = FRESH
    for w_ph, w in zip(w_in, nonseqs):
        if w_ph in transposed_views:
            em.bind(w_ph, transposed_views[w_ph])
            em.layouts[w_ph] = ("F", False)
            continue
        em.bind(w_ph, em.name(w))
        em.layouts[w_ph] = em.layout_of(w)
    stacked = _stacked_outputs(node)
    written = set()  # the stacked outputs a kernel wrote at [t] itself
    for inner_node in step.nodes:
        emit_node(em, inner_node, _stacked_dests(em, node, inner_node, stacked, steps, t, first, written))
    for j, new in enumerate(step.outputs[:nst]):
        if op.keep[j] == "all" and j not in written:
            _store(em, em.name(node.outputs[j]), t, em.name(new), new.ndim)
    for k, (out, new) in enumerate(zip(node.outputs[nst:], step.outputs[nst:]), start=nst):
        if k in written:
            continue
        em.line(f"if {t} == {first}:")
        em.line(f"    {em.name(out)} = np.empty(({steps},) + {em.name(new)}.shape, np.{out.dtype})")
        _store(em, em.name(out), t, em.name(new), new.ndim)
    for state, new in zip(states, step.outputs[:nst]):
        fresh = new.owner is not None and new.owner.op.view_of is None and em.layout_of(new) == FRESH
        em.line(f"{state} = {em.name(new)}" + ("" if fresh else ".copy()"))
    em.close()
    for j in range(nst):
        if op.keep[j] == "last":
            em.line(f"{em.name(node.outputs[j])} = {states[j]}")
    em.target.takes_fns = True
    _declare_function_types(em)


def _stacked_outputs(node) -> dict:
    """The loop's outputs stacked over time (states kept at every step, per-step outputs), by index, to
    the step value each holds at [t] (the first output of a value stored twice)."""
    op = node.op
    stacked = {}
    for k, new in enumerate(op.step.outputs):
        if (k >= op.n_states or op.keep[k] == "all") and new.owner is not None and new not in stacked.values():
            stacked[k] = new
    return stacked


def _stacked_dests(em, node, inner_node, stacked: dict, steps: str, t: str, first: str,
                   written: set) -> tuple | None:
    """Where a step node with several elementwise results (a FusedGroup) writes the ones stacked over time:
    straight into ``out[t]`` (no result allocated and copied per time step; their indices go into
    ``written``), or None.  A per-step output is allocated before the node at the first step, in the shape
    of the group's results (its inputs')."""
    op = node.op
    if not (inner_node.op.in_place and len(inner_node.outputs) > 1):
        return None
    by_value = {new: k for k, new in stacked.items()}
    dests = []
    like = next((i for i in inner_node.inputs if i.shape == inner_node.outputs[0].shape), None)
    for o in inner_node.outputs:
        k = by_value.get(o)
        if k is None or like is None or o.dtype != node.outputs[k].dtype:
            dests.append(None)
            continue
        out = em.name(node.outputs[k])
        if k >= op.n_states:
            em.line(f"if {t} == {first}:")
            em.line(f"    {out} = np.empty(({steps},) + {em.name(like)}.shape, np.{o.dtype})")
        dests.append(f"{out}[{t}]")
        written.add(k)
    return tuple(dests) if any(d is not None for d in dests) else None


def _read_transposed(step, w_ph) -> bool:
    """Whether every use of the step input ``w_ph`` is as the transposed matrix of a 2-D matrix product."""
    from symkeras.codegen.numba.kernels_linalg import _roles

    users = [n for n in step.nodes if w_ph in n.inputs]
    if w_ph.ndim != 2 or not users:
        return False
    for n in users:
        if not isinstance(n.op, ops.Einsum) or list(n.inputs).count(w_ph) != 1:
            return False
        batch, a_free, contracted, b_free = _roles(n.op)
        order, idx = (a_free + contracted, n.op.a_idx) if n.inputs[0] is w_ph else (contracted + b_free, n.op.b_idx)
        if batch or len(order) != 2 or list(idx) != order[::-1]:
            return False
    return True


def _declare_function_types(em) -> None:
    """The function types (``FN<slot>``) of the kernels the loop calls, in its module's preamble, and the
    imports of those it calls through their dispatchers (an argument's layout unknown before typing)."""
    from symkeras.codegen.numba.linker import called_slots, import_by_name

    text = "\n".join(em.lines)
    for text_of, name in em.table.kernels.items():
        if text_of in em.table.called_by_name and re.search(rf"\b{name}\(", text):
            line = import_by_name(text_of, name)
            if line not in em.target.preamble:
                em.target.preamble.append(line)
    by_slot = {slot: key for key, slot in em.table.functions.items()}
    used = sorted(called_slots(em.lines))
    for slot in used:
        arg_types, result = by_slot[slot][1:3]
        line = f"FN{slot} = function_type({list(arg_types)!r}, {result!r})"
        if line not in em.target.preamble:
            em.target.preamble.append(line)


def _bind_constants(em, step) -> None:
    """The small constants of the step graph, as arrays made before the loop."""
    inputs = set(step.inputs)
    for leaf in step.leaves:
        if leaf in inputs:
            continue
        value = np.asarray(leaf.value)
        items = ", ".join(_literal(v) for v in value.ravel().tolist())
        em.line(f"{em.name(leaf)} = np.array([{items}], np.{leaf.dtype}).reshape({em.tuple_of(map(str, value.shape))})")
        em.layouts[leaf] = FRESH


def _literal(v) -> str:
    if isinstance(v, float) and not np.isfinite(v):
        return "np.nan" if np.isnan(v) else ("np.inf" if v > 0 else "-np.inf")
    return repr(v)


def _store(em, target: str, t: str, src: str, ndim: int) -> None:
    """``target[t] = src`` as loops (slice assignment is slow to compile)."""
    loop = [em.fresh("j") for _ in range(ndim)]
    for k, j in enumerate(loop):
        em.open(f"for {j} in range({src}.shape[{k}]):")
    em.line(f"{target}[{', '.join([t, *loop])}] = {src}[{', '.join(loop) or '()'}]")
    em.close(ndim)
