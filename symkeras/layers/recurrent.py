"""Recurrent layers: RNN (any cell), SimpleRNN, GRU, LSTM (Keras 2's arguments, defaults, config keys and
behaviour: return_sequences, return_state, go_backwards, stateful, unroll, masks, initial_state, constants).

Each runs its cell over time with ``K.rnn``: one Loop node in the graph, compiled into the step.
"""

from __future__ import annotations

import warnings

import numpy as np

import symkeras.backend as K
from symkeras.backend.recurrent import zeros_per_sample
from symkeras.engine.base_layer import Layer, _has_argument, fmt_shape
from symkeras.graph.basic import Tensor
from symkeras.layers.recurrent_cells import (
    GRUCell,
    LSTMCell,
    SimpleRNNCell,
    StackedRNNCells,
    state_sizes,
)
from symkeras.utils.generic_utils import serialize_object, to_list


def _keras1_arguments(kwargs: dict, owner: str) -> None:
    """Keras 1 spellings still found in tutorials: each becomes its Keras 2 form with a DeprecationWarning."""
    for old, new in (("output_dim", "units"), ("dropout_W", "dropout"), ("dropout_U", "recurrent_dropout"),
                     ("init", "kernel_initializer"), ("inner_init", "recurrent_initializer"),
                     ("inner_activation", "recurrent_activation"), ("W_regularizer", "kernel_regularizer"),
                     ("U_regularizer", "recurrent_regularizer"), ("b_regularizer", "bias_regularizer")):
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{owner} got both `{old}` and its modern spelling `{new}`.")
            warnings.warn(f"{owner}: the argument `{old}` is deprecated; use `{new}` instead.", DeprecationWarning,
                          stacklevel=4)
            kwargs[new] = kwargs.pop(old)
    if "consume_less" in kwargs:
        value = kwargs.pop("consume_less")
        implementation = {"cpu": 0, "mem": 1, "gpu": 2}.get(value, 1)
        warnings.warn(f"{owner}: the argument `consume_less` is deprecated; use `implementation={implementation}` "
                      "instead.", DeprecationWarning, stacklevel=4)
        kwargs.setdefault("implementation", implementation)


def _sequence_input_shape(kwargs: dict) -> None:
    """``input_dim`` / ``input_length`` (Keras 2 still documents them on recurrent layers) -> ``input_shape``."""
    if "input_shape" not in kwargs and "batch_input_shape" not in kwargs and \
            ("input_dim" in kwargs or "input_length" in kwargs):
        kwargs["input_shape"] = (kwargs.pop("input_length", None), kwargs.pop("input_dim", None))
    kwargs.pop("input_dim", None)
    kwargs.pop("input_length", None)


class RNN(Layer):
    """Runs a cell over the time axis of its input (samples, time, features).

    Arguments: cell (a cell with ``call(inputs, states)`` and ``state_size``, or a list of them, stacked),
    return_sequences=False (output every step: (samples, time, units), else the last: (samples, units)),
    return_state=False (also return the final states), go_backwards=False (process the sequence backwards
    and return the reversed sequence), stateful=False (each batch starts from the states the previous
    batch ended with, sample by sample: needs a fixed batch size, from ``batch_input_shape`` or
    ``batch_size``; ``reset_states()`` sets them back to zero), unroll=False (build the step once per time
    step instead of a loop: the number of steps must be known).

    Calling: ``layer(inputs, initial_state=None, constants=None, mask=None, training=None)``; masks from an
    earlier layer (Embedding(mask_zero=True), Masking) are used: a masked step keeps the states and
    repeats the previous output.

    Raises:
        ValueError: an input of the wrong rank, a stateful layer without a fixed batch size, an initial
            state of the wrong count or shape, unroll over a time axis of unknown size.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, **kwargs):
        if isinstance(cell, list | tuple):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call"):
            raise ValueError(f"`cell` should have a `call` method. The RNN was passed: {cell!r}")
        if not hasattr(cell, "state_size"):
            raise ValueError("The RNN cell should have an attribute `state_size` (tuple of integers, one integer "
                             "per RNN state).")
        _sequence_input_shape(kwargs)
        self._num_constants = kwargs.pop("num_constants", None)
        if kwargs.pop("time_major", False):
            raise ValueError("time_major=True is not supported: inputs are (samples, time, ...).")
        zero_output_for_mask = bool(kwargs.pop("zero_output_for_mask", False))
        super().__init__(**kwargs)
        #: a masked step outputs zeros rather than the previous output (Bidirectional sets it when
        #: returning sequences, as tf-keras does)
        self.zero_output_for_mask = zero_output_for_mask
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.supports_masking = True
        self._states = None
        self._num_initial_states = 0

    # shapes and masks ------------------------------------------------------------------------
    @property
    def _state_sizes(self) -> list[int]:
        return state_sizes(self.cell)

    def _output_size(self) -> int:
        return int(getattr(self.cell, "output_size", self._state_sizes[0]))

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        out = self._output_size()
        output_shape = (input_shape[0], input_shape[1], out) if self.return_sequences else (input_shape[0], out)
        if self.return_state:
            return [output_shape] + [(input_shape[0], size) for size in self._state_sizes]
        return output_shape

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self._state_sizes)
        return output_mask

    # weights of the cell ---------------------------------------------------------------------
    @property
    def trainable_weights(self):
        return list(self.cell.trainable_weights) if self.trainable and isinstance(self.cell, Layer) else []

    @trainable_weights.setter
    def trainable_weights(self, weights):
        self._trainable_weights = list(weights)

    @property
    def non_trainable_weights(self):
        if not isinstance(self.cell, Layer):
            return []
        if self.trainable:
            return list(self.cell.non_trainable_weights)
        return list(self.cell.trainable_weights) + list(self.cell.non_trainable_weights)

    @non_trainable_weights.setter
    def non_trainable_weights(self, weights):
        self._non_trainable_weights = list(weights)

    # building -------------------------------------------------------------------------------------
    def build(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(f"Layer {self.name} expects a sequence input (samples, time, features); got shape "
                             f"{fmt_shape(input_shape)}.")
        if self.stateful and input_shape[0] is None:
            raise ValueError(f"Layer {self.name} is stateful: it needs to know its batch size. Specify the batch "
                             "size of your input tensors: pass `batch_input_shape=(32, 10, 16)` (or "
                             "`batch_size=32`) to the first layer of a Sequential model, or `batch_shape=` to "
                             "Input for a functional model.")
        if isinstance(self.cell, Layer) and not self.cell.built:
            step_shape = (input_shape[0], *input_shape[2:])
            self.cell.build(step_shape)
            self.cell.built = True
            self._losses.extend(_weight_penalties(self.cell))
        if self.stateful:
            self._batch_size = int(input_shape[0])
            self._states = [K.zeros((self._batch_size, size)) for size in self._state_sizes]
        self.built = True

    @property
    def states(self) -> list:
        if self._states is None:
            return [None] * len(self._state_sizes)
        return list(self._states)

    def get_initial_state(self, inputs: Tensor) -> list[Tensor]:
        """Zero states, (samples, size) each, for ``inputs`` (samples, time, ...)."""
        return [zeros_per_sample(inputs, (size,), inputs.dtype) for size in self._state_sizes]

    def reset_states(self, states=None) -> None:
        """Set the states of a stateful layer to zero, or to ``states`` (arrays of (batch, size))."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        if self._states is None:
            raise RuntimeError(f"Layer {self.name} is not built yet: it has no states to reset.")
        if states is None:
            K.batch_set_value([(s, np.zeros(K.int_shape(s), dtype=s.dtype)) for s in self._states])
            return
        states = to_list(states)
        if len(states) != len(self._states):
            raise ValueError(f"Layer {self.name} expects {len(self._states)} states, but it received "
                             f"{len(states)} state values. Input received: {states!r}")
        pairs = []
        for index, (state, value) in enumerate(zip(self._states, states)):
            value = np.asarray(value)
            if value.shape != tuple(K.int_shape(state)):
                raise ValueError(f"State {index} is incompatible with layer {self.name}: expected shape="
                                 f"{tuple(K.int_shape(state))}, found shape={value.shape}")
            pairs.append((state, value))
        K.batch_set_value(pairs)

    # calling --------------------------------------------------------------------------------------
    def __call__(self, inputs, initial_state=None, constants=None, **kwargs):
        if isinstance(inputs, list) and initial_state is None and constants is None and len(inputs) > 1:
            # [inputs, *initial_states, *constants] as one list (how a model's config replays the call)
            count = self._num_constants or 0
            rest = inputs[1:]
            initial_state = rest[:len(rest) - count] or None
            constants = rest[len(rest) - count:] if count else None
            inputs = inputs[0]
        if initial_state is None and constants is None:
            self._num_initial_states = 0
            return super().__call__(inputs, **kwargs)
        initial_state = to_list(initial_state) if initial_state is not None else []
        constants = to_list(constants) if constants is not None else []
        self._num_constants = len(constants) or None
        self._num_initial_states = len(initial_state)
        return super().__call__([inputs, *initial_state, *constants], **kwargs)

    def _split_inputs(self, inputs):
        if not isinstance(inputs, list):
            return inputs, None, []
        count = self._num_constants or 0
        sequence, rest = inputs[0], list(inputs[1:])
        constants = rest[len(rest) - count:] if count else []
        initial = rest[:len(rest) - count]
        return sequence, (initial or None), constants

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        sequence, given_states, given_constants = self._split_inputs(inputs)
        initial_state = initial_state if initial_state is not None else given_states
        constants = list(constants) if constants is not None else given_constants
        if isinstance(mask, list):
            mask = mask[0]
        if sequence.ndim < 3:
            raise ValueError(f"Layer {self.name} expects a sequence input (samples, time, features); got shape "
                             f"{fmt_shape(K.int_shape(sequence))}.")
        if initial_state is not None:
            initial_state = self._checked_initial_state(to_list(initial_state))
        elif self.stateful:
            initial_state = self.states
        else:
            initial_state = self.get_initial_state(sequence)
        steps = K.int_shape(sequence)[1]
        if self.unroll and steps is None:
            raise ValueError(f"Layer {self.name}: cannot unroll a RNN if the time dimension is undefined. Pass a "
                             "known number of steps (input_shape=(steps, features)), or unroll=False.")
        if hasattr(self.cell, "dropout_masks"):
            self.cell.dropout_masks(sequence, initial_state, training)
        cell = self.cell
        step_kwargs = {"training": training} if _has_argument(cell.call, "training") else {}
        n_states = len(initial_state)

        def step(x_t, states):
            if constants and _has_argument(cell.call, "constants"):
                return cell.call(x_t, list(states[:n_states]), constants=list(states[n_states:]), **step_kwargs)
            return cell.call(x_t, list(states[:n_states]), **step_kwargs)

        last_output, outputs, states = K.rnn(step, sequence, initial_state, go_backwards=self.go_backwards,
                                             mask=mask, constants=constants, unroll=self.unroll,
                                             input_length=steps, zero_output_for_mask=self.zero_output_for_mask)
        if self.stateful:
            self.add_update([(var, new) for var, new in zip(self._states, states)], inputs)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return [output, *states]
        return output

    def _checked_initial_state(self, states: list) -> list:
        sizes = self._state_sizes
        if len(states) != len(sizes):
            raise ValueError(f"Layer {self.name} has {len(sizes)} states but was passed {len(states)} initial "
                             f"states.")
        for index, (state, size) in enumerate(zip(states, sizes)):
            shape = K.int_shape(state)
            if len(shape) != 2 or (shape[-1] is not None and shape[-1] != size):
                raise ValueError(f"Layer {self.name}: initial state {index} should have shape (samples, {size}); "
                                 f"got {fmt_shape(shape)}.")
        return states

    # config ---------------------------------------------------------------------------------------------
    def _rnn_config(self) -> dict:
        config = {"return_sequences": self.return_sequences, "return_state": self.return_state,
                  "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll}
        if self._num_constants:
            config["num_constants"] = self._num_constants
        return config

    def get_config(self):
        return {**super().get_config(), "cell": serialize_object(self.cell), **self._rnn_config()}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from symkeras.layers import deserialize

        config = dict(config)
        cell = deserialize(config.pop("cell"), custom_objects=custom_objects)
        return cls(cell, **config)


def _weight_penalties(cell) -> list:
    """The (loss, key) entries of a cell's weight regularizers (and of its cells', when stacked)."""
    found = list(getattr(cell, "_losses", []))
    for inner in getattr(cell, "cells", []):
        found += _weight_penalties(inner)
    return found


class _BuiltInRNN(RNN):
    """SimpleRNN, GRU and LSTM: an RNN over a cell made from the layer's own arguments (flat in its config)."""

    cell_class: type = SimpleRNNCell
    #: argument names of the cell, in the order of its config
    cell_arguments: tuple = ()

    def __init__(self, units=None, **kwargs):
        name = type(self).__name__
        _keras1_arguments(kwargs, name)
        if units is None:
            units = kwargs.pop("units", None)
        if "implementation" in kwargs and kwargs["implementation"] == 0:
            warnings.warn(f"{name}: `implementation=0` has been deprecated, and now defaults to "
                          "`implementation=1`. Please update your layer call.", DeprecationWarning, stacklevel=3)
            kwargs["implementation"] = 1
        cell_kwargs = {k: kwargs.pop(k) for k in self.cell_arguments if k in kwargs}
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        rnn_kwargs = {k: kwargs.pop(k) for k in ("return_sequences", "return_state", "go_backwards", "stateful",
                                                 "unroll") if k in kwargs}
        _sequence_input_shape(kwargs)
        super().__init__(_PendingCell(), **rnn_kwargs, **kwargs)
        from symkeras import regularizers

        self.cell = self.cell_class(units, name=f"{self.name}_cell", dtype=self.dtype, **cell_kwargs)
        self.activity_regularizer = regularizers.get(activity_regularizer)

    def call(self, inputs, mask=None, training=None, initial_state=None):
        return super().call(inputs, mask=mask, training=training, initial_state=initial_state)

    def __getattr__(self, name):
        # the cell's settings read as the layer's own (layer.units, layer.dropout, ...), as in Keras 2
        if name != "cell" and "cell" in self.__dict__ and name in self.cell_arguments + ("units",):
            return getattr(self.__dict__["cell"], name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype", "batch_input_shape"):
            cell_config.pop(key, None)
        from symkeras import regularizers

        config = {**Layer.get_config(self), **cell_config,
                  "activity_regularizer": regularizers.serialize(self.activity_regularizer)
                  if self.activity_regularizer is not None else None,
                  **self._rnn_config()}
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


class _PendingCell:
    """Stands for the cell while the layer's own name is chosen (the cell is named after the layer)."""

    state_size = 1

    def call(self, inputs, states):
        raise RuntimeError("The cell of this layer was not made.")


_COMMON = ("activation", "use_bias", "kernel_initializer", "recurrent_initializer", "bias_initializer",
           "kernel_regularizer", "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
           "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout")


class SimpleRNN(_BuiltInRNN):
    """A fully connected RNN whose output is fed back: ``h = activation(x W + h_prev U + b)``.

    Arguments: units, and those of SimpleRNNCell (activation="tanh", use_bias, initializers, regularizers,
    constraints, dropout, recurrent_dropout), activity_regularizer, and those of RNN (return_sequences,
    return_state, go_backwards, stateful, unroll).
    """

    cell_class = SimpleRNNCell
    cell_arguments = _COMMON


class GRU(_BuiltInRNN):
    """Gated recurrent unit (Cho et al. 2014) over time.

    Arguments: units, and those of GRUCell (activation="tanh", recurrent_activation="sigmoid",
    reset_after=True, implementation=1, ...), activity_regularizer, and those of RNN.
    """

    cell_class = GRUCell
    cell_arguments = _COMMON + ("recurrent_activation", "implementation", "reset_after")


class LSTM(_BuiltInRNN):
    """Long short-term memory (Hochreiter 1997) over time; states [h, c].

    Arguments: units, and those of LSTMCell (activation="tanh", recurrent_activation="sigmoid",
    unit_forget_bias=True, implementation=1, ...), activity_regularizer, and those of RNN.
    """

    cell_class = LSTMCell
    cell_arguments = _COMMON + ("recurrent_activation", "unit_forget_bias", "implementation")
