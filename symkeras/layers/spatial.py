"""Zero padding, cropping and nearest upsampling of 1-3 spatial axes (Keras 2's arguments and config keys)."""

from __future__ import annotations

import symkeras.backend as K
from symkeras.engine.base_layer import Layer, fmt_shape
from symkeras.layers.convolutional import _DIM_ORDERING, normalize_tuple
from symkeras.utils.generic_utils import renamed_argument


def _pairs(value, rank: int, name: str) -> tuple:
    """An int, a tuple of ``rank`` ints (symmetric) or of ``rank`` (before, after) pairs, as pairs."""
    if isinstance(value, int):
        return ((value, value),) * rank
    value = tuple(value)
    if rank == 1 and len(value) == 2 and all(isinstance(v, int) for v in value):
        return (tuple(int(v) for v in value),)
    if len(value) != rank:
        raise ValueError(f"`{name}` must be an int, a tuple of {rank} ints or of {rank} (before, after) pairs; "
                         f"got {value!r}.")
    pairs = []
    for v in value:
        if isinstance(v, int):
            pairs.append((v, v))
        else:
            pair = tuple(int(x) for x in v)
            if len(pair) != 2:
                raise ValueError(f"`{name}` pairs hold two ints; got {v!r}.")
            pairs.append(pair)
    if any(x < 0 for pair in pairs for x in pair):
        raise ValueError(f"`{name}` must not be negative; got {value!r}.")
    return tuple(pairs)


class _Spatial(Layer):
    """The data format and the spatial axes of a layer over ``rank`` spatial axes."""

    rank = 2

    def __init__(self, data_format=None, **kwargs):
        renamed_argument(kwargs, "dim_ordering", "data_format", type(self).__name__,
                         convert=lambda v: _DIM_ORDERING.get(v, v))
        data_format = kwargs.pop("data_format", data_format)
        super().__init__(**kwargs)
        self.data_format = K.normalize_data_format("channels_last" if self.rank == 1 else data_format)

    def _axes(self) -> list[int]:
        return list(range(2, self.rank + 2)) if self.data_format == "channels_first" else list(range(1, self.rank + 1))

    def _check(self, input_shape) -> list:
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Layer {self.name} expects an input of rank {self.rank + 2}; got shape "
                             f"{fmt_shape(input_shape)}.")
        return list(input_shape)


class _ZeroPadding(_Spatial):
    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.padding = _pairs(padding, self.rank, "padding")

    def compute_output_shape(self, input_shape):
        shape = self._check(input_shape)
        for axis, (lo, hi) in zip(self._axes(), self.padding):
            shape[axis] = None if shape[axis] is None else shape[axis] + lo + hi
        return tuple(shape)

    def call(self, inputs):
        self._check(K.int_shape(inputs))
        if self.rank == 1:
            return K.temporal_padding(inputs, self.padding[0])
        pad = K.spatial_2d_padding if self.rank == 2 else K.spatial_3d_padding
        return pad(inputs, self.padding, data_format=self.data_format)

    def get_config(self):
        config = {**super().get_config(), "padding": self.padding[0] if self.rank == 1 else self.padding}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class ZeroPadding1D(_ZeroPadding):
    """Zeros before and after the steps: padding an int or (before, after)."""

    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, None, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Zeros around rows and columns: padding an int, (rows, cols) or ((top, bottom), (left, right))."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    rank = 3

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(_Spatial):
    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.cropping = _pairs(cropping, self.rank, "cropping")

    def compute_output_shape(self, input_shape):
        shape = self._check(input_shape)
        for a, (axis, (lo, hi)) in enumerate(zip(self._axes(), self.cropping)):
            if shape[axis] is not None:
                if lo + hi >= shape[axis]:
                    raise ValueError(f"Layer {self.name}: cropping {self.cropping} leaves nothing of spatial axis {a} "
                                     f"of an input of shape {fmt_shape(input_shape)}.")
                shape[axis] -= lo + hi
        return tuple(shape)

    def call(self, inputs):
        self.compute_output_shape(K.int_shape(inputs))
        index = [slice(None)] * (self.rank + 2)
        for axis, (lo, hi) in zip(self._axes(), self.cropping):
            index[axis] = slice(lo, -hi if hi else None)
        return inputs[tuple(index)]

    def get_config(self):
        config = {**super().get_config(), "cropping": self.cropping[0] if self.rank == 1 else self.cropping}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class Cropping1D(_Cropping):
    """Removes steps at the start and the end: cropping an int or (start, end)."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, None, **kwargs)


class Cropping2D(_Cropping):
    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class _UpSampling(_Spatial):
    """Repeats each spatial position ``size`` times along each axis (nearest neighbour)."""

    def __init__(self, size, data_format=None, **kwargs):
        super().__init__(data_format, **kwargs)
        self.size = normalize_tuple(size, self.rank, "size")
        if any(s < 1 for s in self.size):
            raise ValueError(f"Layer {self.name}: size must be positive; got {size!r}.")

    def compute_output_shape(self, input_shape):
        shape = self._check(input_shape)
        for axis, factor in zip(self._axes(), self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * factor
        return tuple(shape)

    def call(self, inputs):
        self._check(K.int_shape(inputs))
        if self.rank == 1:
            return K.repeat_elements(inputs, self.size[0], axis=1)
        if self.rank == 2:
            return K.resize_images(inputs, *self.size, self.data_format)
        return K.resize_volumes(inputs, *self.size, self.data_format)

    def get_config(self):
        config = {**super().get_config(), "size": self.size[0] if self.rank == 1 else self.size}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class UpSampling1D(_UpSampling):
    rank = 1

    def __init__(self, size=2, **kwargs):
        renamed_argument(kwargs, "length", "size", "UpSampling1D")
        super().__init__(kwargs.pop("size", size), None, **kwargs)


class UpSampling2D(_UpSampling):
    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        if interpolation != "nearest":
            raise ValueError(f"Layer {self.name}: interpolation must be 'nearest'; got {interpolation!r}.")
        self.interpolation = interpolation

    def get_config(self):
        return {**super().get_config(), "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, data_format, **kwargs)
