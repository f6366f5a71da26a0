"""The rewrite pipeline: small named passes in a fixed order, each switchable by name.

``optimize(graph)`` runs the default pipeline; ``optimize(graph, mode="none")``
runs nothing; ``exclude=("fusion",)`` skips passes by name.
"""

from __future__ import annotations

from collections.abc import Iterable

from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import algebra, folding, stability
from symkeras.graph.rewrite.core import LocalPass, Optimized, Pass, PassRecord, Pipeline, rebuild  # noqa: F401


class DeadCodeElimination(Pass):
    """Keep only what the outputs need (rebuilding drops everything else)."""

    name = "dce"

    def run(self, graph, record):
        return rebuild(graph, (), record)


def default_passes() -> list[Pass]:
    from symkeras.graph.rewrite.fusion import ElementwiseFusion

    return [
        DeadCodeElimination(),
        LocalPass("cse", (), merge=True),
        LocalPass("constant_folding", folding.RULES, merge=True),
        LocalPass("simplify", algebra.RULES + folding.RULES, merge=True),
        LocalPass("stability", stability.RULES, merge=True),
        LocalPass("simplify_again", algebra.RULES + folding.RULES, merge=True),
        ElementwiseFusion(),
    ]


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
    """Apply only the stability rewrites (used by gradients() before differentiating)."""
    graph = Graph(inputs, outputs, allow_missing=True)
    return rebuild(graph, stability.RULES).outputs
