"""Graph dumps: debugprint text (Theano style), DOT, and JSON that round-trips."""

from __future__ import annotations

import json
import sys

import numpy as np

from symkeras.graph import provenance, shapes
from symkeras.graph.basic import OP_TYPES, Tensor, constant, placeholder, variable
from symkeras.graph.fgraph import ancestors_dag, topological_tensors

JSON_FORMAT = "symkeras-graph"
#: version 2: nodes with several outputs ("node"/"output" keys), provenance ("layer"), Fused reductions as ops
JSON_VERSION = 2


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


def op_text(t: Tensor) -> str:
    """The op computing ``t``; ``Op.1`` for the second output of a node with several."""
    op = str(t.owner.op)
    return f"{op}.{t.index}" if len(t.owner.outputs) > 1 else op


def describe(t: Tensor, label: str) -> str:
    """One line for a tensor: op (or leaf name), id, dtype, shape, name, and the layer that made it."""
    shape = shapes.fmt(t.shape)
    if t.owner is None:
        name = t.name or t.kind
        return f"{name} [id {label}] {t.kind} {t.dtype} {shape}{_value_text(t)}"
    text = f"{op_text(t)} [id {label}] {t.dtype} {shape}"
    if t.name:
        text += f" '{t.name}'"
    layer = provenance.of(t.owner)
    if layer:
        text += f" <{layer}>"
    return text


class _Labeler:
    def __init__(self):
        self.labels: dict[Tensor, str] = {}

    def __call__(self, t: Tensor) -> str:
        if t not in self.labels:
            self.labels[t] = _letters(len(self.labels))
        return self.labels[t]


def format_tree(outputs, labeler: _Labeler | None = None, stop=(), prefix: str = "") -> str:
    """Text dump: one line per node, indented by depth; a shared node's inputs print once.

    A node carrying inner graphs (a Fused op's program, a loop's step) shows
    them after its inputs, indented and marked ``>``.
    """
    labeler = labeler or _Labeler()
    stop = set(stop)
    printed: set = set()  # nodes whose inputs were printed
    lines: list[str] = []

    def walk(t: Tensor, depth: int):
        node = t.owner
        expandable = node is not None and t not in stop
        seen_before = expandable and node in printed
        line = prefix + " |" * depth + describe(t, labeler(t))
        if seen_before:
            line += " (see above)"
        lines.append(line)
        if seen_before or not expandable:
            return
        printed.add(node)
        for inp in node.inputs:
            walk(inp, depth + 1)
        for inner in node.op.inner_graphs(list(node.inputs)):
            lines.append(format_tree(inner.outputs, labeler, stop=inner.inputs,
                                     prefix=prefix + " |" * depth + " >"))

    for out in outputs:
        walk(out, 0)
    return "\n".join(lines)


def format_function(fn, optimized: bool | None = None) -> str:
    """Text dump of a Function: its outputs and updates, as compiled (optimized) or as built."""
    labeler = _Labeler()
    inputs = ", ".join(t.name or f"#{i}" for i, t in enumerate(fn.inputs)) or "none"
    graph = fn.graph if optimized is False else fn.optimized_graph
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
            head = _dot_escape(op_text(t)) + (f"\\n'{_dot_escape(t.name)}'" if t.name else "")
            layer = provenance.of(t.owner)
            if layer:
                head += f"\\n<{_dot_escape(layer)}>"
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


def _dumped_tensors(outputs: list[Tensor]) -> list[Tensor]:
    """The tensors above ``outputs`` in uid order, with every output of each node (not only the used ones)."""
    found = {t.uid: t for t in topological_tensors(outputs)}
    for t in list(found.values()):
        if t.owner is not None:
            found.update((o.uid, o) for o in t.owner.outputs)
    return [found[uid] for uid in sorted(found)]


def to_json(outputs, values=None) -> str:
    """JSON text of the graph: tensors (kind, dtype, shape, name, op and attributes, layer), edges, outputs.

    Constants always carry their values; variables carry theirs when
    ``values`` (a mapping variable -> array, e.g. a runtime storage's) has
    them; placeholders carry their defaults.  A node with several outputs is
    written once, with its first output; the others refer to it (``"node"``,
    ``"output"``).
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    tensors = _dumped_tensors(outputs)
    ids = {t: i for i, t in enumerate(tensors)}
    nodes, edges = [], []
    for t in tensors:
        entry = {"id": ids[t], "kind": t.kind if t.owner is None else "apply",
                 "dtype": t.dtype, "shape": list(t.shape), "name": t.name}
        if t.owner is not None and t.index > 0:
            entry["node"] = ids[t.owner.outputs[0]]
            entry["output"] = t.index
        elif t.owner is not None:
            entry["op"] = t.owner.op.name
            entry["attrs"] = {k: _jsonable(v) for k, v in t.owner.op.to_attrs().items()}
            layer = provenance.of(t.owner)
            if layer:
                entry["layer"] = layer
            for pos, inp in enumerate(t.owner.inputs):
                edges.append({"source": ids[inp], "target": ids[t], "input": pos})
        elif t.kind == "constant":
            entry["value"] = t.value.tolist()
        elif t.kind == "variable" and values is not None and t in values:
            entry["value"] = np.asarray(values[t]).tolist()
        elif t.kind == "placeholder" and t.default is not None:
            entry["default"] = t.default.tolist()
        nodes.append(entry)
    doc = {"format": JSON_FORMAT, "version": JSON_VERSION, "nodes": nodes, "edges": edges,
           "outputs": [ids[t] for t in outputs]}
    return json.dumps(doc, indent=1)


def from_json(text: str, values: dict | None = None) -> list[Tensor]:
    """Rebuild a graph written by to_json (version 1 or 2); returns its output tensors.

    Variables come back as new variables; when ``values`` (a dict) is given,
    the stored value of each is put there under the new variable.
    """
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
            t = variable(shape, dtype=dtype, name=name)
            if values is not None and entry.get("value") is not None:
                values[t] = np.array(entry["value"], dtype=dtype).reshape(shape)
        elif kind == "constant":
            t = constant(np.array(entry["value"], dtype=dtype), dtype=dtype, name=name)
        elif "node" in entry:
            t = built[entry["node"]].owner.outputs[entry["output"]]
            t.name = name
        else:
            op_type = OP_TYPES.get(entry["op"])
            if op_type is None:
                raise ValueError(f"Unknown op {entry['op']!r} in graph dump.")
            op = op_type.from_attrs({k: _tuples(v) for k, v in entry["attrs"].items()})
            args = [built[src] for _, src in sorted(inputs_of.get(entry["id"], []))]
            with provenance.origin(entry.get("layer")):
                t = op.make_node(*args).outputs[0]
            t.name = name
        if t.dtype != dtype or t.shape != shape:
            raise ValueError(f"Node {entry['id']} ({entry.get('op', kind)}) rebuilt as {t.dtype} "
                             f"{shapes.fmt(t.shape)}, dump says {dtype} {shapes.fmt(shape)}.")
        built[entry["id"]] = t
    return [built[i] for i in doc["outputs"]]
