"""Kernels of the ops that show values while a step runs (graph/ops/debug.py)."""

from __future__ import annotations

from symkeras.codegen.numba.registry import kernel
from symkeras.graph.ops.debug import PrintTensor


@kernel(PrintTensor, inline=True)
def print_tensor(em, node):
    """In the step itself (``numba.objmode`` takes the GIL back to print through Python), then the input
    passes on as the output: the same array, so it keeps the input's layout and read-only flag."""
    (x,) = node.inputs
    em.table.step_imports.add("from symkeras.graph.ops.debug import show")
    em.open("with numba.objmode():")
    em.line(f"show({node.op.message!r}, {em.name(x)})")
    em.close()
    em.line(f"{em.name(node.out)} = {em.name(x)}")
    em.aliases.add(node.out)
    em.view_layout(node.out, x)
