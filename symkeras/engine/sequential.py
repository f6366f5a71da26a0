"""Sequential: a linear stack of layers, built as layers are added."""

from __future__ import annotations

import numpy as np

from symkeras.engine.base_layer import Layer
from symkeras.engine.input_layer import Input, InputLayer
from symkeras.engine.training import Model


class Sequential(Model):
    """``Sequential([Dense(32, input_shape=(784,)), Activation('relu')])`` or ``model.add(layer)``.

    The first layer needs an input shape (input_shape, input_dim, batch_input_shape); without one the
    model is built from the data on the first fit/evaluate/predict call.
    """

    def __init__(self, layers=None, name=None):
        super().__init__(name=name)
        self._stack: list[Layer] = []  # the layers added, in order (an InputLayer first if one was added)
        self._chain: list = []  # output tensor after each layer of _stack
        self.inputs, self.outputs = [], []
        self._layers = []
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self) -> list[Layer]:
        return [layer for layer in self._stack if not isinstance(layer, InputLayer)]

    def add(self, layer) -> None:
        """Append ``layer`` (any layer or model with one output) to the stack."""
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Found: {layer!r}")
        if not self._chain:
            if isinstance(layer, InputLayer):
                self._stack.append(layer)
                self._chain.append(layer._inbound_nodes[0].output_tensors[0])
                self._rebuild()
                return
            batch_shape = getattr(layer, "batch_input_shape", None)
            if batch_shape is None and isinstance(layer, Model) and getattr(layer, "inputs", None):
                batch_shape = layer.inputs[0]._keras_shape
            if batch_shape is None:
                self._stack.append(layer)  # built from the data later
                return
            x = Input(batch_shape=batch_shape, dtype=layer.dtype, name=layer.name + "_input")
            self._stack.insert(0, x._keras_history[0])
            self._chain.append(x)
        output = layer(self._chain[-1])
        if isinstance(output, list):
            raise TypeError("All layers in a Sequential model should have a single output tensor. For "
                            "multi-output layers, use the functional API.")
        self._stack.append(layer)
        self._chain.append(output)
        self._rebuild()

    def pop(self) -> None:
        """Remove the last layer."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        self._stack.pop()
        if len(self._chain) > 1:
            self._chain.pop()
        if not self.layers:
            self._stack, self._chain = [], []
            self.inputs, self.outputs, self._layers = [], [], []
            self.built = False
            return
        self._rebuild()

    def _rebuild(self) -> None:
        if len(self._chain) < 1:
            return
        self._init_graph(self._chain[0], self._chain[-1])
        self._compiled = False if getattr(self, "_compiled", False) and self.outputs else self._compiled
        self.predict_function = None

    def build(self, input_shape=None) -> None:
        """Build a stack whose first layer had no input shape, for inputs of ``input_shape`` (batch axis included)."""
        if self._chain:
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        layers = list(self._stack)
        self._stack = []
        x = Input(batch_shape=tuple(input_shape), name=(layers[0].name if layers else "sequential") + "_input")
        self._stack.append(x._keras_history[0])
        self._chain.append(x)
        for layer in layers:
            self.add(layer)

    def _ensure_built(self, x) -> None:
        if self._chain and len(self._chain) == len(self._stack):
            return
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        first = x[0] if isinstance(x, (list, tuple)) and x and hasattr(x[0], "shape") else x
        self.build((None, *np.asarray(first).shape[1:]))

    def _build_from_data(self, x) -> None:
        self._ensure_built(x)
        if getattr(self, "_deferred_compile", None) is not None:
            self._check_compiled()

    def compile(self, *args, **kwargs):
        if not self._chain or len(self._chain) != len(self._stack):
            self._deferred_compile = (args, kwargs)  # compiled once the model is built from data
            self._compiled = True
            return
        super().compile(*args, **kwargs)

    def _check_compiled(self) -> None:
        deferred = getattr(self, "_deferred_compile", None)
        if deferred is not None and self._chain and len(self._chain) == len(self._stack):
            self._deferred_compile = None
            super().compile(*deferred[0], **deferred[1])
        super()._check_compiled()

    # --- Sequential-only helpers ------------------------------------------------------
    def predict_proba(self, x, batch_size=32, verbose=0):
        """The model's outputs (probabilities); warns when they fall outside [0, 1]."""
        preds = self.predict(x, batch_size, verbose)
        if preds.min() < 0.0 or preds.max() > 1.0:
            import warnings

            warnings.warn("Network returning invalid probability values. The last layer might not normalize "
                          "predictions into probabilities (like softmax or sigmoid would).", stacklevel=2)
        return preds

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Class indices: argmax of the outputs, or (output > 0.5) for one output unit."""
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        if proba.shape[-1] > 1:
            return proba.argmax(axis=-1)
        return (proba > 0.5).astype("int32")

    def get_config(self) -> dict:
        return {"name": self.name, "layers": [{"class_name": type(layer).__name__, "config": layer.get_config()}
                                              for layer in self.layers]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from symkeras.layers import deserialize

        if isinstance(config, list):  # Keras <= 2.1 wrote a bare list of layers
            name, layer_configs = None, config
        else:
            name, layer_configs = config.get("name"), config["layers"]
        model = cls(name=name)
        for layer_config in layer_configs:
            model.add(deserialize(layer_config, custom_objects=custom_objects))
        return model

