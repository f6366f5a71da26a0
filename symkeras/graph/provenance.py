"""Provenance: which Keras layer (and which call of it) made a node.

``Layer.__call__`` opens ``origin(label)`` around ``call``; every node made
inside takes the label (``node.tag["layer"]``).  Rewrites build their new
nodes inside the origin of the node they replace, and gradients inside
``<label>/grad``, so the optimized graph, the generated source, the debug
report and run-time errors still name the layer: ``dense_2 / MatMul``.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

_state = threading.local()


def _stack() -> list:
    stack = getattr(_state, "stack", None)
    if stack is None:
        stack = _state.stack = []
    return stack


def current() -> str | None:
    """The label new nodes take now (None outside any layer call)."""
    stack = _stack()
    return stack[-1] if stack else None


@contextmanager
def origin(label: str | None):
    """Nodes made inside take ``label`` (None: keep the enclosing one)."""
    if label is None:
        yield
        return
    stack = _stack()
    stack.append(label)
    try:
        yield
    finally:
        stack.pop()


def layer_label(name: str, call_index: int) -> str:
    """``dense_2`` for a layer's first call, ``dense_2[1]`` for its second, ..."""
    return name if call_index == 0 else f"{name}[{call_index}]"


def of(node) -> str | None:
    """The label of ``node`` (None when no layer made it)."""
    return None if node is None else node.tag.get("layer")


def where(node) -> str:
    """``dense_2 / Einsum{ab,bc->ac}``: the layer (when known) and the op, for messages."""
    label = of(node)
    return f"{label} / {node.op}" if label else str(node.op)
