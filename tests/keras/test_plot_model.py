"""model_to_dot's graph (always) and plot_model's picture (where Graphviz's dot is on the PATH)."""

import shutil

import pytest

from symkeras.layers import LSTM, Dense, Flatten, Input, TimeDistributed, concatenate
from symkeras.models import Model, Sequential
from symkeras.utils import model_to_dot, plot_model

pytest.importorskip("pydot", reason="pydot (the plots extra) is not installed")


def _functional():
    a, b = Input(shape=(3,), name="a"), Input(shape=(5, 2), name="b")
    steps = Flatten(name="flat")(TimeDistributed(Dense(2, name="inner"), name="td")(b))
    joined = concatenate([Dense(4, name="da")(a), LSTM(2, name="rnn")(b), steps], name="join")
    return Model([a, b], Dense(1, name="out")(joined))


def _layer_nodes(dot):
    return [node for node in dot.get_nodes() if node.get("label") is not None]  # (not the defaults' entry)


def _edges(dot, model):
    names = {node.get_name(): node.get("label").split(":")[0].strip('"') for node in _layer_nodes(dot)}
    return sorted((names[e.get_source()], names[e.get_destination()]) for e in dot.get_edges())


def test_model_to_dot_has_a_node_a_layer_and_an_edge_a_tensor():
    model = _functional()
    dot = model_to_dot(model)
    labels = sorted(node.get("label").strip('"') for node in _layer_nodes(dot))
    assert labels == ["a: InputLayer", "b: InputLayer", "da: Dense", "flat: Flatten", "join: Concatenate",
                      "out: Dense", "rnn: LSTM", "td(inner): TimeDistributed(Dense)"]
    assert _edges(dot, model) == [("a", "da"), ("b", "rnn"), ("b", "td(inner)"), ("da", "join"), ("flat", "join"),
                                  ("join", "out"), ("rnn", "join"), ("td(inner)", "flat")]
    text = model_to_dot(model, show_shapes=True, show_layer_names=False, rankdir="LR").to_string()
    assert "rankdir=LR" in text and "Dense\\n|{input:|output:}|{{(None, 16)}|{(None, 1)}}" in text


def test_a_sequential_model_is_drawn_from_its_input(tmp_path):
    model = Sequential([Dense(3, input_dim=2, name="first"), Dense(1, name="second")])
    dot = model_to_dot(model)
    assert _edges(dot, model) == [("first", "second"), ("first_input", "first")]
    plot_model(model, to_file=str(tmp_path / "model.dot"))
    assert (tmp_path / "model.dot").read_text().startswith("digraph")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not on the PATH")
def test_plot_model_draws_png_and_svg(tmp_path):
    model = _functional()
    plot_model(model, to_file=str(tmp_path / "model.png"), show_shapes=True)
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plot_model(model, to_file=str(tmp_path / "model.svg"))
    assert "<svg" in (tmp_path / "model.svg").read_text()


def test_without_graphviz_plot_model_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr("symkeras.utils.vis_utils.shutil.which", lambda name: None)
    with pytest.raises(OSError, match="needs Graphviz's dot program on the PATH to draw png"):
        plot_model(_functional(), to_file=str(tmp_path / "model.png"))
