"""Rewrites inside inner graphs: ops that carry graphs (a Fused op's program, a loop's step) get them optimized.

For each node whose op has inner graphs (``Op.inner_graphs``), the local
passes of the pipeline run on each inner graph; when anything changed, the
op is rebuilt around the new graphs (``Op.with_inner_graphs``; an op may
answer None when it cannot carry a rewritten graph, and is then kept).
Fusion runs inside only for ops that ask for it (``inner_fusion``, a Loop's step: its gate arithmetic
becomes a few fused kernels); a Fused op's program is already one unit of code.
"""

from __future__ import annotations

from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite.core import Pass, PassRecord, Pipeline


class InnerGraphRewrites(Pass):
    name = "inner_graphs"

    def __init__(self, inner_passes):
        #: builds the passes run on each inner graph (a function: passes are built fresh for every graph)
        self.inner_passes = inner_passes

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        mapping = {}
        inputs = set(graph.inputs)
        for node in graph.nodes:
            if any(o in inputs for o in node.outputs):
                continue
            args = [mapping.get(i, i) for i in node.inputs]
            op = self._rewritten(node, record)
            if op is node.op and all(a is b for a, b in zip(args, node.inputs)):
                continue
            new = op.make_node(*args)
            new.tag.update(node.tag)
            for old, out in zip(node.outputs, new.outputs):
                out.name = old.name
                out.tag.update(old.tag)
                mapping[old] = out
        return graph.derived([mapping.get(o, o) for o in graph.outputs], mapping)

    def _rewritten(self, node, record: PassRecord):
        inner = node.op.inner_graphs(list(node.inputs))
        if not inner:
            return node.op
        passes = self.inner_passes
        if getattr(node.op, "inner_fusion", False):
            from symkeras.graph.rewrite.fusion import ElementwiseFusion
            from symkeras.graph.rewrite.step_groups import StepGroupFusion

            def passes():
                return [*self.inner_passes(), ElementwiseFusion(), StepGroupFusion()]
        rewritten = [Pipeline(passes()).run(g).graph for g in inner]
        op = node.op.with_inner_graphs(rewritten)
        if op is None or op == node.op:
            return node.op
        record.fired[f"rewrote_inner_graph_of_{node.op.name}"] += 1
        return op
