"""debugprint text, DOT and JSON dumps."""

import json
import os
import re

import numpy as np
import pytest

from symkeras import runtime
from symkeras.codegen.function import Function
from symkeras.codegen.reference import evaluate
from symkeras.graph import debugprint, from_json, ops, to_dot, to_json
from symkeras.graph.basic import constant, placeholder
from symkeras.runtime import variable


def _shared_graph():
    x = placeholder((None, 3), name="x")
    w = variable(np.arange(6.0).reshape(3, 2), name="w")
    h = ops.tanh(ops.dot(x, w))
    h.name = "hidden"
    out = ops.reduce_sum(h * h + h, axis=1)
    out.name = "out"
    return x, w, h, out


def test_debugprint_lines_depth_ids_and_shared_nodes(capsys):
    x, w, h, out = _shared_graph()
    text = debugprint(out)
    assert capsys.readouterr().out.strip() == text
    lines = text.splitlines()
    assert lines[0] == "Sum{axis=(1,), keepdims=False} [id A] float32 (None,) 'out'"
    assert lines[1] == " |Add [id B] float32 (None, 2)"
    assert lines[2] == " | |Mul [id C] float32 (None, 2)"
    assert lines[3] == " | | |Tanh [id D] float32 (None, 2) 'hidden'"
    assert lines[4] == " | | | |Einsum{ab,bd->ad} [id E] float32 (None, 2)"
    assert lines[5] == " | | | | |x [id F] placeholder float32 (None, 3)"
    assert lines[6] == " | | | | |w [id G] variable float32 (3, 2)"
    # the shared tanh prints its subtree once, then only a reference
    assert lines[7] == " | | |Tanh [id D] float32 (None, 2) 'hidden' (see above)"
    assert lines[8] == " | |Tanh [id D] float32 (None, 2) 'hidden' (see above)"
    assert len(lines) == 9
    assert sum("Einsum" in line for line in lines) == 1


def test_debugprint_of_a_function_shows_outputs_and_updates():
    x, w, h, out = _shared_graph()
    f = Function([x], [out], updates=[(w, w * 0.5)], name="train", backend="numba")
    with open(os.devnull, "w") as null:
        built = f.debugprint(file=null, optimized=False)
        compiled = f.debugprint(file=null)
    assert built.splitlines()[0] == "Function 'train' (inputs: x; as built)"
    assert "Outputs:" in built and "Updates:" in built
    update_line = [line for line in built.splitlines() if "<-" in line][0]
    assert update_line.startswith("w [id ")
    assert "Mul [id" in built.split("Updates:")[1]
    assert "constant [id" in built and "0.5" in built
    assert compiled.splitlines()[0] == "Function 'train' (inputs: x; after rewrites)"
    assert "Fused{" in compiled and "Fused{" not in built
    assert "fusion: fused_group" in f.rewrites
    assert f.to_dot(optimized=False).count("->") > f.to_dot().count("->")
    # the rewrites run once, whatever the backend: the reference runs the same optimized graph
    reference = Function([x], [out], updates=[(w, w * 0.5)], name="train", backend="reference")
    assert [line.split(" (")[0] for line in reference.rewrites.splitlines()] == \
        [line.split(" (")[0] for line in f.rewrites.splitlines()]
    assert [str(n.op) for n in reference.optimized_graph.nodes] == [str(n.op) for n in f.optimized_graph.nodes]
    assert reference.debugprint(file=open(os.devnull, "w")) == compiled


def test_tensor_methods_give_the_same_dumps(capsys):
    x, w, h, out = _shared_graph()
    assert out.debugprint() == capsys.readouterr().out.strip()
    assert out.to_dot() == to_dot(out)
    assert out.to_json() == to_json(out)


def test_dot_dump_has_every_node_and_edge():
    x, w, h, out = _shared_graph()
    dot = to_dot(out, title="demo")
    assert dot.startswith('digraph "demo" {') and dot.rstrip().endswith("}")
    edge_lines = [line for line in dot.splitlines() if re.match(r"\s*n\d+ -> n\d+", line)]
    node_lines = [line for line in dot.splitlines() if "[label=" in line and line not in edge_lines]
    assert len(node_lines) == 7  # x, w, Einsum, Tanh, Mul, Add, Sum
    assert len(edge_lines) == 8  # one per input slot: Einsum 2, Tanh 1, Mul 2, Add 2, Sum 1
    assert sum('label="1"' in line for line in edge_lines) == 3
    assert any("Tanh" in line and "'hidden'" in line for line in node_lines)
    assert any("shape=ellipse" in line and "placeholder" in line for line in node_lines)
    assert any("style=bold" in line and "Sum" in line for line in node_lines)


def test_json_dump_structure_and_round_trip():
    x, w, h, out = _shared_graph()
    text = to_json(out, values={w: runtime.get_value(w)})
    doc = json.loads(text)
    assert doc["format"] == "symkeras-graph"
    kinds = [n["kind"] for n in doc["nodes"]]
    assert kinds.count("apply") == 5 and "placeholder" in kinds and "variable" in kinds
    summ = [n for n in doc["nodes"] if n.get("op") == "Sum"][0]
    assert summ["attrs"] == {"axis": [1], "keepdims": False}
    assert summ["shape"] == [None] and summ["name"] == "out"
    assert {"source", "target", "input"} <= set(doc["edges"][0])
    stored = {}
    rebuilt = from_json(text, values=stored)
    (new_w,) = stored
    np.testing.assert_array_equal(stored[new_w], runtime.get_value(w))
    runtime.set_values(stored.items())
    assert to_json(rebuilt, values=stored) == text
    assert "value" not in [n for n in json.loads(to_json(rebuilt))["nodes"] if n["kind"] == "variable"][0]
    (new_out,) = rebuilt
    new_x = [t for t in _leaf_tensors(new_out) if t.kind == "placeholder"][0]
    value = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(evaluate(new_out, {new_x: value}), evaluate(out, {x: value}), rtol=1e-6)


def _leaf_tensors(t):
    from symkeras.graph.fgraph import ancestors_dag

    return [d["tensor"] for _, d in ancestors_dag([t]).nodes(data=True) if d["tensor"].owner is None]


def test_json_round_trips_index_specs_and_constants():
    x = placeholder((None, 4, 2), name="x")
    out = ops.pad(x[1:, ::-1, 0], ((0, 1), (2, 0))) * constant(np.array([1.0, 2, 3, 4, 5, 6]))
    text = to_json(out)
    (rebuilt,) = from_json(text)
    assert to_json(rebuilt) == text
    assert str(rebuilt.owner.inputs[0].owner.inputs[0].owner.op) == "Subtensor{1:, ::-1, 0}"


def test_json_rejects_foreign_documents():
    with pytest.raises(ValueError, match="Not a symkeras graph dump"):
        from_json('{"format": "other"}')
    bad = json.dumps({"format": "symkeras-graph", "version": 1, "edges": [], "outputs": [0],
                      "nodes": [{"id": 0, "kind": "apply", "op": "NoSuchOp", "attrs": {},
                                 "dtype": "float32", "shape": [], "name": None}]})
    with pytest.raises(ValueError, match="Unknown op 'NoSuchOp'"):
        from_json(bad)
