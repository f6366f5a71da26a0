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


def debug_run(program, graph, arrays, rtol=1e-4, atol=1e-5) -> DebugReport:
    """Compare every node of ``graph`` (a function's graph rewritten but not fused), as ``program``'s
    backend computes it, with the reference ``perform``.

    Each node's output is checked against its op's reference ``perform``
    applied to the backend's values of its inputs, so the report points at
    the node that went wrong (and the layer that made it), not at
    everything after it.
    """
    values = program.trace(graph, arrays)
    labeler = _Labeler()
    dump = format_tree(graph.outputs, labeler, stop=graph.inputs)
    for node in graph.nodes:
        args = [values[i] for i in node.inputs]
        with np.errstate(all="ignore"):
            expected = node.op.perform(args, 0 if node.op.is_random else None)
        expected = [expected] if len(node.outputs) == 1 else list(expected)
        report = _compare(node, values, args, expected, labeler, dump, rtol, atol)
        if report is not None:
            return report
    return DebugReport(True, "every node agrees with the reference and is finite", None, None, dump)


def _compare(node, values, args, expected, labeler, dump, rtol, atol) -> DebugReport | None:
    """The report for the first output of ``node`` that is wrong (None: all are right)."""
    arg_shapes = ", ".join(shapes.fmt(np.shape(a)) for a in args)
    for out, want in zip(node.outputs, expected):
        if out not in values:
            continue  # an output nothing in the graph uses
        got = values[out]
        want = np.asarray(want, dtype=out.dtype)
        label = labeler(out)
        where = f"{describe(out, label)} (inputs of shapes {arg_shapes})"
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
    return None
