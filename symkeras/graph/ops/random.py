"""Random ops with explicit seeds.

Each random node owns a NumPy Generator seeded from its op's seed, kept by the
compiled function: a function seeded the same way draws the same sequence,
and each call draws new numbers (so dropout masks change batch to batch).
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor, as_tensor


def new_seed() -> int:
    """A seed for ops built without one (drawn from numpy's global RNG, as Keras does)."""
    return int(np.random.randint(10_000_000))


class Random(Op):
    """Base of random ops.

    ``shape`` may hold None: those sizes come from the run-time shape of the
    optional reference input at the same position (for dropout on a batch).
    """

    __props__ = ("shape", "dtype", "seed")
    differentiable = False
    is_random = True

    def __init__(self, shape, dtype, seed):
        self.shape = shapes.normalize(shape)
        self.dtype = dtypes.normalize(dtype)
        self.seed = int(seed)

    def infer(self, inputs):
        if len(inputs) > 1:
            raise TypeError(f"{self.name} takes at most one reference input.")
        if None in self.shape:
            if not inputs:
                raise ValueError(f"{self.name} with shape {self.shape} needs a reference tensor for the None sizes.")
            ref = inputs[0]
            if ref.ndim != len(self.shape):
                raise ValueError(f"{self.name} shape {self.shape} and reference shape {ref.shape} differ in rank.")
            return self.dtype, tuple(r if s is None else s for s, r in zip(self.shape, ref.shape))
        return self.dtype, self.shape

    def concrete_shape(self, inputs) -> tuple:
        if None not in self.shape:
            return self.shape
        ref = inputs[0]
        return tuple(r if s is None else s for s, r in zip(self.shape, ref.shape))

    def perform(self, inputs, rng=None):
        if rng is None:
            rng = np.random.default_rng(self.seed)
        return self.draw(rng, self.concrete_shape(inputs)).astype(self.dtype)


class RandomNormal(Random):
    __props__ = Random.__props__ + ("mean", "stddev")

    def __init__(self, shape, dtype, seed, mean=0.0, stddev=1.0):
        super().__init__(shape, dtype, seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def draw(self, rng, shape):
        return rng.normal(self.mean, self.stddev, size=shape)


class RandomUniform(Random):
    __props__ = Random.__props__ + ("minval", "maxval")

    def __init__(self, shape, dtype, seed, minval=0.0, maxval=1.0):
        super().__init__(shape, dtype, seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def draw(self, rng, shape):
        return rng.uniform(self.minval, self.maxval, size=shape)


class TruncatedNormal(Random):
    """Normal values redrawn until within two standard deviations of the mean."""

    __props__ = Random.__props__ + ("mean", "stddev")

    def __init__(self, shape, dtype, seed, mean=0.0, stddev=1.0):
        super().__init__(shape, dtype, seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def draw(self, rng, shape):
        values = rng.standard_normal(size=shape)
        bad = np.abs(values) > 2
        while bad.any():
            values[bad] = rng.standard_normal(size=int(bad.sum()))
            bad = np.abs(values) > 2
        return self.mean + self.stddev * values


class RandomBinomial(Random):
    """Bernoulli draws: 1 with probability ``p``, else 0."""

    __props__ = Random.__props__ + ("p",)

    def __init__(self, shape, dtype, seed, p=0.5):
        super().__init__(shape, dtype, seed)
        self.p = float(p)

    def draw(self, rng, shape):
        return (rng.uniform(size=shape) < self.p)


def _random(op_type, shape, dtype, seed, like=None, **params) -> Tensor:
    if isinstance(shape, Tensor):
        like, shape = shape, None
    if like is not None:
        like = as_tensor(like)
        shape = like.shape if shape is None else shape
    seed = new_seed() if seed is None else seed
    op = op_type(shape, dtype, seed, **params)
    return op(like) if like is not None else op()


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, like=None) -> Tensor:
    """Normal samples; ``shape`` may hold None sizes taken from ``like``'s run-time shape."""
    return _random(RandomNormal, shape, dtype, seed, like, mean=mean, stddev=stddev)


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None, like=None) -> Tensor:
    return _random(RandomUniform, shape, dtype, seed, like, minval=minval, maxval=maxval)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None, like=None) -> Tensor:
    return _random(TruncatedNormal, shape, dtype, seed, like, mean=mean, stddev=stddev)


def random_binomial(shape, p=0.0, dtype=None, seed=None, like=None) -> Tensor:
    return _random(RandomBinomial, shape, dtype, seed, like, p=p)
