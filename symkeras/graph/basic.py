"""The IR core: Tensor, Node and Op.

A Tensor is a symbolic value with a dtype and a static shape (None for sizes
known only when data flows).  Leaves are placeholders (fed at call time),
variables (hold a NumPy array: weights, optimizer state) and constants.  Every
other tensor is the output of a Node, which applies an Op to input tensors.
Nodes are immutable; an op's identity is its class and its attributes
(``__props__``), so equal ops compare and hash equal.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from symkeras.graph import dtypes, shapes

_uids = itertools.count()
OP_TYPES: dict[str, type] = {}


class Tensor:
    """A symbolic value. Create leaves with placeholder(), variable(), constant()."""

    __array_ufunc__ = None  # numpy defers to our reflected operators

    def __init__(self, dtype, shape, name=None, owner=None, kind="output", value=None, default=None):
        self.uid = next(_uids)
        self.dtype = dtypes.normalize(dtype)
        self.shape = shapes.normalize(shape)
        self.name = name
        self.owner = owner
        self.kind = kind
        self._value = value
        self.default = default
        self.tag: dict[str, Any] = {}

    # --- structure -------------------------------------------------------
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_leaf(self) -> bool:
        return self.owner is None

    def __repr__(self) -> str:
        label = self.name or (self.owner.op.name if self.owner else self.kind)
        return f"<Tensor {label} {self.dtype} {shapes.fmt(self.shape)}>"

    def __bool__(self):
        raise TypeError(
            "The truth value of a symbolic tensor is unknown until data flows; "
            "use K.switch / where for conditions."
        )

    __hash__ = object.__hash__

    def __iter__(self):
        raise TypeError("A symbolic tensor is not iterable; index it with t[i].")

    # --- values of leaves -----------------------------------------------
    @property
    def value(self) -> np.ndarray:
        if self.kind not in ("variable", "constant"):
            raise TypeError(f"{self!r} is a {self.kind}; only variables and constants hold a value.")
        return self._value

    def get_value(self) -> np.ndarray:
        """A copy of a variable's (or constant's) current value."""
        return np.array(self.value, copy=True)

    def set_value(self, value) -> None:
        """Assign a variable; the shape must match and the dtype is converted."""
        if self.kind != "variable":
            raise TypeError(f"set_value needs a variable; {self!r} is a {self.kind}.")
        array = _checked_array(value, self.dtype, f"variable '{self.name}'")
        if array.shape != self.shape:
            raise ValueError(
                f"Cannot assign a value of shape {shapes.fmt(array.shape)} to variable "
                f"'{self.name}' of shape {shapes.fmt(self.shape)}."
            )
        self._value = array

    # --- operators: all build graph nodes --------------------------------
    def __add__(self, other):
        return _ops().add(self, other)

    def __radd__(self, other):
        return _ops().add(other, self)

    def __sub__(self, other):
        return _ops().sub(self, other)

    def __rsub__(self, other):
        return _ops().sub(other, self)

    def __mul__(self, other):
        return _ops().mul(self, other)

    def __rmul__(self, other):
        return _ops().mul(other, self)

    def __truediv__(self, other):
        return _ops().true_div(self, other)

    def __rtruediv__(self, other):
        return _ops().true_div(other, self)

    def __floordiv__(self, other):
        return _ops().floor_div(self, other)

    def __rfloordiv__(self, other):
        return _ops().floor_div(other, self)

    def __mod__(self, other):
        return _ops().mod(self, other)

    def __rmod__(self, other):
        return _ops().mod(other, self)

    def __pow__(self, other):
        return _ops().power(self, other)

    def __rpow__(self, other):
        return _ops().power(other, self)

    def __matmul__(self, other):
        return _ops().matmul(self, other)

    def __rmatmul__(self, other):
        return _ops().matmul(other, self)

    def __neg__(self):
        return _ops().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().abs_(self)

    def __lt__(self, other):
        return _ops().less(self, other)

    def __le__(self, other):
        return _ops().less_equal(self, other)

    def __gt__(self, other):
        return _ops().greater(self, other)

    def __ge__(self, other):
        return _ops().greater_equal(self, other)

    def __invert__(self):
        return _ops().logical_not(self)

    def __and__(self, other):
        return _ops().logical_and(self, other)

    def __or__(self, other):
        return _ops().logical_or(self, other)

    def __getitem__(self, index):
        return _ops().subtensor(self, index)

    @property
    def T(self):
        return _ops().transpose(self)

    # --- inspection --------------------------------------------------------
    def debugprint(self, file=None) -> str:
        """Print (and return) the text dump of the graph computing this tensor."""
        from symkeras.graph.printing import debugprint

        return debugprint(self, file=file)

    def to_dot(self) -> str:
        from symkeras.graph.printing import to_dot

        return to_dot(self)

    def to_json(self) -> str:
        from symkeras.graph.printing import to_json

        return to_json(self)


def _ops():
    # The op catalogue imports this module, so operators look it up lazily.
    from symkeras.graph import ops

    return ops


class Node:
    """One application of an op to input tensors; owns its output tensor."""

    def __init__(self, op: Op, inputs, out_dtype, out_shape):
        self.uid = next(_uids)
        self.op = op
        self.inputs = tuple(inputs)
        self.outputs = (Tensor(out_dtype, out_shape, owner=self),)

    @property
    def out(self) -> Tensor:
        return self.outputs[0]

    def __repr__(self) -> str:
        return f"<Node {self.op} ({len(self.inputs)} inputs)>"


class Op:
    """Base class of all operations.

    Subclasses set ``__props__`` (names of the attributes that define the op),
    ``nin`` (number of inputs, None for variadic) and implement ``infer``,
    ``perform`` and, when differentiable, ``grad``.
    """

    __props__: tuple = ()
    nin: int | None = None
    #: False for ops with no gradient at all (integer, boolean or random results)
    differentiable = True
    #: ops drawing random numbers receive their call number in perform
    is_random = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            OP_TYPES[cls.__name__] = cls

    # identity --------------------------------------------------------------
    def props(self) -> dict:
        return {p: getattr(self, p) for p in self.__props__}

    def to_attrs(self) -> dict:
        """Attributes for the JSON dump (``from_attrs`` reverses it)."""
        return self.props()

    @classmethod
    def from_attrs(cls, attrs: dict) -> Op:
        return cls(**attrs)

    def _key(self):
        return (type(self),) + tuple(getattr(self, p) for p in self.__props__)

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    @property
    def name(self) -> str:
        return type(self).__name__

    def __str__(self) -> str:
        if not self.__props__:
            return self.name
        attrs = ", ".join(f"{k}={v!r}" for k, v in self.props().items())
        return f"{self.name}{{{attrs}}}"

    __repr__ = __str__

    # building --------------------------------------------------------------
    def __call__(self, *inputs) -> Tensor:
        return self.make_node(*inputs).out

    def make_node(self, *inputs) -> Node:
        inputs = [as_tensor(x) for x in inputs]
        if self.nin is not None and len(inputs) != self.nin:
            raise TypeError(f"{self} takes {self.nin} inputs, got {len(inputs)}.")
        dtype, shape = self.infer(inputs)
        return Node(self, inputs, dtype, shape)

    # semantics -------------------------------------------------------------
    def infer(self, inputs: list[Tensor]) -> tuple[str, tuple]:
        """Output (dtype, static shape) for these inputs; raise ValueError on misuse."""
        raise NotImplementedError(f"{self.name} must define infer")

    def perform(self, inputs: list[np.ndarray], rng: int | None = None) -> np.ndarray:
        """The reference semantics in NumPy (random ops get their call number as ``rng``)."""
        raise NotImplementedError(f"{self.name} must define perform")

    def grad(self, inputs: list[Tensor], out: Tensor, gz: Tensor) -> list[Tensor | None]:
        """Vector-Jacobian product as graph: one gradient (or None) per input."""
        raise NotImplementedError(f"{self.name} has no gradient")


def _checked_array(value, dtype: str, where: str) -> np.ndarray:
    """Convert user data to an array of ``dtype``; TypeError when it is not numeric."""
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{where} expects numeric data of dtype {dtype}; got an array of dtype {array.dtype}."
        )
    return np.array(array, dtype=dtype, copy=True, order="C")


# --- leaves ------------------------------------------------------------------

def placeholder(shape=None, ndim=None, dtype=None, name=None, default=None) -> Tensor:
    """A tensor fed at call time. ``shape`` may hold None; ``ndim`` gives an all-None shape.

    ``default`` (an array) is used when a function is called without feeding it.
    """
    if shape is None:
        if ndim is None:
            raise ValueError("placeholder needs a shape or an ndim.")
        shape = (None,) * int(ndim)
    t = Tensor(dtype, shape, name=name, kind="placeholder")
    if default is not None:
        t.default = _checked_array(default, t.dtype, f"default of placeholder '{name}'")
        if not shapes.compatible(t.shape, t.default.shape):
            raise ValueError(
                f"Default of placeholder '{name}' has shape {shapes.fmt(t.default.shape)}, "
                f"expected {shapes.fmt(t.shape)}."
            )
    return t


def variable(value, dtype=None, name=None) -> Tensor:
    """A tensor holding a mutable NumPy array (weights, optimizer state); dtype defaults to floatx."""
    array = _checked_array(value, dtypes.normalize(dtype), f"variable '{name}'")
    return Tensor(array.dtype, array.shape, name=name, kind="variable", value=array)


def constant(value, dtype=None, name=None) -> Tensor:
    """An immutable tensor; python floats become floatx, python ints int64 unless ``dtype``."""
    if dtype is None:
        array = np.asarray(value)
        if array.dtype.kind == "f" and not isinstance(value, np.ndarray | np.generic):
            dtype = dtypes.normalize(None)
        else:
            dtype = dtypes.normalize(array.dtype)
    array = _checked_array(value, dtypes.normalize(dtype), f"constant '{name}'")
    array.setflags(write=False)
    return Tensor(array.dtype, array.shape, name=name, kind="constant", value=array)


def as_tensor(value, dtype=None) -> Tensor:
    """A Tensor as is, anything else as a constant."""
    if isinstance(value, Tensor):
        return value
    return constant(value, dtype=dtype)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)
