"""Kernels of the collective ops (graph/ops/collective.py): an allreduce inside the compiled step."""

from __future__ import annotations

from symkeras.codegen.numba.emitter import c_reshape
from symkeras.codegen.numba.registry import kernel
from symkeras.graph.ops.collective import Allreduce


@kernel(Allreduce, inline=True)
def allreduce(em, node):
    """The inputs copied into one fused buffer, which ``numba.objmode`` hands to MPI (through Python, with
    the GIL: one call a step, the buffer shared, not copied); each result is a view of its part."""
    op = node.op
    em.table.step_imports.add("from symkeras.distributed.collectives import allreduce_in_place")
    fused, offset = em.fresh("fused"), em.fresh("offset")
    total = " + ".join(f"{em.name(x)}.size" for x in node.inputs)
    em.line(f"{fused} = np.empty({total}, np.{node.inputs[0].dtype})")
    em.line(f"{offset} = 0")
    for x, out in zip(node.inputs, node.outputs):
        part = em.fresh("part")
        em.line(f"{part} = {fused}[{offset}:{offset} + {em.name(x)}.size]")
        em.line(f"{em.name(out)} = {c_reshape(part, em.tuple_of(em.shared_dims(x)))}")
        em.copy_into(em.name(out), em.name(x), x.ndim)
        em.line(f"{offset} += {em.name(x)}.size")
    em.open("with numba.objmode():")
    em.line(f"allreduce_in_place({fused}, {op.reduction == 'average'}, {op.compression == 'fp16'})")
    em.close()
