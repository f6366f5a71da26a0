"""Kernels of elementwise ops, fused groups and reductions (all through the loop generator)."""

from __future__ import annotations

from symkeras.codegen.numba.loops import emit_flat_group, emit_program
from symkeras.codegen.numba.registry import kernel
from symkeras.graph import ops
from symkeras.graph.ops.fused import FusedGroup
from symkeras.graph.ops.reduce import All, Any, Max, Min, Prod, Sum


def _scalar_only(node) -> bool:
    """Work on 0-d values is a few instructions: it goes inline into the step."""
    return node.out.ndim == 0 and all(t.ndim == 0 for t in node.inputs)


@kernel(ops.Fused, inline=_scalar_only)
def fused(em, node):
    op = node.op
    emit_program(em, node.out, list(node.inputs), op.program, op.reduce)


@kernel(FusedGroup)
def fused_group(em, node):
    """Several results of one static shape: one flat loop writes them all (see group_fusion)."""
    op = node.op
    emit_flat_group(em, list(node.outputs), list(node.inputs), op.program, op.results)


@kernel(ops.Unary, ops.Binary, ops.Where, ops.FullLike, ops.BroadcastLike, inline=_scalar_only)
def elementwise(em, node):
    """A lone elementwise op is a one-step program."""
    n = len(node.inputs)
    emit_program(em, node.out, list(node.inputs), [(node.op, tuple(range(n)))])


@kernel(Sum, Prod, Max, Min, Any, All)
def reduction(em, node):
    op = node.op
    emit_program(em, node.out, list(node.inputs), [(ops.Identity(), (0,))], op)


@kernel(ops.Identity, ops.StopGradient, inline=True)
def identity(em, node):
    em.bind(node.out, em.name(node.inputs[0]))
    em.aliases.add(node.out)
    em.view_layout(node.out, node.inputs[0])


@kernel(ops.SumToLike)
def sum_to_like(em, node):
    """Sum g over its leading axes and over the axes where the reference has size 1 at run time."""
    g, ref = node.inputs
    out = em.name(node.out)
    lead = g.ndim - ref.ndim
    acc = "np.float64" if node.out.dtype in ("float16", "float32") else f"np.{node.out.dtype}"
    em.filled(out, em.dims(ref), "0", acc)
    loop = [f"i{d}" for d in range(g.ndim)]
    index = []
    for j in range(ref.ndim):
        if ref.shape[j] == 1:
            index.append("0")
        elif ref.shape[j] is not None:
            index.append(loop[lead + j])
        else:
            mult = em.fresh("m")
            em.line(f"{mult} = 0 if {em.dim(ref, j)} == 1 else 1")
            index.append(f"{loop[lead + j]} * {mult}")
    for d in range(g.ndim):
        em.open(f"for {loop[d]} in range({em.dim(g, d)}):")
    em.line(f"{out}[{', '.join(index) if index else '()'}] += {em.name(g)}[{', '.join(loop) if loop else '()'}]")
    em.close(g.ndim)
    em.line(f"{out} = {out}.astype(np.{node.out.dtype})")
