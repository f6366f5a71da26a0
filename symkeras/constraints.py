"""Keras 2 weight constraints: symbolic maps applied to a weight's new value after each update."""

from __future__ import annotations

import symkeras.backend as K
from symkeras.utils.generic_utils import deserialize_object, get_instance, serialize_object


class Constraint:
    """Base class: ``constraint(new_weight) -> constrained weight``."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    return K.sqrt(K.sum(K.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales slices (along ``axis``) whose L2 norm exceeds ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = K.clip(norms, 0, self.max_value)
        return w * (desired / (K.epsilon() + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        return w * K.cast(K.greater_equal(w, 0.0), K.floatx())


class UnitNorm(Constraint):
    """Scales slices (along ``axis``) to unit L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (K.epsilon() + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves slice norms into [min_value, max_value] at ``rate`` (1 = at once)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * K.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (K.epsilon() + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


# Keras 2's aliases
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
maxnorm, nonneg, unitnorm = MaxNorm, NonNeg, UnitNorm

_BY_NAME = {name: obj for name, obj in globals().items() if isinstance(obj, type) and issubclass(obj, Constraint)}


def serialize(constraint):
    return serialize_object(constraint)


def deserialize(config, custom_objects=None):
    return deserialize_object(config, _BY_NAME, custom_objects, kind="constraint")


def get(identifier):
    """A constraint from a name ('max_norm'), a config dict, an instance or a callable."""
    return get_instance(identifier, deserialize, "constraint")
