"""Keras 2 weight initializers.

An initializer is called with a shape (and optionally a dtype) when a layer
builds its weights and returns the starting value as an array: this is data
for a variable, not a graph.  Unseeded random initializers draw from NumPy's
global generator, so ``np.random.seed(...)`` makes a model reproducible.
"""

from __future__ import annotations

import numpy as np

import symkeras.backend as K
from symkeras.utils.generic_utils import deserialize_object, get_instance, serialize_object


def _generator(seed):
    return np.random if seed is None else np.random.RandomState(seed)


def _dtype(dtype):
    return dtype or K.floatx()


class Initializer:
    """Base class: ``initializer(shape, dtype=None) -> array``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(shape, dtype=None).")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, _dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, _dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, _dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return _generator(self.seed).normal(self.mean, self.stddev, size=shape).astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=None):
        return _generator(self.seed).uniform(self.minval, self.maxval, size=shape).astype(_dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _truncated_normal(generator, mean, stddev, shape):
    """Normal draws, those more than two standard deviations from the mean drawn again."""
    values = generator.normal(0.0, 1.0, size=shape)
    outside = np.abs(values) > 2.0
    while np.any(outside):
        values[outside] = generator.normal(0.0, 1.0, size=int(outside.sum()))
        outside = np.abs(values) > 2.0
    return mean + stddev * values


class TruncatedNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=None):
        return _truncated_normal(_generator(self.seed), self.mean, self.stddev, shape).astype(_dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def compute_fans(shape) -> tuple[float, float]:
    """(fan_in, fan_out) of a weight shape: dense (in, out), convolution kernels (..., in, out)."""
    shape = tuple(shape)
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) in (3, 4, 5):
        receptive_field = int(np.prod(shape[:-2]))
        return shape[-2] * receptive_field, shape[-1] * receptive_field
    size = np.sqrt(np.prod(shape)) if shape else 1.0
    return size, size


class VarianceScaling(Initializer):
    """Draws with variance ``scale / n`` (n from the fans per ``mode``), normal (truncated) or uniform."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="normal", seed=None):
        if scale <= 0.0:
            raise ValueError(f"`scale` must be a positive float. Got: {scale}")
        mode = mode.lower()
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"Invalid `mode` argument: expected one of fan_in, fan_out, fan_avg; got {mode!r}")
        distribution = distribution.lower()
        if distribution not in ("normal", "uniform"):
            raise ValueError(f"Invalid `distribution` argument: expected one of normal, uniform; "
                             f"got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        generator = _generator(self.seed)
        if self.distribution == "normal":
            # the standard deviation of a unit normal truncated at +-2 is 0.8796...
            stddev = np.sqrt(scale) / 0.87962566103423978
            values = _truncated_normal(generator, 0.0, stddev, shape)
        else:
            limit = np.sqrt(3.0 * scale)
            values = generator.uniform(-limit, limit, size=shape)
        return values.astype(_dtype(dtype))

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


class Orthogonal(Initializer):
    """A random orthogonal matrix (rows or columns orthonormal), times ``gain``."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal initializer needs a shape of rank 2 or more; got {shape}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = _generator(self.seed).normal(0.0, 1.0, size=(rows, cols))
        u, _, v = np.linalg.svd(a, full_matrices=False)
        q = u if u.shape == (rows, cols) else v
        return (self.gain * q.reshape(shape)).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError(f"Identity matrix initializer can only be used for 2D matrices; got shape {shape}.")
        return (self.gain * np.eye(shape[0], shape[1])).astype(_dtype(dtype))

    def get_config(self):
        return {"gain": self.gain}


class _FixedScaling(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution (tf-keras names these classes)."""

    SETTINGS = (1.0, "fan_in", "normal")

    def __init__(self, seed=None):
        super().__init__(*self.SETTINGS, seed=seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunUniform(_FixedScaling):
    SETTINGS = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedScaling):
    SETTINGS = (1.0, "fan_in", "normal")


class GlorotUniform(_FixedScaling):
    SETTINGS = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedScaling):
    SETTINGS = (1.0, "fan_avg", "normal")


class HeUniform(_FixedScaling):
    SETTINGS = (2.0, "fan_in", "uniform")


class HeNormal(_FixedScaling):
    SETTINGS = (2.0, "fan_in", "normal")


lecun_uniform, lecun_normal = LecunUniform, LecunNormal
glorot_uniform, glorot_normal = GlorotUniform, GlorotNormal
he_uniform, he_normal = HeUniform, HeNormal


# Keras 2's lower-case aliases
zero = zeros = Zeros
one = ones = Ones
constant = Constant
normal = random_normal = RandomNormal
uniform = random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
orthogonal, identity = Orthogonal, Identity

_BY_NAME = {name: obj for name, obj in globals().items()
            if isinstance(obj, type) and issubclass(obj, Initializer) and not name.startswith("_")}


def serialize(initializer):
    return serialize_object(initializer)


def deserialize(config, custom_objects=None):
    return deserialize_object(config, _BY_NAME, custom_objects, kind="initializer")


def get(identifier):
    """An initializer from a name ('glorot_uniform'), a config dict, an instance or a callable."""
    return get_instance(identifier, deserialize, "initializer")
