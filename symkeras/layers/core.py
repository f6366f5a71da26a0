"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda."""

from __future__ import annotations

import types

import numpy as np

import symkeras.backend as K
from symkeras import activations, constraints, initializers, regularizers
from symkeras.engine.base_layer import Layer, fmt_shape
from symkeras.saving.bytecode import func_dump, func_load  # noqa: F401  (Keras 2 exports them here too)
from symkeras.utils.generic_utils import renamed_argument, serialize_object


def _keras1_input_dim(kwargs: dict, owner: str) -> None:
    """``input_dim=n`` is ``input_shape=(n,)``, with ``input_length=t`` ``input_shape=(t, n)`` (as on recurrent
    layers; Dense applies to the last axis)."""
    length = kwargs.pop("input_length", None)
    if "input_shape" not in kwargs and "input_dim" in kwargs:
        dim = kwargs.pop("input_dim")
        kwargs["input_shape"] = (dim,) if length is None else (length, dim)
    kwargs.pop("input_dim", None)


class Dense(Layer):
    """``activation(dot(input, kernel) + bias)``; an n-D input is multiplied along its last axis."""

    def __init__(self, units=None, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        renamed_argument(kwargs, "output_dim", "units", "Dense")
        renamed_argument(kwargs, "init", "kernel_initializer", "Dense")
        renamed_argument(kwargs, "W_regularizer", "kernel_regularizer", "Dense")
        renamed_argument(kwargs, "b_regularizer", "bias_regularizer", "Dense")
        renamed_argument(kwargs, "W_constraint", "kernel_constraint", "Dense")
        renamed_argument(kwargs, "b_constraint", "bias_constraint", "Dense")
        renamed_argument(kwargs, "bias", "use_bias", "Dense")
        units = kwargs.pop("units", units)
        kernel_initializer = kwargs.pop("kernel_initializer", kernel_initializer)
        kernel_regularizer = kwargs.pop("kernel_regularizer", kernel_regularizer)
        bias_regularizer = kwargs.pop("bias_regularizer", bias_regularizer)
        kernel_constraint = kwargs.pop("kernel_constraint", kernel_constraint)
        bias_constraint = kwargs.pop("bias_constraint", bias_constraint)
        use_bias = kwargs.pop("use_bias", use_bias)
        _keras1_input_dim(kwargs, "Dense")
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dense layer {self.name}: units must be a positive integer; got {units!r}.")
        if int(units) <= 0:
            raise ValueError(f"Dense layer {self.name} needs a positive number of units; got {units!r}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Dense layer {self.name} needs an input whose last dimension is known; "
                             f"got shape {fmt_shape(input_shape)}.")
        self.input_dim = input_shape[-1]
        self.kernel = self.add_weight("kernel", (self.input_dim, self.units), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        output = K.dot(inputs, self.kernel)
        if self.use_bias:
            output = K.bias_add(output, self.bias)
        return self.activation(output)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": serialize_object(self.kernel_initializer),
                "bias_initializer": serialize_object(self.bias_initializer),
                "kernel_regularizer": serialize_object(self.kernel_regularizer),
                "bias_regularizer": serialize_object(self.bias_regularizer),
                "activity_regularizer": serialize_object(self.activity_regularizer),
                "kernel_constraint": serialize_object(self.kernel_constraint),
                "bias_constraint": serialize_object(self.bias_constraint)}


class Activation(Layer):
    """Applies an activation by name ('relu', 'softmax', ...) or any callable."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Masking(Layer):
    """Marks the time steps whose features all equal ``mask_value`` as masked (later layers that support
    masks skip them) and zeroes them.

    Arguments: mask_value=0.0.  Input (samples, time, features): the mask is (samples, time).
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        return K.any(K.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = K.any(K.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return inputs * K.cast(keep, K.dtype(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class Dropout(Layer):
    """Zeroes a fraction ``rate`` of the inputs while training (scaling the rest); identity at inference."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        renamed_argument(kwargs, "p", "rate", "Dropout")
        rate = kwargs.pop("rate", rate)
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) <= 1.0:
            raise ValueError(f"Dropout layer {self.name}: rate must be in [0, 1]; got {rate}.")
        self.rate = min(1.0, max(0.0, float(rate)))
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True

    def _noise_shape(self, inputs):
        """The shape of the dropout mask (None: the input's); None entries take the input's sizes."""
        if self.noise_shape is None:
            return None
        return tuple(d if d is not None else K.int_shape(inputs)[i] for i, d in enumerate(self.noise_shape))

    def call(self, inputs, training=None):
        if not 0.0 < self.rate < 1.0:
            return inputs
        noise_shape = self._noise_shape(inputs)

        def dropped():
            return K.dropout(inputs, self.rate, noise_shape, seed=self.seed)

        return K.in_train_phase(dropped, inputs, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one draw per sample and channel, shared by every spatial position."""

    rank = 1

    def __init__(self, rate, data_format=None, **kwargs):
        super().__init__(rate, **kwargs)
        self.data_format = K.normalize_data_format("channels_last" if self.rank == 1 else data_format)

    def _noise_shape(self, inputs):
        if K.ndim(inputs) != self.rank + 2:
            raise ValueError(f"Layer {self.name} expects an input of rank {self.rank + 2}; got shape "
                             f"{fmt_shape(K.int_shape(inputs))}.")
        channels = K.int_shape(inputs)[1 if self.data_format == "channels_first" else -1]
        ones = (1,) * self.rank
        return (None, channels, *ones) if self.data_format == "channels_first" else (None, *ones, channels)

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape")
        config.pop("seed")
        return {**config, **({"data_format": self.data_format} if self.rank > 1 else {})}


class SpatialDropout1D(_SpatialDropout):
    """Drops whole channels of (batch, steps, channels)."""

    rank = 1

    def __init__(self, rate, **kwargs):
        super().__init__(rate, None, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    rank = 2


class SpatialDropout3D(_SpatialDropout):
    rank = 3


class ActivityRegularization(Layer):
    """The identity, with an L1/L2 penalty on its output added to the training loss."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.l1, self.l2 = float(l1), float(l2)
        self.activity_regularizer = regularizers.L1L2(l1=self.l1, l2=self.l2)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "l1": self.l1, "l2": self.l2}


class Flatten(Layer):
    """Flattens every axis but the batch axis."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = K.normalize_data_format(data_format)

    def compute_output_shape(self, input_shape):
        if not all(input_shape[1:]):
            raise ValueError(f'The shape of the input to "Flatten" is not fully defined (got '
                             f'{fmt_shape(input_shape[1:])}). Make sure to pass a complete "input_shape" or '
                             '"batch_input_shape" argument to the first layer in your model.')
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def call(self, inputs):
        if self.data_format == "channels_first" and K.ndim(inputs) > 2:
            inputs = K.permute_dimensions(inputs, (0, *range(2, K.ndim(inputs)), 1))
        return K.batch_flatten(inputs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes to ``target_shape`` (batch axis kept); one entry may be -1."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)

    def _fix_unknown_dimension(self, input_shape, output_shape):
        output_shape = list(output_shape)
        msg = (f"Reshape layer {self.name}: total size of new array must be unchanged (input shape "
               f"{fmt_shape(input_shape)}, target shape {fmt_shape(self.target_shape)}).")
        known, unknown = 1, None
        for index, dim in enumerate(output_shape):
            if dim < 0:
                if unknown is not None:
                    raise ValueError(f"Reshape layer {self.name}: can only specify one unknown dimension.")
                unknown = index
            else:
                known *= dim
        original = int(np.prod(input_shape))
        if unknown is not None:
            if known == 0 or original % known != 0:
                raise ValueError(msg)
            output_shape[unknown] = original // known
        elif original != known:
            raise ValueError(msg)
        return tuple(output_shape)

    def compute_output_shape(self, input_shape):
        if None in input_shape[1:]:
            return (input_shape[0], *(None if d == -1 else d for d in self.target_shape))
        return (input_shape[0], *self._fix_unknown_dimension(input_shape[1:], self.target_shape))

    def call(self, inputs):
        shape = self.compute_output_shape(K.int_shape(inputs))
        if None in shape[1:]:
            return K.reshape(inputs, (-1, *self.target_shape))
        return K.reshape(inputs, (-1, *shape[1:]))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes; ``dims`` counts from 1 (Keras's convention)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation `dims` for Permute layer {self.name}: {self.dims}. The set of "
                             "indices in `dims` must be consecutive and start from 1.")

    def call(self, inputs):
        return K.permute_dimensions(inputs, (0, *self.dims))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)

    def call(self, inputs):
        if K.ndim(inputs) != 2:
            raise ValueError(f"RepeatVector layer {self.name} expects a 2D input; got shape "
                             f"{fmt_shape(K.int_shape(inputs))}.")
        return K.repeat(inputs, self.n)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Lambda(Layer):
    """Wraps an expression: ``Lambda(lambda x: x ** 2)``; ``output_shape`` is optional (a tuple or a callable)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self.arguments = arguments or {}
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape

    def call(self, inputs, mask=None):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return Layer.compute_output_shape(self, input_shape)
        if callable(self._output_shape):
            shape = self._output_shape(input_shape)
            return tuple(shape) if not isinstance(shape, list) else [tuple(s) for s in shape]
        batch = input_shape[0][0] if isinstance(input_shape, list) else input_shape[0]
        return (batch, *tuple(self._output_shape))

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        if isinstance(self.function, types.LambdaType) and self.function.__name__ == "<lambda>":
            function, function_type = func_dump(self.function), "lambda"
        else:
            function, function_type = self.function.__name__, "function"
        if callable(self._output_shape):
            output_shape, output_shape_type = func_dump(self._output_shape), "lambda"
        else:
            output_shape, output_shape_type = self._output_shape, "raw"
        return {**super().get_config(), "function": function, "function_type": function_type,
                "output_shape": output_shape, "output_shape_type": output_shape_type, "arguments": self.arguments}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """The layer of ``get_config()``.  A function stored as bytecode is refused in safe mode
        (``safe_mode=True``, or inside ``load_model``/``layers.deserialize`` without ``safe_mode=False``:
        see symkeras/saving/safe_mode.py); a function stored by name is looked up in ``custom_objects``."""
        from symkeras.saving import safe_mode as safety
        from symkeras.utils.generic_utils import get_custom_objects

        config = dict(config)
        safe = safety.in_safe_mode() if safe_mode is None else safety.resolve(safe_mode)
        name = config.get("name", "lambda")
        scope = {**globals(), **get_custom_objects(), **(custom_objects or {})}
        if config.pop("function_type", "function") == "lambda":
            if safe:
                safety.refuse_code(name, "function")
            function = func_load(config["function"], globs=scope, layer=name)
        else:
            function = scope.get(config["function"]) if not str(config["function"]).startswith("_") else None
            if not callable(function):
                raise ValueError(f"Lambda layer {name!r}: unknown function {config['function']!r}; pass it in "
                                 f"custom_objects.")
        config["function"] = function
        if config.pop("output_shape_type", "raw") == "lambda":
            if safe:
                safety.refuse_code(name, "output_shape")
            config["output_shape"] = func_load(config["output_shape"], globs=scope, layer=name)
        elif isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        return cls(**config)
