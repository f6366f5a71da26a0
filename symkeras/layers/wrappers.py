"""Layer wrappers: TimeDistributed (a layer applied at every time step) and Bidirectional (a recurrent layer
run forwards and backwards, merged), with Keras 2's arguments, config keys and masks."""

from __future__ import annotations

import copy

import symkeras.backend as K
from symkeras.engine.base_layer import Layer, _has_argument, fmt_shape
from symkeras.utils.generic_utils import serialize_object, to_list


class Wrapper(Layer):
    """A layer that wraps another one (``layer``); its weights are the wrapped layer's."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `{type(self).__name__}` layer with a `Layer` instance. "
                             f"You passed: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    @property
    def trainable_weights(self):
        return self.layer.trainable_weights if self.trainable else []

    @trainable_weights.setter
    def trainable_weights(self, weights):
        self._trainable_weights = list(weights)

    @property
    def non_trainable_weights(self):
        if self.trainable:
            return self.layer.non_trainable_weights
        return self.layer.trainable_weights + self.layer.non_trainable_weights

    @non_trainable_weights.setter
    def non_trainable_weights(self, weights):
        self._non_trainable_weights = list(weights)

    def _adopt(self, layer) -> None:
        """Make the wrapped layer's penalties and updates this layer's (the model sees only the wrapper)."""
        self._losses.extend(layer._losses)
        layer._losses = []

    def get_config(self):
        return {**super().get_config(), "layer": serialize_object(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from symkeras.layers import deserialize

        config = dict(config)
        layer = deserialize(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)


class TimeDistributed(Wrapper):
    """Applies ``layer`` to every time step of a (samples, time, ...) input, with the same weights.

    The samples and time axes are folded into one for the wrapped layer, then unfolded.  Masks pass
    through.
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _step_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 3:
            raise ValueError(f"`TimeDistributed` layer {self.name} needs an input of rank 3 or more (samples, "
                             f"time, ...); got shape {fmt_shape(input_shape)}.")
        return (None, *input_shape[2:])

    def build(self, input_shape):
        step_shape = self._step_shape(input_shape)
        if not self.layer.built:
            self.layer.build(step_shape)
            self.layer.built = True
            self._adopt(self.layer)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        inner = tuple(self.layer.compute_output_shape((input_shape[0], *input_shape[2:])))
        return (inner[0], input_shape[1], *inner[1:])

    def compute_mask(self, inputs, mask=None):
        return mask

    def call(self, inputs, training=None, mask=None):
        shape = K.int_shape(inputs)
        if None in shape[2:]:
            raise ValueError(f"`TimeDistributed` layer {self.name}: the dimensions after time must be known; "
                             f"got shape {fmt_shape(shape)}.")
        steps = shape[1] if shape[1] is not None else K.shape(inputs)[1]
        folded = K.reshape(inputs, (-1, *shape[2:]))
        kwargs = {"training": training} if _has_argument(self.layer.call, "training") else {}
        with _inner_call(self, self.layer):
            out = self.layer.call(folded, **kwargs)
        out_shape = K.int_shape(out)
        return K.reshape(out, (-1, steps, *out_shape[1:]))


class Bidirectional(Wrapper):
    """Runs a recurrent ``layer`` forwards and a copy of it backwards over the input, and merges them.

    Arguments: layer (an RNN), merge_mode="concat" ("sum", "mul", "ave", "concat" or None: a list of both
    outputs), weights=None (initial weights: the forward layer's, then the backward one's),
    backward_layer=None (the backward layer; by default a copy of ``layer`` with go_backwards flipped).
    The backward sequence is reversed back before merging, so both are aligned in time.  With
    return_state, the states of the forward layer then of the backward one follow the output.

    Raises:
        ValueError: a bad merge_mode, a layer that is not recurrent.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if merge_mode not in ("sum", "mul", "ave", "concat", None):
            raise ValueError(f'Invalid merge mode. Merge mode should be one of {{"sum", "mul", "ave", "concat", '
                             f"None}}; got {merge_mode!r}.")
        if not hasattr(layer, "go_backwards"):
            raise ValueError(f"Bidirectional needs a recurrent layer (with go_backwards); got {layer!r}.")
        super().__init__(layer, **kwargs)
        self.forward_layer = layer
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = f"backward_{layer.name}"
            config["go_backwards"] = not layer.go_backwards
            backward_layer = type(layer).from_config(config)
        elif backward_layer.go_backwards == layer.go_backwards:
            raise ValueError("Forward layer and backward layer should have different `go_backwards` values.")
        self.backward_layer = backward_layer
        self.forward_layer.name = f"forward_{layer.name}" if not layer.name.startswith("forward_") else layer.name
        for each in (self.forward_layer, self.backward_layer):
            each.zero_output_for_mask = each.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = layer.stateful
        self.supports_masking = True
        self._pending_weights = weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self.forward_layer.trainable_weights + self.backward_layer.trainable_weights

    @trainable_weights.setter
    def trainable_weights(self, weights):
        self._trainable_weights = list(weights)

    @property
    def non_trainable_weights(self):
        weights = self.forward_layer.non_trainable_weights + self.backward_layer.non_trainable_weights
        if not self.trainable:
            weights = self.forward_layer.trainable_weights + self.backward_layer.trainable_weights + weights
        return weights

    @non_trainable_weights.setter
    def non_trainable_weights(self, weights):
        self._non_trainable_weights = list(weights)

    def build(self, input_shape):
        for layer in (self.forward_layer, self.backward_layer):
            if not layer.built:
                layer.build(input_shape)
                layer.built = True
                self._adopt(layer)
        if self._pending_weights is not None:
            count = len(self._pending_weights) // 2
            self.forward_layer.set_weights(self._pending_weights[:count])
            self.backward_layer.set_weights(self._pending_weights[count:])
            self._pending_weights = None
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = to_list(self.forward_layer.compute_output_shape(input_shape))
        if not isinstance(shapes[0], tuple | list):
            shapes = [tuple(shapes)]
        output_shape, state_shapes = tuple(shapes[0]), [tuple(s) for s in shapes[1:]]
        if self.merge_mode == "concat":
            output_shape = (*output_shape[:-1], output_shape[-1] * 2)
        if self.merge_mode is None:
            outputs = [output_shape, copy.copy(output_shape)]
        else:
            outputs = [output_shape]
        if self.return_state:
            return outputs + state_shapes + copy.copy(state_shapes)
        return outputs if self.merge_mode is None else outputs[0]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            n = len(self.forward_layer._state_sizes)
            return masks + [None] * (2 * n)
        return masks if self.merge_mode is None else masks[0]

    def call(self, inputs, mask=None, training=None, initial_state=None):
        forward_state = backward_state = None
        if initial_state is not None:
            states = to_list(initial_state)
            if len(states) % 2:
                raise ValueError(f"Bidirectional layer {self.name}: initial_state should hold the forward "
                                 f"layer's states then the backward layer's; got {len(states)} tensors.")
            half = len(states) // 2
            forward_state, backward_state = states[:half], states[half:]
        y = self._run(self.forward_layer, inputs, mask, training, forward_state)
        y_rev = self._run(self.backward_layer, inputs, mask, training, backward_state)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = K.reverse(y_rev, 1)
        if self.merge_mode == "concat":
            output = K.concatenate([y, y_rev])
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = [y, y_rev]
        if self.return_state:
            return to_list(output) + states
        return output

    def _run(self, layer, inputs, mask, training, initial_state):
        with _inner_call(self, layer):
            return layer.call(inputs, mask=mask, training=training, initial_state=initial_state)

    def reset_states(self, states=None):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self):
        config = {**super().get_config(), "merge_mode": self.merge_mode}
        config["layer"] = serialize_object(self.forward_layer)
        config["layer"]["config"]["name"] = self.forward_layer.name.replace("forward_", "", 1)
        config["backward_layer"] = serialize_object(self.backward_layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from symkeras.layers import deserialize

        config = dict(config)
        layer = deserialize(config.pop("layer"), custom_objects=custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize(backward, custom_objects=custom_objects)
        return cls(layer, backward_layer=backward, **config)


class _inner_call:
    """While a wrapper calls its layer's ``call`` directly, the updates that layer adds (a stateful layer's
    states) are moved to the wrapper, so the model, which holds the wrapper, finds them."""

    def __init__(self, wrapper: Layer, layer: Layer):
        self.wrapper, self.layer = wrapper, layer

    def __enter__(self):
        self.count = len(self.layer._updates)
        return self

    def __exit__(self, *exc):
        added = self.layer._updates[self.count:]
        del self.layer._updates[self.count:]
        self.wrapper._updates.extend(added)
        return False
