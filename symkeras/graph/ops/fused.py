"""Fused: a group of elementwise ops, optionally feeding one reduction, as a single op.

The op carries a scalar-expression DAG (``program``): each step applies an
elementwise op to earlier steps or to the fused op's inputs.  Backends turn
the program into one loop nest; the reference ``perform`` replays the steps
with NumPy, which is exactly the unfused semantics.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph.basic import OP_TYPES, Op, Tensor


class _Meta:
    """dtype/shape stand-in used to replay the steps' inference."""

    def __init__(self, dtype, shape):
        self.dtype, self.shape = dtype, tuple(shape)

    @property
    def ndim(self):
        return len(self.shape)


def _inferred_steps(op, inputs) -> list[_Meta]:
    """The inputs' and every step's (dtype, shape) of the fused ``op`` over tensors ``inputs``."""
    if len(inputs) != op.n_inputs:
        raise TypeError(f"{op} takes {op.n_inputs} inputs, got {len(inputs)}.")
    metas = [_Meta(t.dtype, t.shape) for t in inputs]
    for step, refs in op.program:
        metas.append(_Meta(*step.infer([metas[r] for r in refs])))
    return metas


def _performed_steps(program, inputs) -> list:
    """The inputs' and every step's values of ``program`` over arrays ``inputs`` (NumPy)."""
    values = list(inputs)
    metas = [_Meta(np.asarray(v).dtype.name, np.shape(v)) for v in inputs]
    for op, refs in program:
        dtype, _ = op.infer([metas[r] for r in refs])
        values.append(np.asarray(op.perform([values[r] for r in refs]), dtype=dtype))
        metas.append(_Meta(dtype, np.shape(values[-1])))
    return values


#: the reductions (by their ``reduction`` trait) a fused op may end with: one accumulator per output element
FUSABLE_REDUCTIONS = ("sum", "prod", "max", "min")


class Fused(Op):
    """Elementwise steps over ``n_inputs`` inputs; step refs < n_inputs name inputs.

    ``reduce`` is None or a reduction op (``Sum((1,), False)``, ...) applied
    to the last step; its ``reduction`` trait must be one of FUSABLE_REDUCTIONS.
    """

    __props__ = ("n_inputs", "program", "reduce")

    @property
    def in_place(self) -> bool:
        """An elementwise group writes each element from the same index; a reduction does not."""
        return self.reduce is None

    def __init__(self, n_inputs, program, reduce=None):
        self.n_inputs = int(n_inputs)
        self.program = tuple((op, tuple(int(r) for r in refs)) for op, refs in program)
        if reduce is not None and getattr(reduce, "reduction", None) not in FUSABLE_REDUCTIONS:
            raise ValueError(f"Fused cannot end with {reduce!r}: expected a reduction op of kind "
                             f"{', '.join(FUSABLE_REDUCTIONS)}.")
        self.reduce = reduce

    def __str__(self) -> str:
        names = "|".join(op.name for op, _ in self.program)
        if self.reduce is not None:
            names += f"->{self.reduce.name}{{axis={self.reduce.axis}}}"
        return f"Fused{{{names}}}"

    # semantics ---------------------------------------------------------------
    def infer(self, inputs):
        last = _inferred_steps(self, inputs)[-1]
        if self.reduce is not None:
            return self.reduce.infer([last])
        return last.dtype, last.shape

    def perform(self, inputs, rng=None):
        result = _performed_steps(self.program, inputs)[-1]
        if self.reduce is not None:
            result = self.reduce.perform([result])
        return result

    # gradient: differentiate the unfused expression ------------------------------
    def expand(self, inputs: list[Tensor]) -> Tensor:
        """The equivalent unfused graph over ``inputs``."""
        values = list(inputs)
        for op, refs in self.program:
            values.append(op(*[values[r] for r in refs]))
        result = values[-1]
        if self.reduce is not None:
            result = self.reduce(result)
        return result

    def grad(self, inputs, out, gz):
        from symkeras.graph.basic import placeholder
        from symkeras.graph.fgraph import clone_tensors
        from symkeras.graph.grad import gradients
        from symkeras.graph.ops.reduce import reduce_sum

        stand_ins = [placeholder(t.shape, dtype=t.dtype) for t in inputs]
        g = placeholder(gz.shape, dtype=gz.dtype)
        expanded = self.expand(stand_ins)
        wrt = [s for s in stand_ins if s.dtype.startswith("float")]
        grads = gradients(reduce_sum(expanded * g), wrt) if wrt else []
        mapping = clone_tensors(grads, {**dict(zip(stand_ins, inputs)), g: gz})
        by_input = dict(zip(wrt, (mapping[t] for t in grads)))
        return [by_input.get(s) for s in stand_ins]

    # inner graph ------------------------------------------------------------------
    def inner_graphs(self, inputs):
        """The unfused expression over stand-ins for the node's ``inputs`` (named in0, in1, ...)."""
        from symkeras.graph.basic import placeholder
        from symkeras.graph.fgraph import Graph

        stand_ins = [placeholder(t.shape, dtype=t.dtype, name=f"in{i}") for i, t in enumerate(inputs)]
        return [Graph(stand_ins, [self.expand(stand_ins)])]

    def with_inner_graphs(self, graphs):
        """The Fused op of a rewritten inner graph: elementwise nodes over the stand-ins only, optionally ending
        in a fusable reduction; None when the graph is no longer such (a constant appeared, say)."""
        (graph,) = graphs
        positions = {t: i for i, t in enumerate(graph.inputs)}
        if any(leaf not in positions for leaf in graph.leaves):
            return None
        nodes, reduce = list(graph.nodes), None
        (out,) = graph.outputs
        if out in positions:  # the expression is one of the inputs itself
            return Fused(self.n_inputs, [(OP_TYPES["Identity"](), (positions[out],))])
        reduced = None
        if nodes[-1].op.reduction is not None:
            reduced = nodes[-1].inputs[0]
            reduce = nodes.pop().op
        refs = dict(positions)
        program = []
        for node in nodes:
            if not node.op.elementwise or len(node.outputs) != 1:
                return None
            program.append((node.op, tuple(refs[i] for i in node.inputs)))
            refs[node.out] = self.n_inputs + len(program) - 1
        if reduced is not None and (not program or refs[reduced] != self.n_inputs + len(program) - 1):
            # the reduction reads an input, or a step before the last: append the identity of what it reads
            program.append((OP_TYPES["Identity"](), (refs[reduced],)))
        try:
            return Fused(self.n_inputs, program, reduce)
        except ValueError:
            return None

    # JSON ------------------------------------------------------------------------
    def to_attrs(self) -> dict:
        from symkeras.graph.printing import _jsonable

        program = [[op.name, {k: _jsonable(v) for k, v in op.to_attrs().items()}, list(refs)]
                   for op, refs in self.program]
        reduce = None if self.reduce is None else {
            "op": self.reduce.name, "attrs": {k: _jsonable(v) for k, v in self.reduce.to_attrs().items()}}
        return {"n_inputs": self.n_inputs, "program": program, "reduce": reduce}

    @classmethod
    def from_attrs(cls, attrs: dict) -> Fused:
        from symkeras.graph.printing import _tuples

        program = [(OP_TYPES[name].from_attrs({k: _tuples(v) for k, v in op_attrs.items()}), refs)
                   for name, op_attrs, refs in attrs["program"]]
        reduce = attrs["reduce"]
        if isinstance(reduce, dict):
            reduce = OP_TYPES[reduce["op"]].from_attrs({k: _tuples(v) for k, v in reduce["attrs"].items()})
        elif reduce is not None:  # JSON version 1: [class name, axis, keepdims]
            reduce = OP_TYPES[reduce[0]](tuple(reduce[1]), bool(reduce[2]))
        return cls(attrs["n_inputs"], program, reduce)


class FusedGroup(Op):
    """Elementwise steps over ``n_inputs`` inputs, as Fused's, with several results: the steps at ``results``.

    Made after differentiation from elementwise groups of one static shape
    that feed one another (an optimizer's new moments and the parameter
    computed from them, graph.rewrite.group_fusion): one loop computes them
    all, reading each input once.  It has no gradient of its own.
    """

    __props__ = ("n_inputs", "program", "results")
    in_place = True  # every result element is written from the input elements at its index
    differentiable = False  # (rewrites make it from the gradient graph)

    def __init__(self, n_inputs, program, results):
        self.n_inputs = int(n_inputs)
        self.program = tuple((op, tuple(int(r) for r in refs)) for op, refs in program)
        self.results = tuple(int(r) for r in results)
        if len(self.results) < 2 or any(not 0 <= r < len(self.program) for r in self.results):
            raise ValueError(f"FusedGroup needs two or more results among its {len(self.program)} steps, "
                             f"got {self.results}.")
        self.nout = len(self.results)

    def __str__(self) -> str:
        return f"FusedGroup{{{'|'.join(op.name for op, _ in self.program)}->{self.nout}}}"

    def infer(self, inputs):
        metas = _inferred_steps(self, inputs)
        return [(metas[self.n_inputs + r].dtype, metas[self.n_inputs + r].shape) for r in self.results]

    def perform(self, inputs, rng=None):
        values = _performed_steps(self.program, inputs)
        return tuple(values[self.n_inputs + r] for r in self.results)

    def vjp(self, inputs, outputs, output_grads):
        raise NotImplementedError(f"{self} is made after differentiation and has no gradient")

    def to_attrs(self) -> dict:
        attrs = Fused(self.n_inputs, self.program).to_attrs()
        del attrs["reduce"]
        return {**attrs, "results": list(self.results)}

    @classmethod
    def from_attrs(cls, attrs: dict) -> FusedGroup:
        fused = Fused.from_attrs({**attrs, "reduce": None})
        return cls(fused.n_inputs, fused.program, attrs["results"])
