"""The ``conv_epilogue`` pass: a convolution read only by one elementwise group becomes one op with it.

After fusion a convolution layer's forward step is ``Fused{Add|Relu}(Conv(x, w), bias)``.
When the convolution's output is read by that group alone (references to its shape go to the new
op's output, of the same shape) and every other operand of
the group is a scalar or a per-channel vector, the two become ``ConvEpilogue``, whose
kernel applies the steps to each block of output while it is still in cache.
"""

from __future__ import annotations

from collections import Counter

from symkeras.graph import provenance
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.conv import Conv
from symkeras.graph.ops.conv_epilogue import ConvEpilogue
from symkeras.graph.ops.fused import Fused
from symkeras.graph.rewrite.core import Pass, PassRecord, carry_over

#: the dtypes a convolution kernel computes in (others compute in float32 and cast at the end)
EPILOGUE_DTYPES = ("float32", "float64")


def _per_channel(t: Tensor, out: Tensor) -> bool:
    """A scalar, or a tensor varying at most along ``out``'s last (channel) axis."""
    if t.ndim == 0:
        return True
    return t.ndim <= out.ndim and all(d == 1 for d in t.shape[:-1]) and t.shape[-1] in (1, out.shape[-1])


def _conv_operand(t: Tensor, readers: Counter, protected: set) -> int | None:
    """The position in ``t``'s group of a convolution it may absorb, or None."""
    op = t.owner.op
    if not isinstance(op, Fused) or op.reduce is not None or len(t.owner.outputs) != 1:
        return None
    for position, z in enumerate(t.owner.inputs):
        if z.owner is None or type(z.owner.op) is not Conv or z in protected or readers[z] != 1:
            continue
        if z.owner.op.groups != 1 or z.dtype not in EPILOGUE_DTYPES or t.dtype != z.dtype or z.shape[-1] is None:
            continue
        others = [o for o in t.owner.inputs if o is not z]
        if len(others) == len(t.owner.inputs) - 1 and all(_per_channel(o, z) for o in others):
            return position
    return None


class ConvEpilogueFusion(Pass):
    name = "conv_epilogue"

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        readers: Counter = Counter()  # nodes reading a tensor's values (a shape-only reference does not)
        for node in graph.nodes:
            shape_only = node.op.shape_from
            for inp in {inp for i, inp in enumerate(node.inputs) if i != shape_only}:
                readers[inp] += 1
        protected = set(graph.outputs) | set(graph.inputs) | set(graph.effects)
        mapping: dict[Tensor, Tensor] = {}
        rebuilt = {}

        def mapped(x: Tensor) -> Tensor:
            return mapping.get(x, x)

        for t in graph.tensors:
            if t.owner is None or t in graph.inputs:
                continue
            position = _conv_operand(t, readers, protected)
            if position is not None:
                group = t.owner
                conv_node = group.inputs[position].owner
                others = [mapped(o) for i, o in enumerate(group.inputs) if i != position]
                with provenance.origin(provenance.of(group)):
                    new = ConvEpilogue(conv_node.op, group.op, position)(*map(mapped, conv_node.inputs), *others)
                new.name = t.name
                new.tag.update(t.tag)
                mapping[t] = new
                mapping[group.inputs[position]] = new  # what is left of the convolution's readers wants its shape
                record.fired["conv_epilogue"] += 1
                continue
            carry_over(t, mapped, rebuilt, mapping)
        if not mapping:
            return graph
        return graph.derived([mapped(o) for o in graph.outputs], mapping)
