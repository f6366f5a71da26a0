"""Loop: a step graph applied along the leading (time) axis of its sequences, carrying states (Theano's scan).

A Loop node's inputs are its sequences (each ``(T, ...)``), the initial
values of its states and its non-sequences (weights and anything else the
step reads but does not iterate over).  The step graph takes one slice of
each sequence, the current value of each state and the non-sequences, and
gives the new value of each state, then any number of per-step outputs.

The node's outputs are, per state, its values after every step stacked
``(T, ...)`` (``keep`` "all") or its final value ("last"), then the
per-step outputs stacked ``(T, ...)``.  Stacked values are aligned with the
sequences: ``backwards`` runs t = T-1 down to 0 and still writes step t's
values at index t.

The gradient is another Loop running the other way (backpropagation through
time): its step is the gradient of this step's graph, its states the
gradient flowing into the previous state and the sums of the non-sequences'
gradients; so gradients of recurrent models are graphs like any other.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import shapes
from symkeras.graph.basic import Op, Tensor, placeholder

KEEP = ("all", "last")
#: constants up to this many elements may stay inside a step graph (the backends write them into the loop);
#: larger ones become non-sequence inputs
SMALL_CONSTANT = 16


def is_small_constant(t: Tensor) -> bool:
    return t.owner is None and t.kind == "constant" and t.value.size <= SMALL_CONSTANT


class Loop(Op):
    """Run ``step`` (a Graph) over the leading axis of the first ``n_sequences`` inputs.

    Args:
        step: its inputs are one slice per sequence, one value per state, then one per non-sequence; its
            outputs the new value of each state, then the per-step outputs.  Its leaves besides its inputs
            may only be small constants (``capture_step`` makes such a graph from any expression).
        n_sequences: how many of the node's first inputs are iterated over (at least one).
        n_states: how many inputs after the sequences are initial states.
        keep: per state, "all" (output its value after every step, stacked) or "last" (its final value).
        backwards: run from the last time step to the first.

    Raises:
        ValueError: a step graph that draws random numbers or reads other leaves, a bad ``keep``.
    """

    __props__ = ("step", "n_sequences", "n_states", "keep", "backwards")
    #: the rewrites fuse the step's elementwise work (see rewrite/inner.py)
    inner_fusion = True

    def __init__(self, step, n_sequences: int, n_states: int, keep=None, backwards: bool = False):
        self.step = step
        self.n_sequences = int(n_sequences)
        self.n_states = int(n_states)
        self.keep = tuple(keep) if keep is not None else ("all",) * self.n_states
        self.backwards = bool(backwards)
        if self.n_sequences < 1:
            raise ValueError("A Loop needs at least one sequence (it gives the number of time steps).")
        if len(self.keep) != self.n_states or any(k not in KEEP for k in self.keep):
            raise ValueError(f"keep must give 'all' or 'last' for each of the {self.n_states} states; "
                             f"got {self.keep!r}.")
        if len(step.outputs) < self.n_states:
            raise ValueError(f"The step graph has {len(step.outputs)} outputs, fewer than its {self.n_states} "
                             "states.")
        inputs = set(step.inputs)
        for leaf in step.leaves:
            if leaf not in inputs and not is_small_constant(leaf):
                raise ValueError(f"A loop's step graph may read only its inputs and small constants; it reads "
                                 f"{leaf!r} (make it a non-sequence input: capture_step does).")
        for node in step.nodes:
            if node.op.is_random or node.op.has_side_effects:
                raise ValueError(f"A loop's step graph cannot hold {node.op} (random draws and side effects "
                                 "belong outside the loop: draw dropout masks before it, as Keras does).")
        self.nout = len(step.outputs)

    @property
    def n_outputs(self) -> int:
        """Per-step outputs (after the states)."""
        return len(self.step.outputs) - self.n_states

    def __str__(self) -> str:
        keep = "" if all(k == "all" for k in self.keep) else f", keep={','.join(self.keep)}"
        way = ", backwards" if self.backwards else ""
        return (f"Loop{{sequences={self.n_sequences}, states={self.n_states}, outputs={self.n_outputs}"
                f"{keep}{way}}}")

    def split(self, items):
        """(sequences, initial states, non-sequences) of a node's inputs (or of the step's inputs)."""
        items = list(items)
        s, k = self.n_sequences, self.n_sequences + self.n_states
        return items[:s], items[s:k], items[k:]

    # semantics ----------------------------------------------------------------------
    def infer(self, inputs):
        if len(inputs) != len(self.step.inputs):
            raise TypeError(f"{self} takes {len(self.step.inputs)} inputs, got {len(inputs)}.")
        seqs, inits, _ = self.split(inputs)
        steps = None
        for k, seq in enumerate(seqs):
            if seq.ndim < 1:
                raise ValueError(f"{self}: sequence {k} is a scalar; a sequence has a leading time axis.")
            if seq.shape[0] is not None:
                if steps is not None and steps != seq.shape[0]:
                    raise ValueError(f"{self}: the sequences have {steps} and {seq.shape[0]} time steps.")
                steps = seq.shape[0]
        for k, (outer, inner) in enumerate(zip(inputs, self.step.inputs)):
            want = outer.shape[1:] if k < self.n_sequences else outer.shape
            if outer.dtype != inner.dtype or len(want) != inner.ndim or not shapes.compatible(inner.shape, want):
                what = "a slice of" if k < self.n_sequences else ""
                raise ValueError(f"{self}: input {k} is {what} {outer.dtype} {shapes.fmt(want)}, but the step "
                                 f"takes {inner.dtype} {shapes.fmt(inner.shape)}.")
        types = []
        for j, (init, new) in enumerate(zip(inits, self.step.outputs)):
            if new.dtype != init.dtype or new.ndim != init.ndim:
                raise ValueError(f"{self}: state {j} starts as {init.dtype} {shapes.fmt(init.shape)} but the step "
                                 f"makes it {new.dtype} {shapes.fmt(new.shape)}.")
            shape = tuple(a if a is not None else b for a, b in zip(init.shape, new.shape))
            types.append((init.dtype, (steps, *shape) if self.keep[j] == "all" else shape))
        for out in self.step.outputs[self.n_states:]:
            types.append((out.dtype, (steps, *out.shape)))
        return types[0] if self.nout == 1 else types

    def perform(self, inputs, rng=None):
        seqs, inits, nonseqs = self.split(inputs)
        steps = np.shape(seqs[0])[0]
        for k, seq in enumerate(seqs):
            if np.shape(seq)[0] != steps:
                raise ValueError(f"{self}: sequence {k} has {np.shape(seq)[0]} time steps, sequence 0 has {steps}.")
        if steps == 0:
            raise ValueError(f"{self}: the sequences have no time steps.")
        states = [np.asarray(v) for v in inits]
        stacked = [[None] * steps for _ in self.step.outputs]
        order = range(steps - 1, -1, -1) if self.backwards else range(steps)
        for t in order:
            results = run_step(self.step, [s[t] for s in seqs] + states + list(nonseqs))
            states = results[:self.n_states]
            for k, value in enumerate(results):
                stacked[k][t] = value
        outputs = []
        for j in range(self.n_states):
            outputs.append(np.stack(stacked[j]) if self.keep[j] == "all" else states[j])
        outputs.extend(np.stack(values) for values in stacked[self.n_states:])
        return outputs[0] if self.nout == 1 else tuple(outputs)

    def vjp(self, inputs, outputs, output_grads):
        from symkeras.graph.ops.loop_grad import loop_vjp

        return loop_vjp(self, list(inputs), list(outputs), output_grads)

    def size_source(self, inputs, out, axis):
        """Stacked outputs have the sequences' number of steps; a state has its initial value's sizes; a
        per-step output's axis has the size of the node input its step-graph root comes from."""
        from symkeras.graph.rewrite.dims import dim_root

        k = out.index
        stacked = k >= self.n_states or self.keep[k] == "all"
        if stacked and axis == 0:
            return 0, 0
        inner_axis = axis - 1 if stacked else axis
        if k < self.n_states:
            return self.n_sequences + k, inner_axis
        root = dim_root(self.step.outputs[k], inner_axis)
        for position, inner in enumerate(self.step.inputs):
            if inner is root[0]:
                return (position, root[1] + 1) if position < self.n_sequences else (position, root[1])
        # a step-graph placeholder tagged with the size of an outer tensor (rewrite/dims.py): an input with it
        for position, outer in enumerate(inputs):
            for a in range(outer.ndim):
                if outer.shape[a] is None and dim_root(outer, a) == root:
                    return position, a
        # the tagged tensor may be gone from the graph (a rewrite replaced it): a step input tagged with the same
        # size stands for the node input in its position
        for position, inner in enumerate(self.step.inputs):
            for a, linked in inner.tag.get("size_of", {}).items():
                if linked == root:
                    return (position, a + 1) if position < self.n_sequences else (position, a)
        return None

    # inner graph --------------------------------------------------------------------
    def inner_graphs(self, inputs):
        return [self.step]

    def with_inner_graphs(self, graphs):
        (graph,) = graphs
        try:
            return Loop(graph, self.n_sequences, self.n_states, self.keep, self.backwards)
        except ValueError:  # a rewrite left a leaf a step may not hold (a large folded constant)
            return None

    def with_keep(self, keep) -> Loop:
        return Loop(self.step, self.n_sequences, self.n_states, keep, self.backwards)

    # JSON -----------------------------------------------------------------------------
    def to_attrs(self) -> dict:
        from symkeras.graph.printing import to_json

        return {"step": to_json(list(self.step.inputs) + list(self.step.outputs)), "n_inputs": len(self.step.inputs),
                "n_sequences": self.n_sequences, "n_states": self.n_states, "keep": list(self.keep),
                "backwards": self.backwards}

    @classmethod
    def from_attrs(cls, attrs: dict) -> Loop:
        from symkeras.graph.fgraph import Graph
        from symkeras.graph.printing import from_json

        tensors = from_json(attrs["step"])
        n = int(attrs["n_inputs"])
        return cls(Graph(tensors[:n], tensors[n:]), attrs["n_sequences"], attrs["n_states"], attrs["keep"],
                   attrs["backwards"])


def run_step(step, values: list) -> list[np.ndarray]:
    """The step graph's outputs for its inputs' ``values``, with each op's NumPy ``perform``."""
    env = dict(zip(step.inputs, values))
    for leaf in step.leaves:
        if leaf not in env:
            env[leaf] = leaf.value
    for node in step.nodes:
        result = node.op.perform([env[i] for i in node.inputs])
        results = [result] if len(node.outputs) == 1 else list(result)
        for out, value in zip(node.outputs, results):
            env[out] = np.asarray(value, dtype=out.dtype)
    return [np.array(env[o], copy=True) for o in step.outputs]


def capture_step(inputs: list[Tensor], outputs: list[Tensor], name: str = "captured"):
    """A step graph over ``inputs`` computing ``outputs``, with whatever else the expression reads made inputs.

    Every tensor the outputs need that does not depend on ``inputs`` (weights, constants, tensors computed
    before the loop) becomes a non-sequence: the largest such subexpressions are taken, so work that does
    not change over time stays outside the loop.  Small constants stay inside.

    Returns:
        (graph, captured): the Graph (its inputs: ``inputs``, then one new placeholder per captured tensor)
        and the captured outer tensors, in the order of those placeholders.
    """
    from symkeras.graph.fgraph import Graph, clone_tensors, topological_tensors

    inner = set(inputs)
    order = topological_tensors(outputs, stop=inner)
    dependent = set(inner)
    for t in order:
        if t.owner is not None and t not in inner and any(i in dependent for i in t.owner.inputs):
            dependent.add(t)
    captured: list[Tensor] = []
    folded: dict[Tensor, Tensor | None] = {}

    def take(t: Tensor) -> None:
        if t not in dependent and t not in captured and not is_small_constant(t) \
                and _small_constant_value(t, folded) is None:
            captured.append(t)

    for t in order:
        if t in dependent and t.owner is not None and t not in inner:
            for i in t.owner.inputs:
                take(i)
    for out in outputs:
        take(out)
    from symkeras.graph.rewrite.dims import link_sizes

    stand_ins = [link_sizes(placeholder(t.shape, dtype=t.dtype, name=f"{name}{k}"), t) for k, t in enumerate(captured)]
    # (small expressions of constants, a gradient's ones say, are kept in as the constants they are)
    constants = {t: c for t, c in folded.items() if c is not None and t.owner is not None}
    mapping = clone_tensors(outputs, {**constants, **dict(zip(captured, stand_ins))},
                            stop=inner | set(captured) | set(constants))
    return Graph(list(inputs) + stand_ins, [mapping.get(o, o) for o in outputs]), captured


def _small_constant_value(t: Tensor, memo: dict) -> Tensor | None:
    """``t`` as a small constant when it is computed from small constants alone (None otherwise)."""
    from symkeras.graph.basic import constant

    if t in memo:
        return memo[t]
    memo[t] = None
    node = t.owner
    if node is None:
        memo[t] = t if is_small_constant(t) else None
        return memo[t]
    size = shapes.size(t.shape)
    if node.op.is_random or node.op.has_side_effects or size is None or size > SMALL_CONSTANT \
            or len(node.outputs) != 1:
        return None
    values = [_small_constant_value(i, memo) for i in node.inputs]
    if any(v is None for v in values):
        return None
    value = np.asarray(node.op.perform([v.value for v in values]), dtype=t.dtype)
    memo[t] = constant(value, dtype=t.dtype)
    return memo[t]
