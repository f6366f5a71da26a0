"""model.summary(): Keras 2's table of layers, output shapes and parameter counts."""

from __future__ import annotations

import numpy as np


def count_params(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in {id(w): w for w in weights}.values()))


def _print_row(fields, positions, print_fn) -> None:
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "
        line += str(field)
        line = line[:positions[i]]
        line += " " * (positions[i] - len(line))
    print_fn(line)


def _sequential_like(model) -> bool:
    if type(model).__name__ == "Sequential":
        return True
    for nodes in model._nodes_by_depth.values():
        if len(nodes) > 1 or (len(nodes) == 1 and len([x for x in nodes[0].inbound_layers if x]) > 1):
            return False
    return True


def _output_shape(layer) -> str:
    try:
        shape = layer.output_shape
    except AttributeError:
        return "multiple"
    if isinstance(shape, list):
        return str([tuple(s) for s in shape])
    return str(tuple(shape))


def print_summary(model, line_length=None, positions=None, print_fn=None) -> None:
    """Print the model's layers as Keras 2 does (one row per layer, then the parameter totals)."""
    print_fn = print_fn or print
    sequential_like = _sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = positions or [0.45, 0.85, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
    else:
        line_length = line_length or 98
        positions = positions or [0.33, 0.55, 0.67, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    network_nodes = {id(node) for node in model._network_nodes}
    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    _print_row(header, positions, print_fn)
    print_fn("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        name = f"{layer.name} ({type(layer).__name__})"
        params = layer.count_params() if layer.built else 0
        if sequential_like:
            _print_row([name, _output_shape(layer), params], positions, print_fn)
        else:
            connections = []
            for node in layer._inbound_nodes:
                if id(node) not in network_nodes:
                    continue
                for inbound, node_index, tensor_index in zip(node.inbound_layers, node.node_indices,
                                                             node.tensor_indices):
                    if inbound is not None:
                        connections.append(f"{inbound.name}[{node_index}][{tensor_index}]")
            first = connections[0] if connections else ""
            _print_row([name, _output_shape(layer), params, first], positions, print_fn)
            for connection in connections[1:]:
                _print_row(["", "", "", connection], positions, print_fn)
        print_fn(("=" if i == len(layers) - 1 else "_") * line_length)
    trainable = count_params(model.trainable_weights)
    total = count_params(model.weights)
    print_fn(f"Total params: {total:,}")
    print_fn(f"Trainable params: {trainable:,}")
    print_fn(f"Non-trainable params: {total - trainable:,}")
    print_fn("_" * line_length)


def get_source_inputs(tensor, layer=None, node_index=None) -> list:
    """The ``Input`` tensors ``tensor`` is computed from (each once, in the order first reached).

    Args:
        tensor: a tensor made by layers.
        layer, node_index: where to start instead of the tensor's own history.
    """
    from symkeras.engine.input_layer import InputLayer

    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return [tensor]
    if layer is None or node_index is None:
        layer, node_index, _ = history
    node = layer._inbound_nodes[node_index]
    if isinstance(layer, InputLayer):
        return list(node.output_tensors)
    found: list = []
    for x in node.input_tensors:
        for source in get_source_inputs(x):
            if all(source is not s for s in found):
                found.append(source)
    return found
