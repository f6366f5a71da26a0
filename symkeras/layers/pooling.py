"""Pooling layers (Keras 2's arguments, defaults and config keys), their aliases and Keras 1 spellings.

Max and average pooling over 1-3 spatial axes, and their global forms (a
reduction over the spatial axes).  ``GlobalAveragePooling1D`` takes a mask
(from ``Embedding(mask_zero=True)``) and averages the unmasked steps only.
"""

from __future__ import annotations

import symkeras.backend as K
from symkeras.backend.conv import _pool
from symkeras.engine.base_layer import Layer, fmt_shape
from symkeras.graph.ops.conv import output_size
from symkeras.layers.convolutional import _DIM_ORDERING, normalize_tuple
from symkeras.utils.generic_utils import renamed_argument


def _keras1_pool_arguments(kwargs: dict, owner: str) -> None:
    renamed_argument(kwargs, "border_mode", "padding", owner)
    renamed_argument(kwargs, "pool_length", "pool_size", owner)
    renamed_argument(kwargs, "stride", "strides", owner)
    renamed_argument(kwargs, "dim_ordering", "data_format", owner, convert=lambda v: _DIM_ORDERING.get(v, v))


class _Pooling(Layer):
    """Max (``mode = "max"``) or average pooling over ``rank`` spatial axes.

    Arguments: pool_size (2 per axis), strides=None (the pool size), padding="valid" ("same" pads as
    TensorFlow does; the average excludes the padding), data_format (1-D: "channels_last"; 2-D and 3-D:
    image_data_format()).
    """

    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        owner = type(self).__name__
        _keras1_pool_arguments(kwargs, owner)
        pool_size = kwargs.pop("pool_size", pool_size)
        strides = kwargs.pop("strides", strides)
        padding = kwargs.pop("padding", padding)
        data_format = kwargs.pop("data_format", data_format)
        super().__init__(**kwargs)
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self.rank, "strides")
        if any(v < 1 for v in self.pool_size + self.strides):
            raise ValueError(f"Layer {self.name}: pool_size and strides must be positive; got {self.pool_size} and "
                             f"{self.strides}.")
        self.padding = str(padding).lower()
        if self.padding not in ("valid", "same"):
            raise ValueError(f"Layer {self.name}: padding must be 'valid' or 'same'; got {padding!r}.")
        if data_format is None and self.rank == 1:
            data_format = "channels_last"
        self.data_format = K.normalize_data_format(data_format)

    def _spatial_axes(self) -> range:
        return range(2, self.rank + 2) if self.data_format == "channels_first" else range(1, self.rank + 1)

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name} expects an input of rank {self.rank + 2}; got shape "
                             f"{fmt_shape(input_shape)}.")
        shape = list(input_shape)
        for a, axis in enumerate(self._spatial_axes()):
            size = output_size(shape[axis], self.pool_size[a], self.strides[a], 1, self.padding, a)
            if size is not None and size < 1:
                raise ValueError(f"Layer {self.name}: the pool {self.pool_size} is larger than the input "
                                 f"{fmt_shape(input_shape)} ({self.padding} padding).")
            shape[axis] = size
        return tuple(shape)

    def call(self, inputs):
        self.compute_output_shape(K.int_shape(inputs))
        return _pool(inputs, self.pool_size, self.strides, self.padding, self.data_format, self.mode, self.rank,
                     self.name)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """Max pooling over the steps of (batch, steps, features)."""

    rank, mode = 1, "max"


class AveragePooling1D(_Pooling):
    rank, mode = 1, "avg"


class MaxPooling2D(_Pooling):
    """Max pooling over rows and columns (pool_size (2, 2) by default)."""

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(MaxPooling2D):
    rank, mode = 2, "avg"


class MaxPooling3D(_Pooling):
    rank, mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(MaxPooling3D):
    rank, mode = 3, "avg"


class _GlobalPooling(Layer):
    """The max or mean over every spatial axis: (batch, *spatial, channels) -> (batch, channels)."""

    rank = 2
    mode = "max"

    def __init__(self, data_format=None, **kwargs):
        renamed_argument(kwargs, "dim_ordering", "data_format", type(self).__name__,
                         convert=lambda v: _DIM_ORDERING.get(v, v))
        data_format = kwargs.pop("data_format", data_format)
        super().__init__(**kwargs)
        if data_format is None and self.rank == 1:
            data_format = "channels_last"
        self.data_format = K.normalize_data_format(data_format)

    def _spatial_axes(self) -> list[int]:
        return list(range(2, self.rank + 2)) if self.data_format == "channels_first" else list(range(1, self.rank + 1))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name} expects an input of rank {self.rank + 2}; got shape "
                             f"{fmt_shape(input_shape)}.")
        channel = 1 if self.data_format == "channels_first" else -1
        return (input_shape[0], input_shape[channel])

    def call(self, inputs):
        self.compute_output_shape(K.int_shape(inputs))
        reduce = K.max if self.mode == "max" else K.mean
        return reduce(inputs, axis=self._spatial_axes())

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class GlobalMaxPooling1D(_GlobalPooling):
    rank, mode = 1, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """The mean over the steps; with a mask (Embedding(mask_zero=True)) the mean of the unmasked steps."""

    rank, mode = 1, "avg"

    def __init__(self, data_format="channels_last", **kwargs):
        super().__init__(data_format, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        steps = self._spatial_axes()[0]
        weights = K.cast(mask, K.floatx())
        weights = K.expand_dims(weights, 2 if steps == 1 else 1)
        return K.sum(inputs * weights, axis=steps) / K.sum(weights, axis=steps)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling2D(_GlobalPooling):
    rank, mode = 2, "max"


class GlobalAveragePooling2D(_GlobalPooling):
    rank, mode = 2, "avg"


class GlobalMaxPooling3D(_GlobalPooling):
    rank, mode = 3, "max"


class GlobalAveragePooling3D(_GlobalPooling):
    rank, mode = 3, "avg"


# Keras's aliases
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
