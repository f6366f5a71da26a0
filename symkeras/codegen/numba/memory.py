"""In-place planning: which elementwise kernels may write into a buffer that is no longer needed.

Three cases, all decided from the schedule's liveness:
- a variable update computed elementwise writes straight into the variable
  when nothing reads the variable afterwards (no copy at the end of the step);
- an elementwise kernel reuses the buffer of an input that dies at that node;
- otherwise it reuses a buffer that an earlier elementwise kernel wrote and
  that nothing reads any more (same dtype and rank in both cases; the kernel
  checks the run-time shape and allocates otherwise).
Buffers that views share, leaves, outputs and update values are never reused.
The ops' traits decide: ``in_place`` kernels may write into a buffer,
``view_of`` results share their input's.
"""

from __future__ import annotations

from collections import defaultdict

from symkeras.graph.basic import Node, Tensor
from symkeras.graph.fgraph import Graph


def writes_elementwise(node: Node) -> bool:
    """The node's kernel writes each element of its one output from the same index (``in_place`` trait)."""
    return node.op.in_place and len(node.outputs) == 1


def _is_view(t: Tensor) -> bool:
    return t.owner is not None and t.owner.op.view_of is not None


def _may_fit(shape, out_shape) -> bool:
    """Whether a buffer of static ``shape`` can have the output's shape at run time."""
    return all(a is None or b is None or a == b for a, b in zip(shape, out_shape))


def plan_in_place(graph: Graph, outputs: list[Tensor], updates: list[tuple[Tensor, Tensor]]) -> dict:
    """Map node -> tensor whose buffer the node's kernel may write its result into (for a node with several
    results, a tuple of them: each result's variable, or None)."""
    uses: dict[Tensor, list[int]] = defaultdict(list)
    for i, node in enumerate(graph.nodes):
        for inp in set(node.inputs):
            uses[inp].append(i)
    kept = set(outputs) | {new for _, new in updates} | set(graph.inputs)
    viewed = {node.inputs[node.op.view_of] for node in graph.nodes if node.op.view_of is not None}
    target_of = {new: var for var, new in updates}
    in_variable: set[Tensor] = set()  # tensors whose buffer is a variable's
    plan: dict[Node, Tensor] = {}
    free: list[Tensor] = []  # buffers of elementwise results nothing reads any more, oldest first
    taken: set[Tensor] = set()
    dies_at: dict[int, list[Tensor]] = defaultdict(list)
    for node in graph.nodes:
        if writes_elementwise(node) and node.out.ndim > 0 and uses[node.out]:
            dies_at[max(uses[node.out])].append(node.out)

    def variable_for(out: Tensor, i: int) -> Tensor | None:
        var = target_of.get(out)
        if (var is not None and out not in outputs and var not in outputs and var not in viewed
                and var.shape == out.shape and var.dtype == out.dtype and all(j <= i for j in uses[var])):
            return var
        return None

    for i, node in enumerate(graph.nodes):
        if i > 0:
            free.extend(t for t in dies_at[i - 1]
                        if t not in taken and t not in kept and t not in viewed and t not in in_variable)
        if node.op.in_place and len(node.outputs) > 1:  # (a FusedGroup: its results into their variables)
            dests = tuple(variable_for(o, i) for o in node.outputs)
            if any(d is not None for d in dests):
                plan[node] = dests
                in_variable.update(o for o, d in zip(node.outputs, dests) if d is not None)
            continue
        if not writes_elementwise(node) or node.out.ndim == 0:
            continue
        out = node.out
        var = variable_for(out, i)
        if var is not None:
            plan[node] = var
            in_variable.add(out)
            continue
        for inp in node.inputs:
            if (inp.owner is None or inp in kept or inp in viewed or inp in in_variable
                    or _is_view(inp) or inp.dtype != out.dtype or inp.ndim != out.ndim
                    or max(uses[inp]) != i or not _may_fit(inp.shape, out.shape)):
                continue
            plan[node] = inp
            break
        else:
            for buffer in free:
                if buffer.dtype == out.dtype and buffer.ndim == out.ndim and _may_fit(buffer.shape, out.shape):
                    plan[node] = buffer
                    free.remove(buffer)
                    break
        if node in plan:
            taken.add(plan[node])
    return plan
