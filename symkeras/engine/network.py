"""Network: a graph of layers from input tensors to output tensors (the functional API's core).

A Network is itself a layer: called on new tensors it rebuilds its graph on
them (a symbolic clone that shares every weight variable).
"""

from __future__ import annotations

import symkeras.backend as K
from symkeras.engine.base_layer import Layer, fmt_shape
from symkeras.engine.input_layer import InputLayer
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import clone_tensors
from symkeras.utils.generic_utils import to_list, unpack_singleton


def _history(x, role: str):
    history = getattr(x, "_keras_history", None)
    if history is None:
        raise ValueError(f"{role} tensors to a Model must come from `symkeras.layers.Input` (or be outputs of "
                         f"symkeras layers); got {x!r}.")
    return history


def nodes_in_order(inputs: list[Tensor], outputs: list[Tensor]) -> list:
    """The layer nodes between ``inputs`` and ``outputs``, each after the nodes feeding it."""
    input_ids = {id(x) for x in inputs}
    ordered, seen = [], set()
    reached_inputs = set()

    def visit(tensor):
        layer, node_index, _ = _history(tensor, "Output")
        node = layer._inbound_nodes[node_index]
        if id(tensor) in input_ids:
            reached_inputs.add(id(tensor))
        if id(node) in seen:
            return
        seen.add(id(node))
        if isinstance(layer, InputLayer) and id(tensor) not in input_ids:
            accessed = [n.outbound_layer.name for n in ordered]
            raise ValueError(f'Graph disconnected: cannot obtain value for tensor {tensor!r} at layer '
                             f'"{layer.name}". The following previous layers were accessed without issue: '
                             f"{accessed}")
        if id(tensor) not in input_ids:
            for x in node.input_tensors:
                visit(x)
        ordered.append(node)

    for output in outputs:
        visit(output)
    return ordered


class Network(Layer):
    """Layers connecting ``inputs`` to ``outputs``; weights, losses and updates gathered from them."""

    def __init__(self, inputs, outputs, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs) -> None:
        self.inputs = to_list(inputs)
        self.outputs = to_list(outputs)
        if len({id(x) for x in self.inputs}) != len(self.inputs):
            raise ValueError(f"The list of inputs passed to the model is redundant: {self.inputs}")
        for x in self.inputs:
            layer, _, _ = _history(x, "Input")
            if not isinstance(layer, InputLayer):
                raise ValueError(f"Input tensors to a Model must come from `symkeras.layers.Input`. Received: {x!r} "
                                 f"(missing previous layer metadata: it is the output of layer {layer.name}).")
        for x in self.outputs:
            _history(x, "Output")
        nodes = nodes_in_order(self.inputs, self.outputs)
        self._network_nodes = nodes
        self._nodes_by_depth = self._depths(nodes)
        depth_of_layer: dict[int, int] = {}
        first_seen: dict[int, int] = {}
        layers = []
        for position, node in enumerate(nodes):
            layer = node.outbound_layer
            if id(layer) not in first_seen:
                first_seen[id(layer)] = position
                layers.append(layer)
        for depth, depth_nodes in self._nodes_by_depth.items():
            for node in depth_nodes:
                key = id(node.outbound_layer)
                depth_of_layer[key] = max(depth_of_layer.get(key, 0), depth)
        layers.sort(key=lambda layer: (-depth_of_layer[id(layer)], first_seen[id(layer)]))
        self._layers = layers
        self.input_layers = [x._keras_history[0] for x in self.inputs]
        self.output_layers = [x._keras_history[0] for x in self.outputs]
        self.input_names = [layer.name for layer in self.input_layers]
        self.output_names = [layer.name for layer in self.output_layers]
        self._feed_inputs = list(self.inputs)
        self._feed_input_names = list(self.input_names)
        self._feed_input_shapes = [x._keras_shape for x in self.inputs]
        self.built = True
        self._inbound_nodes, self._outbound_nodes = [], []
        # the network as a layer: its own node from its inputs to its outputs
        from symkeras.engine.base_layer import Node

        Node(self, [None] * len(self.inputs), [None] * len(self.inputs), [None] * len(self.inputs),
             list(self.inputs), list(self.outputs), [x._keras_shape for x in self.inputs],
             [x._keras_shape for x in self.outputs])

    @staticmethod
    def _depths(nodes) -> dict[int, list]:
        depth = {id(node): 0 for node in nodes}
        by_id = {id(node): node for node in nodes}
        for node in reversed(nodes):
            for layer, index in zip(node.inbound_layers, node.node_indices):
                if layer is None:
                    continue
                inbound = layer._inbound_nodes[index]
                if id(inbound) in depth:
                    depth[id(inbound)] = max(depth[id(inbound)], depth[id(node)] + 1)
        grouped: dict[int, list] = {}
        for key, d in depth.items():
            grouped.setdefault(d, []).append(by_id[key])
        return grouped

    # --- layers -----------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def get_layer(self, name=None, index=None) -> Layer:
        """A layer by ``index`` (which wins if both are given) or by ``name``; ValueError if absent."""
        if index is not None:
            if len(self.layers) <= index:
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        if not name:
            raise ValueError("Provide either a layer name or layer index.")
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}")

    def _unique(self, tensors) -> list:
        seen, result = set(), []
        for t in tensors:
            if id(t) not in seen:
                seen.add(id(t))
                result.append(t)
        return result

    @property
    def trainable_weights(self) -> list[Tensor]:
        if not self.trainable:
            return []
        return self._unique(w for layer in self.layers for w in layer.trainable_weights)

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        weights = [w for layer in self.layers for w in layer.non_trainable_weights]
        if not self.trainable:
            weights = [w for layer in self.layers for w in layer.trainable_weights] + weights
        return self._unique(weights)

    @property
    def weights(self) -> list[Tensor]:
        """Every weight, layer by layer (each layer's trainable ones first), as Keras orders them for saving."""
        return self._unique(w for layer in self.layers for w in layer.weights)

    def _computed_ids(self) -> set:
        return {id(t) for node in self._network_nodes for t in node.output_tensors + node.input_tensors}

    def _owned(self, pairs) -> list:
        """Entries of (value, inputs key) lists that belong to this network's graph."""
        computed = self._computed_ids()
        return [value for value, key in pairs if key is None or all(i in computed for i in key)]

    @property
    def losses(self) -> list:
        """Weight penalties and the losses of this network's layer calls."""
        found = [loss for layer in self.layers for loss in self._owned(layer._losses)]
        found += [loss for loss, key in self._losses if key is None]
        return self._unique(found)

    @property
    def updates(self) -> list:
        """Variable updates (batch-norm moving averages...) of this network's layer calls."""
        if not self.trainable:
            return []
        found = [update for layer in self.layers if layer.trainable for update in self._owned(layer._updates)]
        found += [update for update, key in self._updates if key is None]
        return self._unique(found)

    @property
    def state_updates(self) -> list:
        """The updates of the stateful layers (their states after each batch): run by predict and evaluate
        too, so states carry over from batch to batch whatever the call."""
        return self._unique([update for layer in self.layers if getattr(layer, "stateful", False)
                             for update in self._owned(layer._updates)])

    @property
    def stateful(self) -> bool:
        return any(getattr(layer, "stateful", False) for layer in self.layers)

    def reset_states(self) -> None:
        """Set the states of every stateful layer back to zeros."""
        for layer in self.layers:
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()

    # --- the network as a layer -----------------------------------------------------
    def call(self, inputs, **kwargs):
        new_inputs = to_list(inputs)
        if len(new_inputs) != len(self.inputs):
            raise ValueError(f"Model {self.name} expects {len(self.inputs)} input(s); got {len(new_inputs)}.")
        replace = {}
        for old, new in zip(self.inputs, new_inputs):
            if old.ndim != new.ndim:
                raise ValueError(f"Model {self.name}: input {old.name} has rank {old.ndim}; "
                                 f"it was called on a tensor of shape {fmt_shape(K.int_shape(new))}.")
            replace[old] = new if new.dtype == old.dtype else K.cast(new, old.dtype)
        updates = [u for u in self.updates]
        losses = [loss for loss in self.losses if isinstance(loss, Tensor)]
        ends = self.outputs + [new for _, new in updates] + losses
        mapping = clone_tensors(ends, replace)
        new_updates = [(var, mapping[new]) for var, new in updates]
        if new_updates:
            self.add_update(new_updates, inputs=new_inputs)
        changed = [mapping[loss] for loss in losses if mapping[loss] is not loss]
        if changed:
            self.add_loss(changed, inputs=new_inputs)
        outputs = [mapping[o] for o in self.outputs]
        return outputs if len(outputs) > 1 else outputs[0]

    def compute_output_shape(self, input_shape):
        return unpack_singleton([tuple(x._keras_shape) for x in self.outputs])

    def _check_output_shapes(self, declared, inferred) -> None:
        return  # a network's declared shapes are its outputs' (a None batch size may become known)

    @property
    def uses_learning_phase(self) -> bool:
        return True

    # --- configuration -------------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras 2's functional config: layers with their inbound nodes, input and output layers."""
        in_network = {id(node) for node in self._network_nodes}
        renumbered = {}
        for layer in self.layers:
            kept = 0
            for index, node in enumerate(layer._inbound_nodes):
                if id(node) in in_network:
                    renumbered[(id(layer), index)] = kept
                    kept += 1
        layer_configs = []
        for layer in self.layers:
            inbound = []
            for node in layer._inbound_nodes:
                if id(node) not in in_network or not node.inbound_layers:
                    continue
                inbound.append([[parent.name, renumbered[(id(parent), node_index)], tensor_index, node.arguments]
                                for parent, node_index, tensor_index in zip(node.inbound_layers, node.node_indices,
                                                                            node.tensor_indices)])
            layer_configs.append({"name": layer.name, "class_name": type(layer).__name__,
                                  "config": layer.get_config(), "inbound_nodes": inbound})

        def endpoints(tensors):
            found = []
            for tensor in tensors:
                layer, node_index, tensor_index = tensor._keras_history
                found.append([layer.name, renumbered[(id(layer), node_index)], tensor_index])
            return found

        return {"name": self.name, "layers": layer_configs, "input_layers": endpoints(self.inputs),
                "output_layers": endpoints(self.outputs)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild a functional model from ``get_config()`` (Keras 2's "Model" or tf-keras's "Functional")."""
        from symkeras.layers import deserialize

        created = {}
        pending = []
        for layer_data in config["layers"]:
            layer = deserialize({"class_name": layer_data["class_name"], "config": layer_data["config"]},
                                custom_objects=custom_objects)
            created[layer_data["name"]] = layer
            for node_data in layer_data.get("inbound_nodes", []):
                pending.append((layer, node_data))

        def tensor_of(name, node_index, tensor_index):
            nodes = created[name]._inbound_nodes
            return nodes[node_index].output_tensors[tensor_index] if node_index < len(nodes) else None

        while pending:
            progressed, remaining = False, []
            for layer, node_data in pending:
                inputs = [tensor_of(entry[0], entry[1], entry[2]) for entry in node_data]
                if any(x is None for x in inputs):
                    remaining.append((layer, node_data))
                    continue
                kwargs = node_data[0][3] if len(node_data[0]) > 3 and node_data[0][3] else {}
                layer(inputs[0] if len(inputs) == 1 else inputs, **kwargs)
                progressed = True
            if not progressed:
                raise ValueError("Cannot rebuild the model: the inbound nodes of layers "
                                 f"{[layer.name for layer, _ in remaining]} refer to nodes that never exist.")
            pending = remaining
        inputs = [tensor_of(*entry[:3]) for entry in config["input_layers"]]
        outputs = [tensor_of(*entry[:3]) for entry in config["output_layers"]]
        return cls(inputs=inputs, outputs=outputs, name=config.get("name"))

    # --- files ---------------------------------------------------------------------------
    def to_json(self, **kwargs) -> str:
        """The architecture as JSON (no weights), for ``models.model_from_json``; ``kwargs`` go to
        ``json.dumps``."""
        from symkeras.saving.model_config import model_to_json

        return model_to_json(self, **kwargs)

    def save_weights(self, filepath, overwrite=True) -> None:
        """Write every layer's weights to an HDF5 file in Keras 2's layout."""
        from symkeras.saving.hdf5 import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, by_name=False, skip_mismatch=False) -> None:
        """Read weights written by save_weights or save (by layer order, or by layer name)."""
        from symkeras.saving.hdf5 import load_weights

        load_weights(self, filepath, by_name=by_name, skip_mismatch=skip_mismatch)

    def save(self, filepath, overwrite=True, include_optimizer=True) -> None:
        """Write the model (config, weights, training config, optimizer state) to one HDF5 file."""
        from symkeras.saving.hdf5 import save_model

        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    # --- summary -----------------------------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None) -> None:
        from symkeras.utils.layer_utils import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)
