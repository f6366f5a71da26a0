"""The cells of recurrent layers: SimpleRNNCell, GRUCell, LSTMCell and StackedRNNCells (Keras 2's arguments,
defaults, weights and config keys).

A cell computes one time step: ``call(inputs, states, training=None) -> (output, new_states)``; ``RNN``
runs it over time with ``K.rnn``.  Dropout masks are drawn once per batch, before the loop (``RNN`` calls
``dropout_masks``), so they stay fixed over time as Keras's are, and the loop itself draws nothing.
"""

from __future__ import annotations

import numpy as np

import symkeras.backend as K
from symkeras import activations, constraints, initializers, regularizers
from symkeras.engine.base_layer import Layer, _has_argument, fmt_shape
from symkeras.utils.generic_utils import serialize_object


def _units(units, cls: str) -> int:
    if isinstance(units, bool) or not isinstance(units, int | np.integer) or int(units) <= 0:
        raise ValueError(f"{cls}: units must be a positive integer; got {units!r}.")
    return int(units)


def _rate(value, name: str, cls: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{cls}: {name} must be between 0 and 1; got {value!r}.")
    return rate


class DropoutCell(Layer):
    """What the built-in cells share: weights' settings, the dropout masks, the config."""

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.units = _units(units, cls)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout, "dropout", cls)
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout", cls)
        self._dropout_mask = None
        self._recurrent_dropout_mask = None

    #: how many blocks of ``units`` columns the kernels have (gates)
    gates = 1

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self) -> int:
        return self.units

    def _input_dim(self, input_shape) -> int:
        dim = tuple(input_shape)[-1]
        if dim is None:
            raise ValueError(f"{type(self).__name__} {self.name}: the last dimension of its input must be known; "
                             f"got shape {fmt_shape(input_shape)}.")
        return int(dim)

    def _add_kernels(self, input_dim: int) -> None:
        width = self.units * self.gates
        self.kernel = self.add_weight("kernel", (input_dim, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", (self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)

    def _add_bias(self, shape, initializer=None) -> None:
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", shape, initializer=initializer or self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    # dropout -----------------------------------------------------------------------------
    def dropout_masks(self, inputs, initial_states, training=None) -> None:
        """Draw this batch's masks (before the loop): one for the inputs (samples, input_dim) and one for
        the recurrent state (samples, units), kept for every time step."""
        self._dropout_mask = self._recurrent_dropout_mask = None
        if 0.0 < self.dropout < 1.0:
            ones = K.ones_like(inputs[:, 0])
            self._dropout_mask = K.in_train_phase(K.dropout(ones, self.dropout), ones, training=training)
        if 0.0 < self.recurrent_dropout < 1.0:
            ones = K.ones_like(initial_states[0])
            self._recurrent_dropout_mask = K.in_train_phase(K.dropout(ones, self.recurrent_dropout), ones,
                                                            training=training)

    def _dropped(self, inputs, h_prev):
        if self._dropout_mask is not None:
            inputs = inputs * self._dropout_mask
        if self._recurrent_dropout_mask is not None:
            h_prev = h_prev * self._recurrent_dropout_mask
        return inputs, h_prev

    def _block(self, x, k: int):
        """Columns ``k * units`` to ``(k + 1) * units`` of a (samples, gates * units) tensor."""
        return x[:, k * self.units:(k + 1) * self.units]

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_object(self.kernel_initializer),
                "recurrent_initializer": serialize_object(self.recurrent_initializer),
                "bias_initializer": serialize_object(self.bias_initializer),
                "kernel_regularizer": serialize_object(self.kernel_regularizer),
                "recurrent_regularizer": serialize_object(self.recurrent_regularizer),
                "bias_regularizer": serialize_object(self.bias_regularizer),
                "kernel_constraint": serialize_object(self.kernel_constraint),
                "recurrent_constraint": serialize_object(self.recurrent_constraint),
                "bias_constraint": serialize_object(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout}


class SimpleRNNCell(DropoutCell):
    """``h = activation(x W + h_prev U + b)``.

    Arguments: units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
    recurrent_initializer="orthogonal", bias_initializer="zeros", the regularizers and constraints of
    kernel, recurrent_kernel and bias, dropout=0 (of the inputs), recurrent_dropout=0 (of h_prev).
    """

    def build(self, input_shape):
        self._add_kernels(self._input_dim(input_shape))
        self._add_bias((self.units,))
        self.built = True

    def call(self, inputs, states, training=None):
        inputs, h_prev = self._dropped(inputs, states[0])
        h = K.dot(inputs, self.kernel)
        if self.bias is not None:
            h = K.bias_add(h, self.bias)
        output = self.activation(h + K.dot(h_prev, self.recurrent_kernel))
        return output, [output]


class GRUCell(DropoutCell):
    """Gated recurrent unit: update gate z, reset gate r, candidate hh; ``h = z h_prev + (1 - z) hh``.

    Arguments: those of SimpleRNNCell, and recurrent_activation="sigmoid", implementation=1 (accepted;
    both give the same values), reset_after=True (apply the reset gate after the recurrent product, with
    a separate recurrent bias: bias (2, 3 units); False: before it, bias (3 units,)).
    Kernels hold the z, r and h blocks in that order.
    """

    gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0,
                 implementation=1, reset_after=True, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.implementation = _implementation(implementation, "GRUCell")
        self.reset_after = bool(reset_after)

    def build(self, input_shape):
        self._add_kernels(self._input_dim(input_shape))
        self._add_bias((2, 3 * self.units) if self.reset_after else (3 * self.units,))
        self.built = True

    def call(self, inputs, states, training=None):
        h_prev = states[0]
        inputs, h_dropped = self._dropped(inputs, h_prev)
        x = K.dot(inputs, self.kernel)
        input_bias = recurrent_bias = None
        if self.bias is not None:
            input_bias, recurrent_bias = (self.bias[0], self.bias[1]) if self.reset_after else (self.bias, None)
            x = K.bias_add(x, input_bias)
        if self.reset_after:
            inner = K.dot(h_dropped, self.recurrent_kernel)
            if recurrent_bias is not None:
                inner = K.bias_add(inner, recurrent_bias)
            z = self.recurrent_activation(self._block(x, 0) + self._block(inner, 0))
            r = self.recurrent_activation(self._block(x, 1) + self._block(inner, 1))
            recurrent_h = r * self._block(inner, 2)
        else:
            inner = K.dot(h_dropped, self.recurrent_kernel[:, :2 * self.units])
            z = self.recurrent_activation(self._block(x, 0) + self._block(inner, 0))
            r = self.recurrent_activation(self._block(x, 1) + self._block(inner, 1))
            recurrent_h = K.dot(r * h_dropped, self.recurrent_kernel[:, 2 * self.units:])
        hh = self.activation(self._block(x, 2) + recurrent_h)
        h = z * h_prev + (1.0 - z) * hh
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "implementation": self.implementation, "reset_after": self.reset_after}


class LSTMCell(DropoutCell):
    """Long short-term memory: input, forget and output gates i, f, o and candidate c~;
    ``c = f c_prev + i c~``, ``h = o activation(c)``; states [h, c].

    Arguments: those of SimpleRNNCell, and recurrent_activation="sigmoid", unit_forget_bias=True (the
    forget gate's bias starts at 1), implementation=1 (accepted; both give the same values).
    Kernels hold the i, f, c and o blocks in that order.
    """

    gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, implementation=1, **kwargs):
        super().__init__(units, activation, use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
                         kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = _implementation(implementation, "LSTMCell")

    @property
    def state_size(self):
        return (self.units, self.units)

    def build(self, input_shape):
        self._add_kernels(self._input_dim(input_shape))
        initializer = self.bias_initializer
        if self.unit_forget_bias:
            units, given = self.units, self.bias_initializer

            def initializer(shape, dtype=None):
                return np.concatenate([np.asarray(given((units,), dtype=dtype)), np.ones(units, dtype=dtype),
                                       np.asarray(given((2 * units,), dtype=dtype))])
        self._add_bias((4 * self.units,), initializer)
        self.built = True

    def call(self, inputs, states, training=None):
        h_prev, c_prev = states[0], states[1]
        inputs, h_dropped = self._dropped(inputs, h_prev)
        z = K.dot(inputs, self.kernel)
        if self.bias is not None:  # added to the input projection, which is computed for all steps at once
            z = K.bias_add(z, self.bias)
        z = z + K.dot(h_dropped, self.recurrent_kernel)
        i = self.recurrent_activation(self._block(z, 0))
        f = self.recurrent_activation(self._block(z, 1))
        c = f * c_prev + i * self.activation(self._block(z, 2))
        o = self.recurrent_activation(self._block(z, 3))
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias, "implementation": self.implementation}


def _implementation(value, cls: str) -> int:
    if value not in (0, 1, 2):
        raise ValueError(f"{cls}: implementation must be 1 or 2; got {value!r}.")
    return int(value)


def state_sizes(cell) -> list[int]:
    """A cell's state sizes as a flat list."""
    size = cell.state_size
    return [int(s) for s in size] if hasattr(size, "__len__") else [int(size)]


class StackedRNNCells(Layer):
    """Cells applied one after the other at each time step, as one cell.

    Its states are those of the cells in reverse order (the last cell's first), so that its first state
    is the last cell's output, as Keras 2's ``RNN`` expects.
    """

    def __init__(self, cells, **kwargs):
        for cell in cells:
            if not hasattr(cell, "call") or not hasattr(cell, "state_size"):
                raise ValueError(f"StackedRNNCells: every cell needs `call` and `state_size`; got {cell!r}.")
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self):
        return tuple(size for cell in self.cells[::-1] for size in state_sizes(cell))

    @property
    def output_size(self) -> int:
        last = self.cells[-1]
        return getattr(last, "output_size", state_sizes(last)[0])

    def dropout_masks(self, inputs, initial_states, training=None) -> None:
        """Each cell's masks; a cell after the first sees the previous cell's outputs (masks of its size)."""
        sizes = [state_sizes(cell) for cell in self.cells]
        by_cell, position = [], 0
        for count in [len(s) for s in sizes][::-1]:
            by_cell.append(initial_states[position:position + count])
            position += count
        by_cell = by_cell[::-1]
        step_input = inputs
        for cell, states in zip(self.cells, by_cell):
            if hasattr(cell, "dropout_masks"):
                cell.dropout_masks(step_input, states, training)
            step_input = K.expand_dims(states[0], 1)  # (samples, 1, output): the next cell's inputs

    def build(self, input_shape):
        shape = tuple(input_shape)
        for cell in self.cells:
            if not cell.built:
                cell.build(shape)
                cell.built = True
            shape = (shape[0], getattr(cell, "output_size", state_sizes(cell)[0]))
        self.built = True

    def call(self, inputs, states, training=None, constants=None):
        sizes = [len(state_sizes(cell)) for cell in self.cells]
        by_cell, position = [], 0
        for count in sizes[::-1]:
            by_cell.append(list(states[position:position + count]))
            position += count
        by_cell = by_cell[::-1]
        new_by_cell = []
        for cell, cell_states in zip(self.cells, by_cell):
            kwargs = {"training": training} if _has_argument(cell.call, "training") else {}
            if constants is not None and _has_argument(cell.call, "constants"):
                kwargs["constants"] = constants
            inputs, new = cell.call(inputs, cell_states, **kwargs)
            new_by_cell.append(list(new))
        return inputs, [s for new in new_by_cell[::-1] for s in new]

    @property
    def trainable_weights(self):
        return [w for cell in self.cells for w in cell.trainable_weights] if self.trainable else []

    @property
    def non_trainable_weights(self):
        weights = [w for cell in self.cells for w in cell.non_trainable_weights]
        if not self.trainable:
            weights = [w for cell in self.cells for w in cell.trainable_weights] + weights
        return weights

    @property
    def losses(self):
        return [loss for cell in self.cells for loss in cell.losses]

    def get_config(self):
        return {**super().get_config(), "cells": [serialize_object(cell) for cell in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from symkeras.layers import deserialize

        config = dict(config)
        cells = [deserialize(c, custom_objects=custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
