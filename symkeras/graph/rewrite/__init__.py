"""The rewrite pipeline: small named passes in a fixed order, each switchable by name.

``optimize(graph)`` runs the default pipeline; ``optimize(graph, mode="none")``
runs nothing; ``exclude=("fusion",)`` skips passes by name.
"""

from __future__ import annotations

from collections.abc import Iterable

from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import algebra, folding, stability
from symkeras.graph.rewrite.core import (  # noqa: F401
    LocalPass,
    Optimized,
    Pass,
    PassRecord,
    Pipeline,
    RuleTable,
    rebuild,
    rule,
)
from symkeras.graph.rewrite.inner import InnerGraphRewrites


class DeadCodeElimination(Pass):
    """Keep only what the outputs need (rebuilding drops everything else)."""

    name = "dce"

    def run(self, graph, record):
        return rebuild(graph, (), record)


def _local_passes() -> list[Pass]:
    return [
        LocalPass("cse", (), merge=True),
        LocalPass("constant_folding", folding.RULES, merge=True),
        LocalPass("simplify", algebra.RULES + folding.RULES, merge=True),
        LocalPass("stability", stability.RULES, merge=True),
        LocalPass("simplify_again", algebra.RULES + folding.RULES, merge=True),
        LocalPass("slice_gradients", [algebra.sum_of_slice_gradients], merge=True),
    ]


def inner_passes() -> list[Pass]:
    """The passes run inside inner graphs: the local rewrites (no fusion), inner graphs of their own first."""
    return [InnerGraphRewrites(inner_passes), *_local_passes()]


def default_passes() -> list[Pass]:
    """The pipeline: dead code, loops' unread per-step outputs, inner graphs (built before any rewrite), the
    local rewrites, loops' equal per-step outputs (after the SumToLikes their sizes remove), fusion,
    convolutions with the elementwise steps that alone read them, then groups of one shape that feed one
    another (an optimizer's update)."""
    from symkeras.graph.rewrite.epilogue import ConvEpilogueFusion
    from symkeras.graph.rewrite.fusion import ElementwiseFusion
    from symkeras.graph.rewrite.group_fusion import GroupFusion
    from symkeras.graph.rewrite.loop_outputs import MergedLoopOutputs, UnusedLoopOutputs

    return [DeadCodeElimination(), UnusedLoopOutputs(), InnerGraphRewrites(inner_passes), *_local_passes(),
            MergedLoopOutputs(), ElementwiseFusion(), ConvEpilogueFusion(), GroupFusion()]


def default_pipeline() -> Pipeline:
    return Pipeline(default_passes())


MODES = ("fast_run", "none")


def optimize(graph: Graph, mode: str = "fast_run", exclude: Iterable[str] = (),
             keep_snapshots: bool = False) -> Optimized:
    """Run the rewrite pipeline on ``graph``; returns the new graph and what fired."""
    if mode not in MODES:
        raise ValueError(f"Unknown optimization mode {mode!r}; expected one of {MODES}.")
    if mode == "none":
        return Optimized(graph, [], [("input", graph)] if keep_snapshots else [])
    return default_pipeline().run(graph, exclude=exclude, keep_snapshots=keep_snapshots)


def stabilize(outputs: list, inputs: list) -> list:
    """Apply only the stability rewrites to the graph computing ``outputs``."""
    graph = Graph(inputs, outputs, allow_missing=True)
    return rebuild(graph, stability.RULES).outputs


def stabilized_cost(cost, wrt) -> object:
    """``cost`` rewritten with the numerical-stability rules, before it is differentiated.

    The gradient of the rewritten cost is the stable one (the cross-entropy
    of a softmax becomes a log_softmax, whose gradient is ``softmax - target``
    instead of a division by a rounded probability).  The rewrite rebuilds
    nodes, so the cost is returned unchanged when a tensor in ``wrt`` is
    computed inside the graph (it would not be part of the rebuilt one).
    """
    from symkeras.graph.fgraph import topological_tensors

    if any(w.owner is not None for w in wrt):
        return cost
    leaves = [t for t in topological_tensors([cost]) if t.owner is None]
    return stabilize([cost], leaves)[0]
