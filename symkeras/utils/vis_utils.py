"""Pictures of models: ``model_to_dot`` (a pydot graph of the layers and the tensors between them) and
``plot_model`` (that graph drawn to a file by Graphviz).  pydot is the ``plots`` extra (``pip install
'symkeras[plots]'``); drawing PNG or SVG needs Graphviz's ``dot`` program on the PATH, writing ``.dot``
text does not."""

from __future__ import annotations

import os
import shutil


def _pydot():
    try:
        import pydot
    except ImportError as error:
        raise ImportError("model_to_dot and plot_model need pydot: pip install 'symkeras[plots]' (or pip install "
                          "pydot), and Graphviz's dot program to draw images.") from error
    return pydot


def _shape_text(layer, attr: str) -> str:
    try:
        return str(getattr(layer, attr))
    except AttributeError:
        return "multiple"


def _label(layer, show_shapes: bool, show_layer_names: bool) -> str:
    from symkeras.layers import Wrapper

    name, kind = layer.name, type(layer).__name__
    if isinstance(layer, Wrapper):
        name, kind = f"{name}({layer.layer.name})", f"{kind}({type(layer.layer).__name__})"
    label = f"{name}: {kind}" if show_layer_names else kind
    if show_shapes:
        label = (f"{label}\n|{{input:|output:}}|{{{{{_shape_text(layer, 'input_shape')}}}|"
                 f"{{{_shape_text(layer, 'output_shape')}}}}}")
    return label


def _layers_with_inputs(model) -> list:
    """The model's layers, its InputLayers first (a Sequential's ``layers`` leaves them out)."""
    from symkeras.engine.input_layer import InputLayer

    layers = list(model.layers)
    inputs = [x._keras_history[0] for x in getattr(model, "inputs", None) or []]
    return [layer for layer in inputs if isinstance(layer, InputLayer) and layer not in layers] + layers


def model_to_dot(model, show_shapes=False, show_layer_names=True, rankdir="TB", dpi=96):
    """The model as a pydot graph: a record node per layer (its name and class; with ``show_shapes`` its
    input and output shapes) and an edge per tensor a layer passes to another within the model.

    Args:
        model: a built model.
        show_shapes: show each layer's input and output shapes.
        show_layer_names: show the layers' names besides their classes.
        rankdir: Graphviz's direction: ``'TB'`` (top to bottom) or ``'LR'``.
        dpi: the image's resolution.

    Returns:
        A ``pydot.Dot`` (``.to_string()`` is its DOT text, ``.create(prog='dot', format='svg')`` its picture).

    Raises:
        ImportError: pydot is not installed.
    """
    pydot = _pydot()
    dot = pydot.Dot(graph_type="digraph")
    dot.set("rankdir", rankdir)
    dot.set("concentrate", True)
    dot.set("dpi", dpi)
    dot.set_node_defaults(shape="record")
    layers = _layers_with_inputs(model)
    ids = {id(layer): str(id(layer)) for layer in layers}
    for layer in layers:
        dot.add_node(pydot.Node(ids[id(layer)], label=_label(layer, show_shapes, show_layer_names)))
    in_model = _nodes_of(model)
    for layer in layers:
        for node in layer._inbound_nodes:
            if id(node) not in in_model:
                continue
            for parent in node.inbound_layers:
                if parent is not None and id(parent) in ids:
                    dot.add_edge(pydot.Edge(ids[id(parent)], ids[id(layer)]))
    return dot


def _nodes_of(model) -> set:
    """The ids of the layer calls that make up ``model`` (not other models' calls of its layers)."""
    from symkeras.engine.network import nodes_in_order

    return {id(node) for node in nodes_in_order(list(model.inputs), list(model.outputs))}


def plot_model(model, to_file="model.png", show_shapes=False, show_layer_names=True, rankdir="TB", dpi=96):
    """Draw ``model_to_dot(model, ...)`` into ``to_file``: its type from the extension (``.png``, ``.svg``,
    ``.pdf``... by Graphviz; ``.dot``: the DOT text, without Graphviz).

    Returns:
        The image, for a notebook to show (``IPython.display.Image``) when IPython is there, else None.

    Raises:
        ImportError: pydot is not installed.
        OSError: Graphviz's ``dot`` is not on the PATH (for any format but ``.dot``).
    """
    dot = model_to_dot(model, show_shapes=show_shapes, show_layer_names=show_layer_names, rankdir=rankdir, dpi=dpi)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    if extension == "dot":
        with open(to_file, "w") as fh:
            fh.write(dot.to_string())
        return None
    if shutil.which("dot") is None:
        raise OSError(f"plot_model needs Graphviz's dot program on the PATH to draw {extension} (apt install "
                      "graphviz, brew install graphviz, ...); a .dot file name writes the DOT text without it.")
    dot.write(to_file, format=extension)
    if extension == "png":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
