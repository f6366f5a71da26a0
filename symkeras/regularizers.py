"""Keras 2 weight regularizers: symbolic penalties added to the training loss."""

from __future__ import annotations

import symkeras.backend as K
from symkeras.utils.generic_utils import deserialize_object, get_instance, serialize_object


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar tensor`` added to the loss."""

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = float(K.cast_to_floatx(l1))
        self.l2 = float(K.cast_to_floatx(l2))

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty = penalty + self.l1 * K.sum(K.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * K.sum(K.square(x))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l=0.01):  # noqa: E741  (Keras's name)
    return L1L2(l1=l)


def l2(l=0.01):  # noqa: E741
    return L1L2(l2=l)


def l1_l2(l1=0.01, l2=0.01):  # noqa: F811
    return L1L2(l1=l1, l2=l2)


_BY_NAME = {"Regularizer": Regularizer, "L1L2": L1L2, "l1": l1, "l2": l2, "l1_l2": l1_l2}


def serialize(regularizer):
    return serialize_object(regularizer)


def deserialize(config, custom_objects=None):
    return deserialize_object(config, _BY_NAME, custom_objects, kind="regularizer")


def get(identifier):
    """A regularizer from a name ('l2'), a config dict, an instance or a callable."""
    return get_instance(identifier, deserialize, "regularizer")
