"""The program cache: a function's generated program found again from its graph, with no rewrite run.

A process building a model the cache has seen compiles nothing (the kernel cache), but it still rewrote
the graph and generated the step's and the kernels' modules: 0.3 s of B3's 0.7-0.9 s warm first step on
a 2-core EPYC.  That work depends on the graph's structure alone, so its result (the backend's payload:
for Numba the modules' texts and what the step takes) is kept beside the kernel cache, in
``symkeras_program_<key>.json``, under the key of the graph's canonical form (``canonical``):

- every leaf's kind, dtype and shape, which are fed (and where), the values of constants;
- every node's op (its class and attributes) and inputs by position, its outputs' dtypes and shapes;
- the outputs and the updates by position, the rewrite mode and excluded passes;
- what else the backend's code generation reads (``Backend.program_context``: versions, threads) and
  the text of symkeras's own modules, so that a change to the compiler is a new key.

Left out: names (layers, tensors, functions), which only comments hold (``Function.source`` is made
again when asked for), and the random ops' seeds, each replaced by the rank of its first occurrence
(which nodes share a seed stays in the key); the payload names seeds and leaves by rank and position,
and the graph at hand supplies them.  Graphs holding ops from outside symkeras, or an attribute with
no canonical form, are not cached.  An entry that does not parse or whose checksum does not match is
ignored and written again.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass, field

import numpy as np

from symkeras.codegen import cache
from symkeras.graph.basic import Op, Tensor
from symkeras.graph.fgraph import Graph

PREFIX = cache.PROGRAM_PREFIX
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Uncacheable(Exception):
    """The graph has no canonical form (an op or attribute from outside symkeras)."""


@dataclass
class Canonical:
    """A graph's canonical form: ``key``, and the graph's own objects the payload refers to by rank.

    Attributes:
        key: hash of the form and the context.
        leaves: the graph's leaves in order, then the updated variables that are not leaves.
        seeds: the random ops' seeds in order of first occurrence.
    """

    key: str
    leaves: list[Tensor] = field(default_factory=list)
    seeds: list[int] = field(default_factory=list)

    def leaf_positions(self) -> dict[Tensor, int]:
        return {t: i for i, t in enumerate(self.leaves)}

    def seed_ranks(self) -> dict[int, int]:
        return {seed: i for i, seed in enumerate(self.seeds)}


@functools.cache
def compiler_digest() -> str:
    """A hash of the text of every module of the symkeras package (read once per process)."""
    paths = []
    for root, dirs, files in os.walk(_PACKAGE):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        paths += [os.path.join(root, f) for f in sorted(files) if f.endswith(".py")]
    return cache.files_digest(paths)


def canonical(graph: Graph, fed, outputs, updates, options: str, context: str | None) -> Canonical | None:
    """The canonical form of a function's ``graph`` (see the module docstring), or None when it has none.

    Args:
        graph: the function's graph over ``fed``, with ``outputs`` and the updates' new values as outputs.
        fed: the function's inputs, in order.
        outputs: the function's outputs.
        updates: (variable, new value) pairs.
        options: what else the program depends on (the rewrite mode and excluded passes).
        context: the backend's ``program_context()``; None: the backend keeps no programs.
    """
    if context is None:
        return None
    form = _Form()
    try:
        text = form.function(graph, fed, outputs, updates)
    except Uncacheable:
        return None
    digest = hashlib.sha256("\n".join([context, compiler_digest(), options, text]).encode()).hexdigest()
    return Canonical(digest[:32], form.leaves, list(form.seeds))


class _Form:
    """Writes a graph's canonical text; collects its leaves and seeds."""

    def __init__(self):
        self.seeds: dict[int, int] = {}  # seed -> rank, in order of first occurrence
        self.leaves: list[Tensor] = []

    def function(self, graph: Graph, fed, outputs, updates) -> str:
        index: dict[Tensor, int] = {}
        lines = self.body(graph, fed, index, self.leaves)
        for var, _ in updates:
            if var not in index:
                index[var] = len(index)
                self.leaves.append(var)
                lines.append(self.leaf(var, None))
        # every input, read or not, is a parameter of the program
        lines.append("fed " + " ".join(str(index[t]) if t in index else f"unread:{t.kind}:{t.dtype}{_shape(t.shape)}"
                                       for t in fed))
        lines.append("outputs " + " ".join(str(index[t]) for t in outputs))
        lines.append("updates " + " ".join(f"{index[var]}:{index[new]}" for var, new in updates))
        return "\n".join(lines)

    def body(self, graph: Graph, fed, index: dict, leaves: list) -> list[str]:
        fed_at = {t: i for i, t in enumerate(fed)}
        lines = []
        for t in graph.leaves:
            index[t] = len(index)
            leaves.append(t)
            lines.append(self.leaf(t, fed_at.get(t)))
        for node in graph.nodes:
            inputs = " ".join(str(index[t]) for t in node.inputs)
            results = []
            for out in node.outputs:
                index[out] = len(index)
                results.append(f"{out.dtype}{_shape(out.shape)}")
            lines.append(f"{self.op(node.op)} ({inputs}) -> {' '.join(results)}")
        return lines

    def leaf(self, t: Tensor, fed_at: int | None) -> str:
        text = f"{t.kind} {t.dtype}{_shape(t.shape)} fed={fed_at}"
        if t.kind == "constant":
            text += " " + _array(t.value)
        elif t.kind == "placeholder" and t.default is not None:
            default = np.asarray(t.default)
            text += f" default={default.dtype}{default.shape}{default.flags.c_contiguous}"
        return text

    def op(self, op: Op) -> str:
        props = op.props()
        if op.is_random and "seed" in props:
            props["seed"] = self.seeds.setdefault(props["seed"], len(self.seeds))
        return f"{_class(type(op))}{{{', '.join(f'{k}={self.value(v)}' for k, v in props.items())}}}"

    def value(self, v) -> str:
        if v is None or isinstance(v, (bool, int, float, str, complex)):
            return f"{type(v).__name__}:{v!r}"
        if isinstance(v, (tuple, list)):
            return f"{type(v).__name__}[{', '.join(self.value(x) for x in v)}]"
        if isinstance(v, (set, frozenset)):
            return f"set[{', '.join(sorted(self.value(x) for x in v))}]"
        if isinstance(v, dict):
            return f"dict[{', '.join(sorted(f'{self.value(k)}: {self.value(x)}' for k, x in v.items()))}]"
        if isinstance(v, np.ndarray):
            return _array(v)
        if isinstance(v, (np.generic, np.dtype)):
            return f"{type(v).__name__}:{v!r}"
        if isinstance(v, Op):
            return self.op(v)
        if isinstance(v, Graph):
            inner: dict[Tensor, int] = {}
            lines = self.body(v, v.inputs, inner, [])
            lines.append("outputs " + " ".join(str(inner[t]) for t in v.outputs))
            return "graph[" + "; ".join(lines) + "]"
        if isinstance(v, type):
            return _class(v)
        raise Uncacheable(f"no canonical form for {type(v).__name__}")


def _class(obj) -> str:
    module = getattr(obj, "__module__", "") or ""
    if not module.startswith("symkeras."):
        raise Uncacheable(f"{obj!r} is not part of symkeras")
    return f"{module}.{obj.__qualname__}"


def _shape(shape) -> str:
    return "(" + ",".join("?" if s is None else str(s) for s in shape) + ")"


def _array(a) -> str:
    a = np.array(a, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
    return f"array:{a.dtype.str}{a.shape}:{hashlib.sha256(a.tobytes()).hexdigest()[:32]}"


# --- entries ------------------------------------------------------------------------------------------
def _path(key: str) -> str:
    return os.path.join(cache.cache_dir(), f"{PREFIX}{key}.json")


def _checksum(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def load(key: str):
    """The payload kept under ``key``, or None (none kept, or damaged: then it is removed)."""
    path = _path(key)
    try:
        with open(path, encoding="utf8") as fh:
            entry = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        entry = None
    if not isinstance(entry, dict) or entry.get("checksum") != _checksum(entry.get("payload")):
        try:
            os.remove(path)
        except OSError:
            pass
        return None
    cache.mark_used(path)
    return entry["payload"]


def store(key: str, payload) -> None:
    """Keep ``payload`` (JSON data) under ``key``; a read-only cache keeps nothing."""
    text = json.dumps({"checksum": _checksum(payload), "payload": payload}, sort_keys=True)
    try:
        cache.write_atomic(_path(key), text)
    except OSError:
        pass
