"""Embedding: integer indices -> rows of a trainable table (Keras 2's arguments, defaults, config keys and mask)."""

from __future__ import annotations

import warnings

import symkeras.backend as K
from symkeras import constraints, initializers, regularizers
from symkeras.engine.base_layer import Layer, fmt_shape
from symkeras.graph import ops
from symkeras.utils.generic_utils import renamed_argument, serialize_object


class Embedding(Layer):
    """Turns indices in ``[0, input_dim)`` into dense vectors of size ``output_dim``.

    Arguments: input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
    activity_regularizer=None, embeddings_constraint=None, mask_zero=False (index 0 is padding: the layer
    gives later layers a mask, and input_dim should count it), input_length=None (the sequence length,
    needed before Flatten and Dense).

    An index outside ``[0, input_dim)`` is a ValueError naming the layer and the index when the model runs.
    The gradient scatters the output's gradient into the table's rows: no vocabulary-sized product.
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 activity_regularizer=None, embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        renamed_argument(kwargs, "init", "embeddings_initializer", "Embedding")
        renamed_argument(kwargs, "W_regularizer", "embeddings_regularizer", "Embedding")
        renamed_argument(kwargs, "W_constraint", "embeddings_constraint", "Embedding")
        if "dropout" in kwargs:  # Keras 2 dropped it with a warning
            kwargs.pop("dropout")
            warnings.warn("Embedding: the `dropout` argument is no longer supported; apply a "
                          "`SpatialDropout1D` layer right after the `Embedding` layer to get the same behaviour.",
                          DeprecationWarning, stacklevel=2)
        embeddings_initializer = kwargs.pop("embeddings_initializer", embeddings_initializer)
        embeddings_regularizer = kwargs.pop("embeddings_regularizer", embeddings_regularizer)
        embeddings_constraint = kwargs.pop("embeddings_constraint", embeddings_constraint)
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,) if input_length is not None else (None,)
        kwargs.setdefault("dtype", K.floatx())
        super().__init__(**kwargs)
        if int(input_dim) <= 0 or int(output_dim) <= 0:
            raise ValueError(f"Embedding layer {self.name}: input_dim and output_dim must be positive; got "
                             f"{input_dim} and {output_dim}.")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = input_length

    def build(self, input_shape):
        self.embeddings = self.add_weight("embeddings", (self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return K.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        if self.input_length is None:
            return (*tuple(input_shape), self.output_dim)
        lengths = self.input_length if isinstance(self.input_length, (list, tuple)) else (self.input_length,)
        given = tuple(input_shape)[1:]
        if len(lengths) != len(given) or any(a is not None and b is not None and a != b
                                             for a, b in zip(lengths, given)):
            raise ValueError(f'"input_length" is {self.input_length}, but received input has shape '
                             f"{fmt_shape(input_shape)} (layer {self.name}).")
        return (input_shape[0], *[a if a is not None else b for a, b in zip(lengths, given)], self.output_dim)

    def call(self, inputs):
        indices = inputs if K.dtype(inputs).startswith(("int", "uint")) else K.cast(inputs, "int32")
        return ops.Gather(strict=True)(self.embeddings, indices)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": serialize_object(self.embeddings_initializer),
                "embeddings_regularizer": serialize_object(self.embeddings_regularizer),
                "activity_regularizer": serialize_object(self.activity_regularizer),
                "embeddings_constraint": serialize_object(self.embeddings_constraint),
                "mask_zero": self.mask_zero, "input_length": self.input_length}
