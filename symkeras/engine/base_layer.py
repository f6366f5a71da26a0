"""The Layer base class and the Node records that make up a functional graph of layers.

Calling a layer on symbolic tensors builds it on the first call (``build``
with the input shape), runs ``call`` (graph nodes, no numbers), records a
``Node`` (which layers and tensors fed which), and tags each output with
``_keras_history`` = (layer, node index, tensor index) and ``_keras_shape``.
"""

from __future__ import annotations

import inspect
import os
import re

import numpy as np

import symkeras.backend as K
from symkeras import constraints, initializers, regularizers
from symkeras.graph import provenance, shapes
from symkeras.graph.basic import Tensor
from symkeras.utils.generic_utils import to_list, unpack_singleton

_LAYER_KWARGS = {"input_shape", "batch_input_shape", "batch_size", "dtype", "name", "trainable", "weights",
                 "input_dtype"}


def to_snake_case(name: str) -> str:
    """``BatchNormalization`` -> ``batch_normalization`` (Keras's layer-name prefix)."""
    step = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", step).lower()
    return snake if snake[0] != "_" else "private" + snake


def fmt_shape(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(fmt_shape(s) for s in shape) + "]"
    return shapes.fmt(tuple(shape))


class Node:
    """One call of ``outbound_layer`` on tensors coming from ``inbound_layers``."""

    def __init__(self, outbound_layer, inbound_layers, node_indices, tensor_indices, input_tensors,
                 output_tensors, input_shapes, output_shapes, arguments=None):
        self.outbound_layer = outbound_layer
        self.inbound_layers = inbound_layers
        self.node_indices = node_indices
        self.tensor_indices = tensor_indices
        self.input_tensors = input_tensors
        self.output_tensors = output_tensors
        self.input_shapes = input_shapes
        self.output_shapes = output_shapes
        self.arguments = arguments or {}
        for layer in inbound_layers:
            if layer is not None:
                layer._outbound_nodes.append(self)
        outbound_layer._inbound_nodes.append(self)

    def get_config(self) -> dict:
        return {"outbound_layer": self.outbound_layer.name,
                "inbound_layers": [layer.name if layer else None for layer in self.inbound_layers],
                "node_indices": self.node_indices, "tensor_indices": self.tensor_indices}


def _has_argument(fn, name: str) -> bool:
    parameters = inspect.signature(fn).parameters
    return name in parameters or any(p.kind == p.VAR_KEYWORD for p in parameters.values())


class Layer:
    """Base class of every layer.

    Subclasses create weights in ``build(input_shape)`` with ``add_weight``,
    compute in ``call(inputs)`` with backend functions, and may override
    ``compute_output_shape``; by default the output shape is inferred from
    the graph ``call`` builds.
    """

    def __init__(self, **kwargs):
        unknown = set(kwargs) - _LAYER_KWARGS
        if unknown:
            raise TypeError(f"Keyword argument not understood: {sorted(unknown)[0]!r}")
        name = kwargs.get("name")
        if not name:
            prefix = to_snake_case(type(self).__name__)
            name = f"{prefix}_{K.get_uid(prefix)}"
        self.name = name
        self.trainable = kwargs.get("trainable", True)
        self.dtype = kwargs.get("dtype") or kwargs.get("input_dtype") or K.floatx()
        if "batch_input_shape" in kwargs or "input_shape" in kwargs:
            if "batch_input_shape" in kwargs:
                batch_input_shape = tuple(kwargs["batch_input_shape"])
            else:
                batch_input_shape = (kwargs.get("batch_size"), *tuple(kwargs["input_shape"]))
            self.batch_input_shape = batch_input_shape
        self._initial_weights = kwargs.get("weights")
        self._trainable_weights: list[Tensor] = []
        self._non_trainable_weights: list[Tensor] = []
        self._losses: list = []
        self._updates: list = []
        self._inbound_nodes: list[Node] = []
        self._outbound_nodes: list[Node] = []
        self.supports_masking = False
        self.built = False

    # --- weights -------------------------------------------------------------
    def add_weight(self, name, shape, dtype=None, initializer=None, regularizer=None, trainable=True,
                   constraint=None) -> Tensor:
        """Create a weight variable named ``<layer>/<name>:0`` and register it.

        Raises:
            ValueError: a negative size, or a weight larger than this machine's memory (checked before
                anything is allocated: a config from a file may ask for terabytes).
        """
        shape = tuple(int(d) for d in shape)
        _check_weight_size(self.name, name, shape, dtype or self.dtype)
        init = initializers.get(initializer or "glorot_uniform")
        value = init(shape, dtype=dtype or self.dtype)
        if isinstance(value, Tensor):  # an initializer written with backend functions
            value = K.eval(value)
        value = np.asarray(value)
        if value.shape != shape:
            raise ValueError(f"Layer {self.name}: the initializer of weight '{name}' returned shape "
                             f"{value.shape}; expected {shape}.")
        weight = K.variable(value, dtype=dtype or self.dtype, name=f"{self.name}/{name}:0")
        weight.constraint = constraints.get(constraint)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self.add_loss(regularizer(weight))
        (self._trainable_weights if trainable else self._non_trainable_weights).append(weight)
        return weight

    @property
    def trainable_weights(self) -> list[Tensor]:
        return list(self._trainable_weights) if self.trainable else []

    @trainable_weights.setter
    def trainable_weights(self, weights):
        self._trainable_weights = list(weights)

    @property
    def non_trainable_weights(self) -> list[Tensor]:
        if self.trainable:
            return list(self._non_trainable_weights)
        return list(self._trainable_weights) + list(self._non_trainable_weights)

    @non_trainable_weights.setter
    def non_trainable_weights(self, weights):
        self._non_trainable_weights = list(weights)

    @property
    def weights(self) -> list[Tensor]:
        return self.trainable_weights + self.non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        return K.batch_get_value(self.weights)

    def set_weights(self, weights) -> None:
        """Assign every weight at once (same count and shapes as ``get_weights``), or none."""
        params = self.weights
        weights = list(weights)
        if len(weights) != len(params):
            raise ValueError(f'You called `set_weights(weights)` on layer "{self.name}" with a weight list of '
                             f"length {len(weights)}, but the layer was expecting {len(params)} weights. "
                             f"Provided weights: {str(weights)[:50]}...")
        pairs = []
        for param, value in zip(params, weights):
            value = np.asarray(value)
            if value.shape != param.shape:
                raise ValueError(f"Layer weight shape {param.shape} not compatible with provided weight "
                                 f"shape {value.shape} (layer {self.name}, weight {param.name}).")
            pairs.append((param, value))
        K.batch_set_value(pairs)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f'You tried to call `count_params` on {self.name}, but the layer isn\'t built. '
                             "You can build it manually via: `layer.build(batch_input_shape)`.")
        return int(sum(K.count_params(w) for w in self.weights))

    # --- losses and updates ------------------------------------------------------
    def add_loss(self, losses, inputs=None) -> None:
        """Losses (scalar tensors) added to the training loss; ``inputs`` ties them to one call."""
        for loss in to_list(losses):
            if loss is None or (not isinstance(loss, Tensor) and loss == 0.0):
                continue
            self._losses.append((loss, _input_key(inputs)))

    def add_update(self, updates, inputs=None) -> None:
        """(variable, new value) pairs run with each training step; ``inputs`` ties them to one call."""
        for update in to_list(updates):
            self._updates.append((update, _input_key(inputs)))

    @property
    def losses(self) -> list:
        return [loss for loss, _ in self._losses]

    @property
    def updates(self) -> list:
        return [update for update, _ in self._updates] if self.trainable else []

    def get_losses_for(self, inputs) -> list:
        key = _input_key(inputs)
        return [loss for loss, k in self._losses if k == key]

    def get_updates_for(self, inputs) -> list:
        key = _input_key(inputs)
        return [update for update, k in self._updates if k == key]

    # --- building and calling ----------------------------------------------------
    def build(self, input_shape) -> None:
        self.built = True

    def call(self, inputs, **kwargs):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape``, inferred by building ``call`` on placeholders."""
        shapes_in = input_shape if isinstance(input_shape, list) else [input_shape]
        probes = [K.placeholder(shape=tuple(s), dtype=self.dtype) for s in shapes_in]
        outputs = to_list(self.call(unpack_singleton(probes) if len(probes) == 1 else probes))
        found = [tuple(K.int_shape(o)) for o in outputs]
        return unpack_singleton(found)

    def _uses_default_output_shape(self) -> bool:
        return type(self).compute_output_shape is Layer.compute_output_shape

    def __call__(self, inputs, **kwargs):
        """Build (first call), then run ``call`` on symbolic tensors; every graph node made here is tagged
        with this layer's name and call index (see symkeras.graph.provenance)."""
        input_list = to_list(inputs)
        for i, x in enumerate(input_list):
            if not isinstance(x, Tensor):
                raise TypeError(f"Layer {self.name} was called with an input that isn't a symbolic tensor "
                                f"(input {i}: {type(x).__name__}). All inputs to the layer should be tensors.")
        with provenance.origin(provenance.layer_label(self.name, len(self._inbound_nodes))):
            return self._call_tagged(inputs, input_list, kwargs)

    def _call_tagged(self, inputs, input_list, kwargs):
        input_shapes = [_keras_shape(x) for x in input_list]
        if not self.built:
            self._check_batch_input_shape(input_shapes)
            self.build(unpack_singleton(input_shapes))
            self.built = True
            if self._initial_weights is not None:
                self.set_weights(self._initial_weights)
        previous_masks = [getattr(x, "_keras_mask", None) for x in input_list]
        if _has_argument(self.call, "mask") and any(m is not None for m in previous_masks):
            kwargs["mask"] = unpack_singleton(previous_masks)
        if not _has_argument(self.call, "training"):
            kwargs.pop("training", None)
        try:
            output = self.call(inputs if isinstance(inputs, list) else unpack_singleton(input_list), **kwargs)
        except ValueError as error:
            if self.name in str(error):
                raise
            # (an op's shape check inside call): say which layer, as Keras's input checks do
            raise ValueError(f"Layer {self.name}: {error}") from error
        output_mask = self.compute_mask(inputs, kwargs.get("mask"))
        outputs = [K.identity(o) if any(o is x for x in input_list) else o for o in to_list(output)]
        shape_in = unpack_singleton(input_shapes)
        inferred = [tuple(K.int_shape(o)) for o in outputs]
        if self._uses_default_output_shape():
            output_shapes = inferred
        else:
            output_shapes = to_list(self.compute_output_shape(shape_in))
            if len(outputs) == 1 and not isinstance(output_shapes[0], (list, tuple)):
                output_shapes = [tuple(output_shapes)]
            output_shapes = [tuple(s) for s in output_shapes]
            self._check_output_shapes(output_shapes, inferred)
        self._add_inbound_node(input_list, outputs, input_shapes, output_shapes, output_mask, kwargs)
        activity = getattr(self, "activity_regularizer", None)
        if activity is not None:
            self.add_loss([activity(o) for o in outputs], inputs=input_list)
        return outputs[0] if len(outputs) == 1 and not isinstance(output, list) else outputs

    def _check_batch_input_shape(self, input_shapes) -> None:
        expected = getattr(self, "batch_input_shape", None)
        if expected is None or len(input_shapes) != 1:
            return
        given = input_shapes[0]
        if len(given) != len(expected) or any(a is not None and b is not None and a != b
                                               for a, b in zip(expected[1:], given[1:])):
            raise ValueError(f"Layer {self.name} expects input shape {fmt_shape(expected)}; "
                             f"it was called on a tensor of shape {fmt_shape(given)}.")

    def _check_output_shapes(self, declared, inferred) -> None:
        for got, want in zip(declared, inferred):
            if len(got) != len(want) or any(a is not None and b is not None and a != b for a, b in zip(got, want)):
                raise ValueError(f"Layer {self.name}: compute_output_shape returned {fmt_shape(got)}, but call() "
                                 f"produced a tensor of shape {fmt_shape(want)}.")

    def _add_inbound_node(self, input_tensors, output_tensors, input_shapes, output_shapes, output_mask,
                          arguments) -> None:
        histories = [getattr(x, "_keras_history", None) for x in input_tensors]
        inbound = [h[0] if h else None for h in histories]
        node_indices = [h[1] if h else None for h in histories]
        tensor_indices = [h[2] if h else None for h in histories]
        masks = to_list(output_mask) if output_mask is not None else [None] * len(output_tensors)
        arguments = {k: v for k, v in arguments.items() if k != "mask"}
        Node(self, inbound, node_indices, tensor_indices, list(input_tensors), list(output_tensors),
             list(input_shapes), list(output_shapes), arguments)
        node_index = len(self._inbound_nodes) - 1
        for i, (tensor, shape, mask) in enumerate(zip(output_tensors, output_shapes, masks)):
            tensor._keras_history = (self, node_index, i)
            tensor._keras_shape = shape
            tensor._uses_learning_phase = getattr(tensor, "_uses_learning_phase", False)
            tensor._keras_mask = mask

    # --- where the layer was called ----------------------------------------------
    def _node_attribute(self, node_index: int, attr: str, what: str):
        if not self._inbound_nodes:
            raise RuntimeError(f"The layer {self.name} has never been called and thus has no defined {what}.")
        if not 0 <= node_index < len(self._inbound_nodes):
            raise ValueError(f"Asked to get {what} at node {node_index}, but the layer {self.name} has only "
                             f"{len(self._inbound_nodes)} inbound nodes.")
        return unpack_singleton(getattr(self._inbound_nodes[node_index], attr))

    def get_input_at(self, node_index: int):
        return self._node_attribute(node_index, "input_tensors", "input")

    def get_output_at(self, node_index: int):
        return self._node_attribute(node_index, "output_tensors", "output")

    def get_input_shape_at(self, node_index: int):
        return self._node_attribute(node_index, "input_shapes", "input shape")

    def get_output_shape_at(self, node_index: int):
        return self._node_attribute(node_index, "output_shapes", "output shape")

    def _single_node(self, attr: str, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to return.")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(f"Layer {self.name} has multiple inbound nodes, hence the notion of "
                                 f'"layer {what}" is ill-defined. Use `get_{attr}_at(node_index)` instead.')
        return self._node_attribute(0, {"input": "input_tensors", "output": "output_tensors"}[attr], what)

    @property
    def input(self):
        return self._single_node("input", "input")

    @property
    def output(self):
        return self._single_node("output", "output")

    def _shape_of_nodes(self, attr: str, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f'The layer has never been called and thus has no defined {what}.')
        found = {str(getattr(node, attr)) for node in self._inbound_nodes}
        if len(found) > 1:
            raise AttributeError(f'The layer "{self.name}" has multiple inbound nodes, with different {what}s. '
                                 f"Hence the notion of \"{what}\" is ill-defined for the layer. "
                                 f"Use `get_{what.replace(' ', '_')}_at(node_index)` instead.")
        return unpack_singleton(getattr(self._inbound_nodes[0], attr))

    @property
    def input_shape(self):
        return self._shape_of_nodes("input_shapes", "input shape")

    @property
    def output_shape(self):
        return self._shape_of_nodes("output_shapes", "output shape")

    # --- configuration -----------------------------------------------------------
    def get_config(self) -> dict:
        config = {"name": self.name, "trainable": self.trainable}
        if hasattr(self, "batch_input_shape"):
            config["batch_input_shape"] = self.batch_input_shape
        config["dtype"] = self.dtype
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _input_key(inputs):
    """A hashable key for the tensors a loss or update belongs to (None: unconditional)."""
    if inputs is None:
        return None
    return tuple(id(x) for x in to_list(inputs))


def _keras_shape(x: Tensor) -> tuple:
    shape = getattr(x, "_keras_shape", None)
    return tuple(shape) if shape is not None else tuple(K.int_shape(x))


def _physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def _check_weight_size(layer: str, weight: str, shape: tuple, dtype) -> None:
    if any(d < 0 for d in shape):
        raise ValueError(f"Layer {layer}: weight '{weight}' has a negative size in its shape {shape}.")
    size = int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize
    limit = _physical_memory()
    if limit is not None and size > limit:
        raise ValueError(f"Layer {layer}: weight '{weight}' of shape {shape} would take {size / 2**30:,.1f} GiB, "
                         f"more than this machine's {limit / 2**30:,.1f} GiB of memory.")

