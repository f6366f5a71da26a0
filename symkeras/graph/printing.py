"""Graph dumps: debugprint text (Theano style), DOT, and JSON that round-trips."""

from __future__ import annotations

import json
import sys

import numpy as np

from symkeras.graph import shapes
from symkeras.graph.basic import OP_TYPES, Tensor, constant, placeholder, variable
from symkeras.graph.fgraph import ancestors_dag

JSON_FORMAT = "symkeras-graph"
JSON_VERSION = 1


def _letters(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA ..."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _value_text(t: Tensor) -> str:
    if t.kind == "constant" and t.value.size <= 4:
        return " " + np.array2string(t.value, separator=", ")
    return ""


def describe(t: Tensor, label: str) -> str:
    """One line for a tensor: op (or leaf name), id, dtype, shape, name."""
    shape = shapes.fmt(t.shape)
    if t.owner is None:
        name = t.name or t.kind
        return f"{name} [id {label}] {t.kind} {t.dtype} {shape}{_value_text(t)}"
    text = f"{t.owner.op} [id {label}] {t.dtype} {shape}"
    if t.name:
        text += f" '{t.name}'"
    if "layer" in t.tag:
        text += f" <{t.tag['layer']}>"
    return text


class _Labeler:
    def __init__(self):
        self.labels: dict[Tensor, str] = {}

    def __call__(self, t: Tensor) -> str:
        if t not in self.labels:
            self.labels[t] = _letters(len(self.labels))
        return self.labels[t]


def format_tree(outputs, labeler: _Labeler | None = None, stop=()) -> str:
    """Text dump: one line per node, indented by depth; a shared node's inputs print once."""
    labeler = labeler or _Labeler()
    stop = set(stop)
    printed: set[Tensor] = set()
    lines: list[str] = []

    def walk(t: Tensor, depth: int):
        seen_before = t in printed
        line = " |" * depth + describe(t, labeler(t))
        expandable = t.owner is not None and t not in stop
        if seen_before and expandable:
            line += " (see above)"
        lines.append(line)
        if seen_before or not expandable:
            return
        printed.add(t)
        for inp in t.owner.inputs:
            walk(inp, depth + 1)

    for out in outputs:
        walk(out, 0)
    return "\n".join(lines)


def format_function(fn, optimized: bool | None = None) -> str:
    """Text dump of a Function: its outputs and updates, as compiled (optimized) or as built."""
    labeler = _Labeler()
    inputs = ", ".join(t.name or f"#{i}" for i, t in enumerate(fn.inputs)) or "none"
    use_optimized = fn.optimized_graph is not None if optimized is None else optimized
    graph = fn.optimized_graph if use_optimized and fn.optimized_graph is not None else fn.graph
    outputs = graph.outputs[: len(fn.outputs)]
    new_values = graph.outputs[len(fn.outputs):]
    stage = "after rewrites" if graph is not fn.graph else "as built"
    parts = [f"Function '{fn.name}' (inputs: {inputs}; {stage})", "Outputs:",
             format_tree(outputs, labeler, stop=fn.inputs)]
    if fn.updates:
        parts.append("Updates:")
        for (var, _), new in zip(fn.updates, new_values):
            parts.append(f"{var.name or 'variable'} [id {labeler(var)}] <-")
            parts.append(format_tree([new], labeler, stop=fn.inputs))
    return "\n".join(parts)


def debugprint(obj, file=None, optimized: bool | None = None) -> str:
    """Print the text dump of a tensor, a list of tensors or a Function; return it too.

    For a compiled Function the graph after rewrites is shown unless ``optimized=False``.
    """
    if hasattr(obj, "program") and hasattr(obj, "updates"):
        text = format_function(obj, optimized)
    else:
        text = format_tree([obj] if isinstance(obj, Tensor) else list(obj))
    print(text, file=file or sys.stdout)
    return text


# --- DOT ----------------------------------------------------------------------

def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(outputs, title: str = "graph") -> str:
    """Graphviz DOT text of the graph above ``outputs`` (built from its networkx view)."""
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    dag = ancestors_dag(outputs)
    ids = {uid: f"n{i}" for i, uid in enumerate(sorted(dag.nodes))}
    out_uids = {t.uid for t in outputs}
    lines = [f'digraph "{_dot_escape(title)}" {{', "  rankdir=BT;"]
    for uid in sorted(dag.nodes):
        t = dag.nodes[uid]["tensor"]
        meta = f"{t.dtype} {shapes.fmt(t.shape)}"
        if t.owner is None:
            head = f"{t.name or t.kind}\\n{t.kind}"
            shape = {"placeholder": "ellipse", "variable": "box3d", "constant": "note"}[t.kind]
        else:
            head = _dot_escape(str(t.owner.op)) + (f"\\n'{_dot_escape(t.name)}'" if t.name else "")
            shape = "box"
        style = ", style=bold" if uid in out_uids else ""
        lines.append(f'  {ids[uid]} [label="{head}\\n{meta}", shape={shape}{style}];')
    for uid in sorted(dag.nodes):
        t = dag.nodes[uid]["tensor"]
        if t.owner is None:
            continue
        for pos, inp in enumerate(t.owner.inputs):
            if inp.uid in dag:
                label = f' [label="{pos}"]' if len(t.owner.inputs) > 1 else ""
                lines.append(f"  {ids[inp.uid]} -> {ids[uid]}{label};")
    lines.append("}")
    return "\n".join(lines)


# --- JSON -----------------------------------------------------------------------

def _jsonable(value):
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _tuples(value):
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def to_json(outputs, include_values: bool = True) -> str:
    """JSON text of the graph: nodes (kind, dtype, shape, name, op and attributes), edges, outputs.

    Constants always carry their values; variables and placeholder defaults
    only with ``include_values``.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    dag = ancestors_dag(outputs)
    order = sorted(dag.nodes)
    ids = {uid: i for i, uid in enumerate(order)}
    nodes, edges = [], []
    for uid in order:
        t = dag.nodes[uid]["tensor"]
        entry = {"id": ids[uid], "kind": t.kind if t.owner is None else "apply",
                 "dtype": t.dtype, "shape": list(t.shape), "name": t.name}
        if t.owner is not None:
            entry["op"] = t.owner.op.name
            entry["attrs"] = {k: _jsonable(v) for k, v in t.owner.op.to_attrs().items()}
            for pos, inp in enumerate(t.owner.inputs):
                edges.append({"source": ids[inp.uid], "target": ids[uid], "input": pos})
        elif t.kind == "constant" or (include_values and t.kind == "variable"):
            entry["value"] = t.value.tolist()
        elif include_values and t.kind == "placeholder" and t.default is not None:
            entry["default"] = t.default.tolist()
        nodes.append(entry)
    doc = {"format": JSON_FORMAT, "version": JSON_VERSION, "nodes": nodes, "edges": edges,
           "outputs": [ids[t.uid] for t in outputs]}
    return json.dumps(doc, indent=1)


def from_json(text: str) -> list[Tensor]:
    """Rebuild a graph written by to_json; returns its output tensors."""
    doc = json.loads(text)
    if doc.get("format") != JSON_FORMAT:
        raise ValueError(f"Not a symkeras graph dump (format {doc.get('format')!r}).")
    inputs_of: dict[int, list] = {}
    for edge in doc["edges"]:
        inputs_of.setdefault(edge["target"], []).append((edge["input"], edge["source"]))
    built: dict[int, Tensor] = {}
    for entry in doc["nodes"]:
        kind, dtype, shape, name = entry["kind"], entry["dtype"], tuple(entry["shape"]), entry["name"]
        if kind == "placeholder":
            t = placeholder(shape, dtype=dtype, name=name, default=entry.get("default"))
        elif kind == "variable":
            value = entry.get("value")
            t = variable(np.zeros(shape) if value is None else value, dtype=dtype, name=name)
        elif kind == "constant":
            t = constant(np.array(entry["value"], dtype=dtype), dtype=dtype, name=name)
        else:
            op_type = OP_TYPES.get(entry["op"])
            if op_type is None:
                raise ValueError(f"Unknown op {entry['op']!r} in graph dump.")
            op = op_type.from_attrs({k: _tuples(v) for k, v in entry["attrs"].items()})
            args = [built[src] for _, src in sorted(inputs_of.get(entry["id"], []))]
            t = op(*args)
            t.name = name
            if t.dtype != dtype or t.shape != shape:
                raise ValueError(f"Node {entry['id']} ({entry['op']}) rebuilt as {t.dtype} "
                                 f"{shapes.fmt(t.shape)}, dump says {dtype} {shapes.fmt(shape)}.")
        built[entry["id"]] = t
    return [built[i] for i in doc["outputs"]]



