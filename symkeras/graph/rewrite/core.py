"""Rewrite machinery: passes over a Graph, a pipeline that runs them and records what fired.

A pass takes a Graph and returns a new Graph with the same inputs (nodes are
immutable, so a rewrite builds new nodes and the old ones become garbage).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph

#: a local rule maps a tensor to an equivalent tensor, or None when it does not apply
Rule = Callable[[Tensor], Tensor | None]


@dataclass
class PassRecord:
    """What one pass did: how many times each of its rules fired, and the node counts."""

    name: str
    fired: Counter = field(default_factory=Counter)
    nodes_before: int = 0
    nodes_after: int = 0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.fired) or self.nodes_before != self.nodes_after

    def __str__(self) -> str:
        rules = ", ".join(f"{k} x{v}" for k, v in sorted(self.fired.items())) or "nothing fired"
        return f"{self.name}: {rules} ({self.nodes_before} -> {self.nodes_after} nodes)"


class Pass:
    """A named graph-to-graph transformation."""

    name = "pass"

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        raise NotImplementedError


def is_op(t: Tensor, *types) -> bool:
    """Whether ``t`` is computed by an op of one of ``types`` (the pattern test of every rule)."""
    return t.owner is not None and isinstance(t.owner.op, types)


def _same_meta(old: Tensor, new: Tensor) -> bool:
    return old.dtype == new.dtype and old.ndim == new.ndim and all(
        a is None or b is None or a == b for a, b in zip(old.shape, new.shape))


def rebuild(graph: Graph, rules: Iterable[Rule] = (), record: PassRecord | None = None,
            merge: bool = False) -> Graph:
    """Rebuild ``graph`` bottom-up, applying local ``rules`` to each new node.

    With ``merge`` equal nodes (same op, same inputs) and equal constants are
    shared: common-subexpression elimination.  Dead nodes disappear because
    only what the outputs need is rebuilt.
    """
    rules = list(rules)
    mapping: dict[Tensor, Tensor] = {}
    seen_nodes: dict[tuple, Tensor] = {}
    seen_constants: dict[tuple, Tensor] = {}
    inputs = set(graph.inputs)
    for t in graph.tensors:
        if t.owner is None or t in inputs:
            new = t
            if merge and t.kind == "constant":
                key = (t.dtype, t.shape, t.value.tobytes())
                new = seen_constants.setdefault(key, t)
                if new is not t and record is not None:
                    record.fired["merge_constant"] += 1
            mapping[t] = new
            continue
        args = [mapping[i] for i in t.owner.inputs]
        new = t if all(a is b for a, b in zip(args, t.owner.inputs)) else _apply(t, args)
        for _ in range(20):  # apply rules to a fixpoint on this node
            for rule in rules:
                result = rule(new)
                if result is not None and result is not new:
                    if not _same_meta(new, result):
                        raise AssertionError(f"rule {rule.__name__} changed {new!r} into {result!r}")
                    if record is not None:
                        record.fired[rule.__name__] += 1
                    new = result
                    break
            else:
                break
        if merge and new.owner is not None:
            key = (new.owner.op, tuple(i.uid for i in new.owner.inputs))
            kept = seen_nodes.setdefault(key, new)
            if kept is not new:
                if record is not None:
                    record.fired["merge_node"] += 1
                new = kept
        mapping[t] = new
    return Graph(graph.inputs, [_keep_name(o, mapping[o]) for o in graph.outputs], allow_missing=True)


def _apply(t: Tensor, args: list[Tensor]) -> Tensor:
    new = t.owner.op(*args)
    new.name = t.name
    new.tag.update(t.tag)
    return new


def _keep_name(old: Tensor, new: Tensor) -> Tensor:
    if new.name is None and old.name is not None and new.owner is not None:
        new.name = old.name
    return new


class LocalPass(Pass):
    """Local rules applied bottom-up, repeated until nothing fires."""

    def __init__(self, name: str, rules: Iterable[Rule], merge: bool = False, max_rounds: int = 10):
        self.name = name
        self.rules = list(rules)
        self.merge = merge
        self.max_rounds = max_rounds

    def run(self, graph: Graph, record: PassRecord) -> Graph:
        for _ in range(self.max_rounds):
            before = sum(record.fired.values())
            graph = rebuild(graph, self.rules, record, merge=self.merge)
            if sum(record.fired.values()) == before:
                break
        return graph


@dataclass
class Optimized:
    """The result of a pipeline: the new graph and what each pass did."""

    graph: Graph
    records: list[PassRecord]
    snapshots: list[tuple[str, Graph]]

    @property
    def fired(self) -> Counter:
        total: Counter = Counter()
        for r in self.records:
            total.update({f"{r.name}.{k}": v for k, v in r.fired.items()})
        return total

    def report(self) -> str:
        return "\n".join(str(r) for r in self.records)


class Pipeline:
    """Ordered, named passes; any can be switched off by name."""

    def __init__(self, passes: Iterable[Pass]):
        self.passes = list(passes)
        names = [p.name for p in self.passes]
        if len(set(names)) != len(names):
            raise ValueError(f"Pass names must be unique: {names}.")

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.passes]

    def run(self, graph: Graph, exclude: Iterable[str] = (), keep_snapshots: bool = False) -> Optimized:
        exclude = set(exclude)
        unknown = exclude - set(self.names)
        if unknown:
            raise ValueError(f"Unknown rewrite pass(es) {sorted(unknown)}; known: {self.names}.")
        records, snapshots = [], [("input", graph)] if keep_snapshots else []
        for p in self.passes:
            if p.name in exclude:
                continue
            record = PassRecord(p.name, nodes_before=len(graph.nodes))
            start = time.perf_counter()
            graph = p.run(graph, record)
            record.seconds = time.perf_counter() - start
            record.nodes_after = len(graph.nodes)
            records.append(record)
            if keep_snapshots:
                snapshots.append((p.name, graph))
        return Optimized(graph, records, snapshots)
