"""Random ops with explicit seeds and a counter-based generator.

Element ``i`` of the ``call``-th draw of a node with seed ``s`` is a pure
function of (s, call, i): a 64-bit mix (splitmix64) turned into a uniform in
[0, 1), then into the distribution.  A compiled function counts its calls
per random node, so a function seeded the same way draws the same sequence
and each call draws new numbers (dropout masks change batch to batch).  The
same arithmetic is written once more in each backend; being counter-based,
it needs no state but the call count and parallelizes freely.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor, as_tensor


def new_seed() -> int:
    """A seed for ops built without one (drawn from numpy's global RNG, as Keras does)."""
    return int(np.random.randint(10_000_000))


GOLDEN = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
#: uniforms are (mix >> 11) * 2**-53
UNIT = 2.0 ** -53
#: at most this many redraws for a truncated normal (each lands within 2 sigma with p = 0.954)
TRUNCATED_ATTEMPTS = 32


def _mix(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
    return z ^ (z >> np.uint64(31))


def stream_base(seed: int, call: int, attempt: int = 0) -> np.uint64:
    """The 64-bit key of one draw (seed, call number, redraw attempt)."""
    with np.errstate(over="ignore"):
        key = np.asarray((seed * GOLDEN + call * MIX1 + attempt * MIX2) & 0xFFFFFFFFFFFFFFFF, dtype=np.uint64)
        return _mix(key)


def uniforms(base, index: np.ndarray) -> np.ndarray:
    """Uniforms in [0, 1) for the uint64 element indices ``index`` of a draw."""
    with np.errstate(over="ignore"):
        h = _mix(base + index.astype(np.uint64) * np.uint64(GOLDEN))
    return (h >> np.uint64(11)).astype(np.float64) * UNIT


def normals(base, index: np.ndarray) -> np.ndarray:
    """Standard normals by Box-Muller over the uniform pairs (2i, 2i + 1)."""
    index = index.astype(np.uint64)
    u1 = uniforms(base, index * np.uint64(2))
    u2 = uniforms(base, index * np.uint64(2) + np.uint64(1))
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)


class Random(Op):
    """Base of random ops.

    ``shape`` may hold None: those sizes come from the run-time shape of the
    optional reference input at the same position (for dropout on a batch).
    """

    __props__ = ("shape", "dtype", "seed")
    differentiable = False
    is_random = True
    shape_from = 0

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
        """``rng`` is the call number of this draw (0 for a one-off evaluation)."""
        shape = self.concrete_shape(inputs)
        index = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.uint64)
        values = self.draw(int(rng or 0), index)
        return values.reshape(shape).astype(self.dtype)


class RandomNormal(Random):
    __props__ = Random.__props__ + ("mean", "stddev")

    def __init__(self, shape, dtype, seed, mean=0.0, stddev=1.0):
        super().__init__(shape, dtype, seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def draw(self, call, index):
        return self.mean + self.stddev * normals(stream_base(self.seed, call), index)


class RandomUniform(Random):
    __props__ = Random.__props__ + ("minval", "maxval")

    def __init__(self, shape, dtype, seed, minval=0.0, maxval=1.0):
        super().__init__(shape, dtype, seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def draw(self, call, index):
        return self.minval + (self.maxval - self.minval) * uniforms(stream_base(self.seed, call), index)


class TruncatedNormal(Random):
    """Normal values redrawn until within two standard deviations of the mean."""

    __props__ = Random.__props__ + ("mean", "stddev")

    def __init__(self, shape, dtype, seed, mean=0.0, stddev=1.0):
        super().__init__(shape, dtype, seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def draw(self, call, index):
        values = normals(stream_base(self.seed, call), index)
        for attempt in range(1, TRUNCATED_ATTEMPTS):
            bad = np.abs(values) > 2
            if not bad.any():
                break
            values[bad] = normals(stream_base(self.seed, call, attempt), index[bad])
        values = np.clip(values, -2.0, 2.0)  # after 32 misses (p < 1e-42): the bound
        return self.mean + self.stddev * values


class RandomBinomial(Random):
    """Bernoulli draws: 1 with probability ``p``, else 0."""

    __props__ = Random.__props__ + ("p",)

    def __init__(self, shape, dtype, seed, p=0.5):
        super().__init__(shape, dtype, seed)
        self.p = float(p)

    def draw(self, call, index):
        return uniforms(stream_base(self.seed, call), index) < self.p


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
