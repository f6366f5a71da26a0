"""Convolution layers (Keras 2's arguments, defaults and config keys), and their Keras 1 spellings.

Conv1D/2D/3D, SeparableConv1D/2D, DepthwiseConv2D, Conv2DTranspose and
Conv3DTranspose build their weights in Keras's layouts (kernel
``(*kernel_size, in channels, filters)``; a transposed kernel
``(*kernel_size, filters, in channels)``) and call the backend's
convolution functions.  Keras 1's ``Convolution2D(64, 3, 3,
border_mode='same', subsample=(2, 2), dim_ordering='th')`` and
``Convolution1D(nb_filter, filter_length)`` still work, each renamed
argument with a DeprecationWarning naming the Keras 2 form.
"""

from __future__ import annotations

import warnings

import symkeras.backend as K
from symkeras import activations, constraints, initializers, regularizers
from symkeras.engine.base_layer import Layer, fmt_shape
from symkeras.graph.ops.conv import PADDINGS, output_size
from symkeras.layers.core import _keras1_input_dim
from symkeras.utils.generic_utils import renamed_argument, serialize_object

_DIM_ORDERING = {"th": "channels_first", "tf": "channels_last", "default": None}


def normalize_tuple(value, rank: int, name: str) -> tuple:
    """An int or a sequence of ``rank`` ints as a tuple; a clear ValueError otherwise."""
    if isinstance(value, int):
        return (value,) * rank
    try:
        values = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"The `{name}` argument must be an int or a tuple of {rank} ints; got {value!r}.") from None
    if len(values) != rank:
        raise ValueError(f"The `{name}` argument must be a tuple of {rank} integers; got {value!r}.")
    return values


def _positive(values: tuple, name: str, layer: str) -> tuple:
    if any(v < 1 for v in values):
        raise ValueError(f"Layer {layer}: `{name}` must be positive; got {values}.")
    return values


def keras1_conv_arguments(kwargs: dict, owner: str) -> None:
    """Keras 1's convolution keywords renamed to Keras 2's, each with a DeprecationWarning."""
    renamed_argument(kwargs, "nb_filter", "filters", owner)
    renamed_argument(kwargs, "border_mode", "padding", owner)
    renamed_argument(kwargs, "subsample", "strides", owner)
    renamed_argument(kwargs, "subsample_length", "strides", owner)
    renamed_argument(kwargs, "filter_length", "kernel_size", owner)
    renamed_argument(kwargs, "atrous_rate", "dilation_rate", owner)
    renamed_argument(kwargs, "init", "kernel_initializer", owner)
    renamed_argument(kwargs, "W_regularizer", "kernel_regularizer", owner)
    renamed_argument(kwargs, "b_regularizer", "bias_regularizer", owner)
    renamed_argument(kwargs, "W_constraint", "kernel_constraint", owner)
    renamed_argument(kwargs, "b_constraint", "bias_constraint", owner)
    renamed_argument(kwargs, "bias", "use_bias", owner)
    renamed_argument(kwargs, "dim_ordering", "data_format", owner, convert=lambda v: _DIM_ORDERING.get(v, v))


def _legacy_kernel_size(owner: str, kernel_size, rest: tuple, rank: int) -> tuple:
    """``Convolution2D(64, 3, 3)``: Keras 1's nb_row, nb_col as positional ints -> kernel_size (3, 3)."""
    if rank > 1 and isinstance(kernel_size, int) and len(rest) >= rank - 1 and \
            all(isinstance(v, int) for v in rest[:rank - 1]):
        warnings.warn(f"{owner}: the Keras 1 form {owner}(filters, {', '.join(['n'] * rank)}) is deprecated; use "
                      f"{owner}(filters, kernel_size=({', '.join(['n'] * rank)})) instead.", DeprecationWarning,
                      stacklevel=4)
        return (kernel_size, *rest[:rank - 1]), rest[rank - 1:]
    return kernel_size, rest


class _Conv(Layer):
    """What every convolution layer shares: the geometry, the activation, the bias, the data format.

    Arguments (Keras 2's, with its defaults): filters, kernel_size, strides=1, padding="valid"
    (1-D: also "causal"), data_format=None (image_data_format(); Conv1D: "channels_last"),
    dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
    bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
    kernel_constraint=None, bias_constraint=None, and the Layer keywords.
    """

    rank = 2
    _needs_filters = True
    #: the parameters after filters and kernel_size, in Keras 2's positional order
    _POSITIONAL = ("strides", "padding", "data_format", "dilation_rate", "activation", "use_bias")
    _DEFAULTS = dict(strides=1, padding="valid", data_format=None, dilation_rate=1, activation=None, use_bias=True,
                     kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                     bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None)

    def __init__(self, filters=None, kernel_size=None, *args, **kwargs):
        owner = type(self).__name__
        kernel_size, args = _legacy_kernel_size(owner, kernel_size, args, self.rank)
        keras1_conv_arguments(kwargs, owner)
        filters = kwargs.pop("filters", filters)
        kernel_size = kwargs.pop("kernel_size", kernel_size)
        if kernel_size is None or (filters is None and self._needs_filters):
            raise TypeError(f"{owner} needs {'filters and ' if self._needs_filters else ''}kernel_size.")
        options = self._options(owner, args, kwargs)
        kwargs.pop("groups", None)  # tf-keras writes it (always 1 for these layers)
        _keras1_input_dim(kwargs, owner)
        super().__init__(**kwargs)
        if filters is not None and int(filters) <= 0:
            raise ValueError(f"Layer {self.name}: `filters` must be a positive integer; got {filters!r}.")
        self.filters = None if filters is None else int(filters)
        self.kernel_size = _positive(normalize_tuple(kernel_size, self.rank, "kernel_size"), "kernel_size", self.name)
        self.strides = _positive(normalize_tuple(options["strides"], self.rank, "strides"), "strides", self.name)
        padding = str(options["padding"]).lower()
        if padding not in PADDINGS or (padding == "causal" and self.rank != 1):
            allowed = "'valid', 'same'" + (" or 'causal'" if self.rank == 1 else "")
            raise ValueError(f"Layer {self.name}: padding must be {allowed}; got {options['padding']!r}.")
        self.padding = padding
        self.data_format = self._data_format(options["data_format"])
        self.dilation_rate = _positive(normalize_tuple(options["dilation_rate"], self.rank, "dilation_rate"),
                                       "dilation_rate", self.name)
        self.activation = activations.get(options["activation"])
        self.use_bias = bool(options["use_bias"])
        for kind, get in (("initializer", initializers.get), ("regularizer", regularizers.get),
                          ("constraint", constraints.get)):
            for key in options:
                if key.endswith("_" + kind):
                    setattr(self, key, get(options[key]))
        self.activity_regularizer = regularizers.get(options["activity_regularizer"])
        self._configure(options)

    def _options(self, owner: str, args: tuple, kwargs: dict) -> dict:
        """The layer's options: defaults, then the positional arguments, then the keywords (popped)."""
        if len(args) > len(self._POSITIONAL):
            raise TypeError(f"{owner} takes at most {len(self._POSITIONAL)} positional arguments after "
                            "filters and kernel_size.")
        options = dict(self._DEFAULTS)
        given = dict(zip(self._POSITIONAL, args))
        for key in list(options):
            if key in kwargs:
                if key in given:
                    raise TypeError(f"{owner} got multiple values for argument '{key}'.")
                given[key] = kwargs.pop(key)
        options.update(given)
        return options

    def _configure(self, options: dict) -> None:
        """Subclasses read their own options here."""

    def _data_format(self, value):
        return K.normalize_data_format(value)

    # --- shapes ---------------------------------------------------------------------------------------
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _spatial(self, input_shape) -> tuple:
        return tuple(input_shape[2:]) if self.data_format == "channels_first" else tuple(input_shape[1:-1])

    def _input_channels(self, input_shape) -> int:
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name} expects an input of rank {self.rank + 2} (batch, {self.rank} "
                             f"spatial dims, channels); got shape {fmt_shape(input_shape)}.")
        channels = input_shape[self._channel_axis()]
        if channels is None:
            raise ValueError(f"The channel dimension of the inputs to layer {self.name} should be defined; "
                             f"got shape {fmt_shape(input_shape)}.")
        return int(channels)

    def _output_spatial(self, spatial) -> tuple:
        out = tuple(output_size(s, k, st, d, self.padding, a) for a, (s, k, st, d) in
                    enumerate(zip(spatial, self.kernel_size, self.strides, self.dilation_rate)))
        for a, (s, o) in enumerate(zip(spatial, out)):
            if o is not None and o < 1:
                raise ValueError(f"Layer {self.name}: the kernel {self.kernel_size} (dilation {self.dilation_rate}) "
                                 f"is larger than the input along spatial axis {a} (size {s}, {self.padding} "
                                 f"padding).")
        return out

    def _shaped(self, batch, spatial, channels) -> tuple:
        if self.data_format == "channels_first":
            return (batch, channels, *spatial)
        return (batch, *spatial, channels)

    def compute_output_shape(self, input_shape):
        self._input_channels(input_shape)
        return self._shaped(input_shape[0], self._output_spatial(self._spatial(input_shape)), self._out_channels())

    def _out_channels(self) -> int:
        return self.filters

    # --- weights and the call -----------------------------------------------------------------------------
    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._output_spatial(self._spatial(input_shape))
        self.kernel = self.add_weight("kernel", (*self.kernel_size, channels, self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._build_bias(self.filters)
        self.built = True

    def _build_bias(self, size: int) -> None:
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight("bias", (size,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _convolve(self, inputs):
        conv = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}[self.rank]
        strides = self.strides[0] if self.rank == 1 else self.strides
        dilation = self.dilation_rate[0] if self.rank == 1 else self.dilation_rate
        return conv(inputs, self.kernel, strides=strides, padding=self.padding, data_format=self.data_format,
                    dilation_rate=dilation)

    def call(self, inputs):
        outputs = self._convolve(inputs)
        if self.use_bias:
            outputs = K.bias_add(outputs, self.bias, data_format=self.data_format)
        return self.activation(outputs) if self.activation is not None else outputs

    def get_config(self):
        """Keras 2's keys: the Layer's, filters, kernel_size, then every option of the layer."""
        config = {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size}
        for key in self._DEFAULTS:
            value = getattr(self, key)
            if key == "activation":
                value = activations.serialize(value)
            elif key.endswith(("_initializer", "_regularizer", "_constraint")):
                value = serialize_object(value)
            config[key] = value
        return config


class Conv1D(_Conv):
    """1-D convolution (temporal): input (batch, steps, channels); ``padding="causal"`` looks only back."""

    rank = 1

    def _data_format(self, value):
        return K.normalize_data_format(value or "channels_last")  # Keras 2: Conv1D is channels_last unless told


class Conv2D(_Conv):
    """2-D convolution (spatial over images): input (batch, rows, cols, channels) in channels_last."""

    rank = 2


class Conv3D(_Conv):
    """3-D convolution (over volumes): input (batch, depth, rows, cols, channels) in channels_last."""

    rank = 3


class _SeparableConv(_Conv):
    """A depthwise convolution (``depth_multiplier`` filters per channel), then a pointwise one to ``filters``.

    Arguments: those of the convolutions, with depth_multiplier=1 and depthwise_/pointwise_ initializers
    ("glorot_uniform"), regularizers and constraints in place of the kernel's.
    """

    _POSITIONAL = ("strides", "padding", "data_format", "dilation_rate", "depth_multiplier", "activation", "use_bias")
    _DEFAULTS = {**{k: v for k, v in _Conv._DEFAULTS.items() if not k.startswith("kernel_")}, "depth_multiplier": 1,
                 "depthwise_initializer": "glorot_uniform", "pointwise_initializer": "glorot_uniform",
                 "depthwise_regularizer": None, "pointwise_regularizer": None, "depthwise_constraint": None,
                 "pointwise_constraint": None}

    def _configure(self, options):
        self.depth_multiplier = _positive((int(options["depth_multiplier"]),), "depth_multiplier", self.name)[0]

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._output_spatial(self._spatial(input_shape))
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", ((1,) * self.rank + (channels * self.depth_multiplier, self.filters)),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self._build_bias(self.filters)
        self.built = True

    def _convolve(self, inputs):
        separable = {1: K.separable_conv1d, 2: K.separable_conv2d}[self.rank]
        strides = self.strides[0] if self.rank == 1 else self.strides
        dilation = self.dilation_rate[0] if self.rank == 1 else self.dilation_rate
        return separable(inputs, self.depthwise_kernel, self.pointwise_kernel, strides=strides, padding=self.padding,
                         data_format=self.data_format, dilation_rate=dilation)


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution."""

    rank = 1

    def _data_format(self, value):
        return K.normalize_data_format(value or "channels_last")


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution."""

    rank = 2


class DepthwiseConv2D(_Conv):
    """Each input channel convolved with its own ``depth_multiplier`` filters (no mixing of channels).

    Arguments: kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
    activation=None, use_bias=True, depthwise_initializer="glorot_uniform", bias_initializer="zeros",
    depthwise_regularizer, bias_regularizer, activity_regularizer, depthwise_constraint, bias_constraint
    (None), dilation_rate=(1, 1).
    """

    rank = 2
    _POSITIONAL = ("strides", "padding", "depth_multiplier", "data_format", "activation", "use_bias")
    _DEFAULTS = {**{k: v for k, v in _Conv._DEFAULTS.items() if not k.startswith("kernel_")}, "depth_multiplier": 1,
                 "depthwise_initializer": "glorot_uniform", "depthwise_regularizer": None,
                 "depthwise_constraint": None}

    _needs_filters = False

    def __init__(self, kernel_size=None, *args, **kwargs):
        super().__init__(None, kernel_size, *args, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("filters")
        return config

    def _configure(self, options):
        self.depth_multiplier = _positive((int(options["depth_multiplier"]),), "depth_multiplier", self.name)[0]

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self._output_spatial(self._spatial(input_shape))
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (*self.kernel_size, channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.channels = channels
        self._build_bias(channels * self.depth_multiplier)
        self.built = True

    def _out_channels(self) -> int:
        return None if not self.built else self.channels * self.depth_multiplier

    def compute_output_shape(self, input_shape):
        channels = self._input_channels(input_shape)
        return self._shaped(input_shape[0], self._output_spatial(self._spatial(input_shape)),
                            channels * self.depth_multiplier)

    def _convolve(self, inputs):
        return K.depthwise_conv2d(inputs, self.depthwise_kernel, strides=self.strides, padding=self.padding,
                                  data_format=self.data_format, dilation_rate=self.dilation_rate)


class _ConvTranspose(_Conv):
    """The transposed convolution (the input gradient of a convolution): kernel (*kernel_size, filters, channels).

    Arguments: those of the convolutions ('valid' or 'same' padding), with output_padding=None after padding.
    """

    _POSITIONAL = ("strides", "padding", "output_padding", "data_format", "dilation_rate", "activation", "use_bias")
    _DEFAULTS = {**_Conv._DEFAULTS, "output_padding": None}

    def _configure(self, options):
        if self.padding not in ("valid", "same"):
            raise ValueError(f"Layer {self.name}: padding must be 'valid' or 'same'; got {self.padding!r}.")
        self.output_padding = None
        if options["output_padding"] is not None:
            self.output_padding = normalize_tuple(options["output_padding"], self.rank, "output_padding")
            for p, s in zip(self.output_padding, self.strides):
                if p >= s:
                    raise ValueError(f"Layer {self.name}: each output_padding must be smaller than its stride; got "
                                     f"output_padding {self.output_padding} and strides {self.strides}.")

    def _output_spatial(self, spatial) -> tuple:
        from symkeras.graph.ops.conv import ConvInputGrad

        op = ConvInputGrad(self.kernel_size, self.strides, self.dilation_rate, self.padding, 1, self.output_padding)
        return tuple(op.transposed_size(n, a) for a, n in enumerate(spatial))

    def build(self, input_shape):
        channels = self._input_channels(input_shape)
        self.kernel = self.add_weight("kernel", (*self.kernel_size, self.filters, channels),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self._build_bias(self.filters)
        self.built = True

    def _convolve(self, inputs):
        from symkeras.backend.conv import _channels_last, _restore
        from symkeras.graph.ops.conv import ConvInputGrad

        x, transposed = _channels_last(inputs, self.data_format, self.rank, self.name)
        op = ConvInputGrad(self.kernel_size, self.strides, self.dilation_rate, self.padding, 1, self.output_padding)
        return _restore(op(x, self.kernel), transposed)


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (sometimes called deconvolution)."""

    rank = 2


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution."""

    rank = 3


# Keras's aliases
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose
