"""InputLayer and Input(): where a functional model's data enters."""

from __future__ import annotations

import symkeras.backend as K
from symkeras.engine.base_layer import Layer, Node


class InputLayer(Layer):
    """Holds the placeholder a model is fed through (shape without, or with, the batch axis)."""

    def __init__(self, input_shape=None, batch_size=None, batch_input_shape=None, dtype=None, input_tensor=None,
                 sparse=False, name=None, ragged=False, optional=False):
        # (ragged and optional come from tf-keras configs; symkeras inputs are dense and always fed)
        if ragged:
            raise ValueError(f"Input {name or ''}: symkeras has no ragged tensors; use a dense input.")
        if not name:
            name = f"input_{K.get_uid('input')}"
        super().__init__(dtype=dtype, name=name)
        self.trainable = False
        self.sparse = sparse
        if input_shape is not None and batch_input_shape is not None:
            raise ValueError("Only provide the input_shape OR batch_input_shape argument to InputLayer, not both.")
        if input_tensor is not None and batch_input_shape is None:
            batch_input_shape = K.int_shape(input_tensor)
        if batch_input_shape is None:
            if input_shape is None:
                raise ValueError("An Input layer should be passed either a `batch_input_shape` or an `input_shape`.")
            batch_input_shape = (batch_size, *tuple(input_shape))
        self.batch_input_shape = tuple(batch_input_shape)
        self.dtype = dtype or K.floatx()
        if input_tensor is None:
            input_tensor = K.placeholder(shape=self.batch_input_shape, dtype=self.dtype, sparse=sparse, name=self.name)
            self.is_placeholder = True
        else:
            self.is_placeholder = False
        input_tensor._uses_learning_phase = False
        input_tensor._keras_history = (self, 0, 0)
        input_tensor._keras_shape = self.batch_input_shape
        input_tensor._keras_mask = None
        Node(self, [], [], [], [input_tensor], [input_tensor], [self.batch_input_shape], [self.batch_input_shape])
        self.built = True

    def get_config(self) -> dict:
        return {"batch_input_shape": self.batch_input_shape, "dtype": self.dtype, "sparse": self.sparse,
                "name": self.name}


def Input(shape=None, batch_shape=None, name=None, dtype=None, sparse=False, tensor=None):  # noqa: N802
    """A symbolic input tensor: ``x = Input(shape=(784,))`` (the batch axis is added as None)."""
    if shape is None and batch_shape is None and tensor is None:
        raise ValueError("Please provide to Input either a `shape` or a `batch_shape` argument. Note that "
                         "`shape` does not include the batch dimension.")
    if shape is not None and batch_shape is None:
        batch_shape = (None, *tuple(shape))
    layer = InputLayer(batch_input_shape=batch_shape, name=name, dtype=dtype, sparse=sparse, input_tensor=tensor)
    return layer._inbound_nodes[0].output_tensors[0]
