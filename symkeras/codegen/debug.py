"""Debug mode: run the compiled graph node by node beside the reference and find the first bad node."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symkeras.graph import shapes
from symkeras.graph.printing import _Labeler, describe, format_tree


class NumericalError(ArithmeticError):
    """A node of a compiled function disagrees with the reference or produced NaN/Inf."""

    def __init__(self, report: DebugReport):
        super().__init__(report.message)
        self.report = report


@dataclass
class DebugReport:
    """The outcome of a debug run: the first bad node (or None) and where it sits in the dump."""

    ok: bool
    message: str
    node: object = None
    label: str | None = None
    dump: str = ""

    def __str__(self) -> str:
        return self.message


def _finite(a) -> bool:
    a = np.asarray(a)
    return a.dtype.kind != "f" or bool(np.all(np.isfinite(a)))


def debug_run(program, arrays, rtol=1e-4, atol=1e-5) -> DebugReport:
    """Compare every node of ``program``'s graph (rewritten, not fused) with the reference ``perform``.

    Each node's compiled output is checked against its op's reference
    ``perform`` applied to the compiled values of its inputs, so the report
    points at the node that went wrong, not at everything after it.
    """
    from symkeras.codegen.numba.program import trace_values
    from symkeras.graph.rewrite import optimize

    # every rewrite but fusion, so that each node is one op
    graph = optimize(program.unoptimized, exclude=("fusion",)).graph
    values = trace_values(program, graph, arrays)
    labeler = _Labeler()
    dump = format_tree(graph.outputs, labeler, stop=graph.inputs)
    for node in graph.nodes:
        got = values[node.out]
        args = [values[i] for i in node.inputs]
        with np.errstate(all="ignore"):
            want = np.asarray(node.op.perform(args, 0 if node.op.is_random else None), dtype=node.out.dtype)
        arg_shapes = ", ".join(shapes.fmt(np.shape(a)) for a in args)
        label = labeler(node.out)
        where = f"{describe(node.out, label)} (inputs of shapes {arg_shapes})"
        if np.shape(got) != want.shape:
            return DebugReport(False, f"shape {np.shape(got)} differs from the reference {want.shape} at {where}",
                               node, label, dump)
        if not _finite(got) and _finite(want):
            return DebugReport(False, f"NaN/Inf where the reference is finite at {where}", node, label, dump)
        if node.op.is_random:
            continue
        if want.dtype.kind == "f":
            close = np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
        else:
            close = np.array_equal(got, want)
        if not close:
            worst = np.nanmax(np.abs(np.asarray(got, dtype="float64") - want))
            return DebugReport(False, f"result differs from the reference (max abs error {worst:.3g}) at {where}",
                               node, label, dump)
        if not _finite(got):
            return DebugReport(False, f"NaN/Inf (also in the reference) at {where}", node, label, dump)
    return DebugReport(True, "every node agrees with the reference and is finite", None, None, dump)
