"""Creating and reading tensors: placeholders, variables, constants, shapes, values."""

from __future__ import annotations

import numpy as np

from symkeras import runtime
from symkeras.backend.state import get_uid
from symkeras.codegen.reference import evaluate
from symkeras.graph import basic, dtypes, ops
from symkeras.graph.basic import Tensor


def _auto_name(name, prefix):
    return name if name is not None else f"{prefix}_{get_uid(prefix)}"


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None) -> Tensor:
    """A symbolic input fed when a function is called; ``None`` sizes are free."""
    if sparse:
        raise ValueError("symkeras has no sparse tensors; use a dense placeholder.")
    return basic.placeholder(shape, ndim=ndim, dtype=dtype, name=_auto_name(name, "placeholder"))


def variable(value, dtype=None, name=None, constraint=None) -> Tensor:
    """A variable holding ``value`` (cast to ``dtype``, floatx by default); the value lives in the storage."""
    v = runtime.variable(value, dtype=dtype, name=_auto_name(name, "variable"))
    v.constraint = constraint
    return v


def constant(value, dtype=None, shape=None, name=None) -> Tensor:
    """A constant tensor; a scalar ``value`` with ``shape`` fills that shape."""
    dtype = dtypes.normalize(dtype)
    array = np.asarray(value, dtype=dtype)
    if shape is not None:
        array = np.broadcast_to(array, tuple(shape)).copy()
    return basic.constant(array, dtype=dtype, name=name)


def is_placeholder(x) -> bool:
    return isinstance(x, Tensor) and x.kind == "placeholder"


def is_variable(x) -> bool:
    return isinstance(x, Tensor) and x.kind == "variable"


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def is_sparse(x) -> bool:
    return False


def to_dense(x):
    return x


def int_shape(x) -> tuple:
    """The static shape as a tuple of ints and None."""
    if isinstance(x, Tensor):
        return x.shape
    return tuple(np.shape(x))


def shape(x) -> Tensor:
    """The run-time shape as a symbolic int32 vector."""
    return ops.shape_of(x)


def ndim(x) -> int:
    return len(int_shape(x))


def dtype(x) -> str:
    return x.dtype if isinstance(x, Tensor) else np.asarray(x).dtype.name


def count_params(x) -> int:
    return int(np.prod(int_shape(x)))


def get_value(x) -> np.ndarray:
    """A copy of a variable's value (read from the storage it lives in); a constant's value."""
    if not isinstance(x, Tensor):
        return np.asarray(x)
    if x.kind == "constant":
        return np.array(x.value, copy=True)
    return runtime.get_value(x)


def set_value(x: Tensor, value) -> None:
    """Assign a variable; the shape must match and the dtype is converted."""
    runtime.set_value(x, value)


def batch_get_value(tensors) -> list[np.ndarray]:
    return [get_value(t) for t in tensors]


def batch_set_value(tuples) -> None:
    """Assign several variables; all values are checked before any is assigned."""
    runtime.set_values(list(tuples))


def eval(x) -> np.ndarray:  # noqa: A001  (Keras's name)
    """Evaluate a tensor that needs no fed input (placeholders with defaults are allowed)."""
    return evaluate(x)


def zeros(shape, dtype=None, name=None) -> Tensor:
    return variable(np.zeros(shape, dtypes.normalize(dtype)), dtype=dtype, name=name)


def ones(shape, dtype=None, name=None) -> Tensor:
    return variable(np.ones(shape, dtypes.normalize(dtype)), dtype=dtype, name=name)


def eye(size, dtype=None, name=None) -> Tensor:
    return variable(np.eye(size), dtype=dtype, name=name)


def zeros_like(x, dtype=None, name=None) -> Tensor:
    return ops.zeros_like(x, dtype)


def ones_like(x, dtype=None, name=None) -> Tensor:
    return ops.ones_like(x, dtype)


def identity(x, name=None) -> Tensor:
    return ops.identity(x)


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None) -> Tensor:
    rng = np.random.RandomState(seed if seed is not None else np.random.randint(10_000_000))
    return variable(rng.uniform(low, high, size=shape), dtype=dtype, name=name)


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None) -> Tensor:
    rng = np.random.RandomState(seed if seed is not None else np.random.randint(10_000_000))
    return variable(rng.normal(mean, scale, size=shape), dtype=dtype, name=name)


