"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot, and their functions."""

from __future__ import annotations

import functools

import symkeras.backend as K
from symkeras.engine.base_layer import Layer, fmt_shape


class _Merge(Layer):
    """Elementwise merge of a list of tensors; lower-rank inputs gain axes after the batch axis to broadcast."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_inputs(self, inputs, minimum=2, exactly=None):
        if not isinstance(inputs, list):
            raise ValueError(f"A merge layer ({self.name}) should be called on a list of inputs.")
        if exactly is not None and len(inputs) != exactly:
            raise ValueError(f"A `{type(self).__name__}` layer should be called on exactly {exactly} inputs; "
                             f"got {len(inputs)}.")
        if len(inputs) < minimum:
            raise ValueError(f"A merge layer ({self.name}) should be called on a list of at least {minimum} inputs. "
                             f"Got {len(inputs)} inputs.")

    def build(self, input_shape):
        self._check_inputs(input_shape, exactly=getattr(self, "_arity", None))
        shapes = [tuple(s[1:]) for s in input_shape]
        width = max(len(s) for s in shapes)
        for a in shapes:
            for b in shapes:
                padded_a = (1,) * (width - len(a)) + a
                padded_b = (1,) * (width - len(b)) + b
                for x, y in zip(padded_a, padded_b):
                    if x is not None and y is not None and x != y and 1 not in (x, y):
                        raise ValueError(f"Operands of merge layer {self.name} could not be broadcast together with "
                                         f"shapes {fmt_shape(input_shape)}")
        self.built = True

    def _merge_function(self, inputs):
        raise NotImplementedError(f"{type(self).__name__} must define _merge_function.")

    def call(self, inputs):
        self._check_inputs(inputs, exactly=getattr(self, "_arity", None))
        rank = max(K.ndim(x) for x in inputs)
        aligned = []
        for x in inputs:
            while K.ndim(x) < rank:
                x = K.expand_dims(x, 1)
            aligned.append(x)
        return self._merge_function(aligned)


class Add(_Merge):
    def _merge_function(self, inputs):
        return functools.reduce(lambda a, b: a + b, inputs)


class Subtract(_Merge):
    _arity = 2

    def _merge_function(self, inputs):
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    def _merge_function(self, inputs):
        return functools.reduce(lambda a, b: a * b, inputs)


class Average(_Merge):
    def _merge_function(self, inputs):
        return functools.reduce(lambda a, b: a + b, inputs) / float(len(inputs))


class Maximum(_Merge):
    def _merge_function(self, inputs):
        return functools.reduce(K.maximum, inputs)


class Minimum(_Merge):
    def _merge_function(self, inputs):
        return functools.reduce(K.minimum, inputs)


class Concatenate(_Merge):
    """Joins the inputs along ``axis``; every other dimension must match."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        self._check_inputs(input_shape, minimum=1)
        ranks = {len(s) for s in input_shape}
        axis = self.axis % max(ranks)
        rest = [tuple(d for i, d in enumerate(s) if i != axis) for s in input_shape]
        mismatch = len(ranks) != 1 or any(a is not None and b is not None and a != b
                                          for r in rest for a, b in zip(r, rest[0]))
        if mismatch:
            raise ValueError("A `Concatenate` layer requires inputs with matching shapes except for the concat axis. "
                             f"Got inputs shapes: {fmt_shape([tuple(s) for s in input_shape])}")
        self.built = True

    def call(self, inputs):
        self._check_inputs(inputs, minimum=1)
        return K.concatenate(list(inputs), axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Dot product of two tensors along ``axes`` (per sample), optionally of L2-normalized inputs (cosine)."""

    _arity = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int) and (not isinstance(axes, (list, tuple)) or len(axes) != 2):
            raise ValueError("Invalid format for `axes` - should contain two elements.")
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = normalize
        self.supports_masking = True

    def _axes(self, ranks):
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return [a % rank if a < 0 else a for a, rank in zip(axes, ranks)]

    def build(self, input_shape):
        self._check_inputs(input_shape, exactly=2)
        first, second = input_shape
        a0, a1 = self._axes([len(first), len(second)])
        if first[a0] is not None and second[a1] is not None and first[a0] != second[a1]:
            raise ValueError(f"Dimension incompatibility {first[a0]} != {second[a1]}. Layer shapes: "
                             f"{fmt_shape(tuple(first))}, {fmt_shape(tuple(second))}")
        self.built = True

    def call(self, inputs):
        self._check_inputs(inputs, exactly=2)
        x1, x2 = inputs
        axes = self._axes([K.ndim(x1), K.ndim(x2)])
        if self.normalize:
            x1 = K.l2_normalize(x1, axis=axes[0])
            x2 = K.l2_normalize(x2, axis=axes[1])
        return K.batch_dot(x1, x2, axes)

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs):
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes, normalize=False, **kwargs):
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
