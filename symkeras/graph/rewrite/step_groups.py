"""The ``step_groups`` pass: a loop step's elementwise groups of one run-time shape become one multi-output op.

After fusion a recurrent step is still several groups over one (samples,
units) block: an LSTM's cell state and its output, or in the reverse step
the four gate gradients and the cell state's gradient, each a kernel that
reads the same gate values again and repeats the arithmetic they share.
Run at every time step, each kernel call and each result allocation counts.
Here the groups of one run-time shape (dims.py: their None axes provably one
size) that can be computed together (no path from one to another through an
op outside them) become one FusedGroup: one loop over the block, the shared
steps computed once, and only the results read outside written out.
"""

from __future__ import annotations

from collections import defaultdict

from symkeras.graph import provenance
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.fused import Fused, FusedGroup
from symkeras.graph.rewrite.core import Pass, PassRecord, carry_over
from symkeras.graph.rewrite.dims import same_runtime_shape

#: at most this many steps in one merged program (after the shared ones are merged)
MAX_STEPS = 160


def _member(t: Tensor, memo: dict) -> bool:
    """An elementwise group with one result whose inputs are scalars or arrays of its own run-time shape."""
    node = t.owner
    if node is None or type(node.op) is not Fused or node.op.reduce is not None or t.ndim == 0:
        return False
    # (a one-element constant is a literal in the loop, whatever its rank)
    return all(i.ndim == 0 or (i.kind == "constant" and i.value.size == 1) or same_runtime_shape(i, t, memo)
               for i in node.inputs)


class StepGroupFusion(Pass):
    name = "step_groups"

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        memo: dict = {}
        readers: dict[Tensor, list] = defaultdict(list)
        for node in graph.nodes:
            for inp in node.inputs:
                readers[inp].append(node)
        clusters: list[list[Tensor]] = []
        for t in graph.tensors:
            if not _member(t, memo):
                continue
            for cluster in clusters:
                if cluster[0].dtype == t.dtype and same_runtime_shape(cluster[0], t, memo) \
                        and _may_join(cluster, t, readers) and _steps(cluster + [t]) <= MAX_STEPS:
                    cluster.append(t)
                    break
            else:
                clusters.append([t])
        outputs = set(graph.outputs)
        merged = {}
        for cluster in clusters:
            members = set(cluster)
            results = [m for m in cluster if m in outputs or any(r.outputs[0] not in members or len(r.outputs) > 1
                                                                 for r in readers[m])]
            if len(cluster) > 1 and len(results) > 1:
                for m in cluster:
                    merged[m] = (cluster, results)
        _break_cycles(graph, merged)
        if not merged:
            return graph
        mapping: dict[Tensor, Tensor] = {}
        rebuilt: dict = {}
        inputs = set(graph.inputs)

        def build(x: Tensor) -> Tensor:
            if x in mapping:
                return mapping[x]
            if x.owner is None or x in inputs:
                return x
            if x in merged:
                cluster, results = merged[x]
                op, group_inputs = _merged_program(cluster, results)
                layers = list(dict.fromkeys(label for label in (provenance.of(m.owner) for m in cluster) if label))
                args = [build(i) for i in group_inputs]
                with provenance.origin(" + ".join(layers) if layers else None):
                    new = op(*args)
                for old, out in zip(results, new):
                    out.name = old.name
                    out.tag.update(old.tag)
                    mapping[old] = out
                record.fired["step_groups"] += 1
                record.fired["groups_merged"] += len(cluster)
                return mapping[x]
            carry_over(x, build, rebuilt, mapping)
            return mapping.get(x, x)

        return graph.derived([build(o) for o in graph.outputs], mapping)


def _break_cycles(graph: Graph, merged: dict) -> None:
    """Leave out clusters until no two merged ops read each other's results: each cluster is acyclic with
    the graph on its own (``_may_join``), but a cluster of one shape may read another's member while that
    one reads one of its own."""
    while merged:
        def unit(t: Tensor):
            return id(merged[t][0]) if t in merged else t.owner

        edges: dict = defaultdict(set)
        indegree: dict = defaultdict(int)
        units = {unit(o) for node in graph.nodes for o in node.outputs}
        for node in graph.nodes:
            target = unit(node.outputs[0])
            for i in node.inputs:
                if i.owner is not None and unit(i) != target and target not in edges[unit(i)]:
                    edges[unit(i)].add(target)
                    indegree[target] += 1
        ready = [u for u in units if indegree[u] == 0]
        done = set()
        while ready:
            u = ready.pop()
            done.add(u)
            for v in edges[u]:
                indegree[v] -= 1
                if indegree[v] == 0:
                    ready.append(v)
        stuck = [t for t in merged if id(merged[t][0]) not in done]
        if not stuck:
            return
        cluster = merged[stuck[-1]][0]
        for m in cluster:
            del merged[m]


def _steps(cluster: list[Tensor]) -> int:
    """At most the steps their merged program has."""
    return sum(len(m.owner.op.program) for m in cluster)


def _may_join(cluster: list[Tensor], t: Tensor, readers) -> bool:
    """Whether ``t`` (later in topological order than the cluster) reads nothing computed from the cluster
    outside it: then one op can compute them all without a cycle."""
    members = set(cluster)
    downstream: set[Tensor] = set()
    frontier = [o for m in cluster for r in readers[m] for o in r.outputs if o not in members]
    while frontier:
        x = frontier.pop()
        if x in downstream:
            continue
        downstream.add(x)
        frontier.extend(o for r in readers[x] for o in r.outputs if o not in members)
    return not any(i in downstream for i in t.owner.inputs)


def _merged_program(cluster: list[Tensor], results: list[Tensor]) -> tuple[FusedGroup, list[Tensor]]:
    """The FusedGroup computing the ``cluster``'s groups in order (each may read those before it), equal
    steps once, with the ``results``' values as its results; and its inputs."""
    members = set(cluster)
    inputs: list[Tensor] = []
    index: dict[Tensor, int] = {}
    for m in cluster:
        for i in m.owner.inputs:
            if i not in members and i not in index:
                index[i] = len(inputs)
                inputs.append(i)
    steps: list[tuple] = []
    position: dict[tuple, int] = {}  # (op, refs) -> its step
    last: dict[Tensor, int] = {}  # a member -> the step computing it
    for m in cluster:
        op = m.owner.op
        local: list[int] = []  # this group's step k -> merged step
        for step_op, refs in op.program:
            merged_refs = tuple(
                (len(inputs) + last[m.owner.inputs[r]] if m.owner.inputs[r] in last else index[m.owner.inputs[r]])
                if r < op.n_inputs else len(inputs) + local[r - op.n_inputs] for r in refs)
            key = (step_op, merged_refs)
            if key not in position:
                position[key] = len(steps)
                steps.append(key)
            local.append(position[key])
        last[m] = local[-1]
    return FusedGroup(len(inputs), steps, [last[r] for r in results]), inputs
