"""Rewrite machinery: passes over a Graph, a pipeline that runs them and records what fired.

A pass takes a Graph and returns a new Graph with the same inputs (nodes are
immutable, so a rewrite builds new nodes and the old ones become garbage).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from symkeras.graph import provenance
from symkeras.graph.basic import Node, Op, Tensor
from symkeras.graph.fgraph import Graph

#: a local rule maps a tensor to an equivalent tensor, or None when it does not apply
Rule = Callable[[Tensor], Tensor | None]


def rule(*op_types: type):
    """Register a local rule for the op types it matches (subclasses included).

    The rewrite engine then runs it only on nodes of those types; a rule
    registered for no type (``@rule()``) sees every node.
    """

    def mark(fn):
        fn.op_types = tuple(op_types) or (Op,)
        return fn

    return mark


class RuleTable:
    """Rules by the op types they were registered for (see ``rule``), looked up once per op class.

    A plain function that was not registered runs on every node.
    """

    def __init__(self, rules: Iterable[Rule]):
        self.rules = list(rules)
        self._by_class: dict[type, list[Rule]] = {}

    def for_op(self, op: Op) -> list[Rule]:
        cls = type(op)
        found = self._by_class.get(cls)
        if found is None:
            found = self._by_class[cls] = [r for r in self.rules if issubclass(cls, getattr(r, "op_types", Op))]
        return found


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


def carry_over(t: Tensor, mapped: Callable[[Tensor], Tensor], rebuilt: dict, mapping: dict) -> None:
    """A pass leaves ``t``'s node as it is: rebuild it on its mapped inputs (once per node, in ``rebuilt``)
    when any of them changed, and map ``t`` to the rebuilt node's output."""
    node = rebuilt.get(t.owner)
    if node is None:
        args = [mapped(i) for i in t.owner.inputs]
        changed = any(a is not b for a, b in zip(args, t.owner.inputs))
        node = rebuilt[t.owner] = t.owner.rebuilt(args) if changed else t.owner
    if node is not t.owner:
        mapping[t] = node.outputs[t.index]


def _same_meta(old: Tensor, new: Tensor) -> bool:
    return old.dtype == new.dtype and old.ndim == new.ndim and all(
        a is None or b is None or a == b for a, b in zip(old.shape, new.shape))


def rebuild(graph: Graph, rules: Iterable[Rule] = (), record: PassRecord | None = None,
            merge: bool = False) -> Graph:
    """Rebuild ``graph`` bottom-up, applying local ``rules`` to each new node.

    With ``merge`` equal nodes (same op, same inputs) and equal constants are
    shared: common-subexpression elimination.  Dead nodes disappear because
    only what the outputs need is rebuilt.  Nodes with side effects are
    rebuilt as they are: no rule runs on them and none is merged.  Nodes a
    rule makes take the provenance of the node they replace.
    """
    table = rules if isinstance(rules, RuleTable) else RuleTable(rules)
    mapping: dict[Tensor, Tensor] = {}
    rebuilt: dict[Node, Node] = {}
    seen_nodes: dict[tuple, Node] = {}
    seen_constants: dict[tuple, Tensor] = {}
    inputs = set(graph.inputs)

    def merged(node: Node) -> Node:
        if not merge or node.op.has_side_effects:
            return node
        kept = seen_nodes.setdefault((node.op, tuple(i.uid for i in node.inputs)), node)
        if kept is not node and record is not None:
            record.fired["merge_node"] += 1
        return kept

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
        old_node = t.owner
        node = rebuilt.get(old_node)
        if node is None:
            args = [mapping[i] for i in old_node.inputs]
            node = old_node if all(a is b for a, b in zip(args, old_node.inputs)) else old_node.rebuilt(args)
            node = rebuilt[old_node] = merged(node)
        new = node.outputs[t.index]
        if not old_node.op.has_side_effects:
            with provenance.origin(provenance.of(old_node)):
                new = _apply_rules(new, table, record)
            if new.owner is not None and new.owner is not node:
                new = merged(new.owner).outputs[new.index]
        mapping[t] = new
    return graph.derived([_keep_name(o, mapping[o]) for o in graph.outputs], mapping)


def _apply_rules(t: Tensor, table: RuleTable, record: PassRecord | None) -> Tensor:
    """``t`` after its rules, applied to a fixpoint."""
    for _ in range(20):
        if t.owner is None:
            return t
        for r in table.for_op(t.owner.op):
            result = r(t)
            if result is not None and result is not t:
                if not _same_meta(t, result):
                    raise AssertionError(f"rule {r.__name__} changed {t!r} into {result!r}")
                if record is not None:
                    record.fired[r.__name__] += 1
                t = result
                break
        else:
            return t
    return t


def _keep_name(old: Tensor, new: Tensor) -> Tensor:
    if new.name is None and old.name is not None and new.owner is not None:
        new.name = old.name
    return new


class LocalPass(Pass):
    """Local rules applied bottom-up, repeated until nothing fires."""

    def __init__(self, name: str, rules: Iterable[Rule], merge: bool = False, max_rounds: int = 10):
        self.name = name
        self.rules = RuleTable(rules)
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
