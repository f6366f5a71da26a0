"""The IR core: Tensor, Node and Op.

A Tensor is a symbolic value with a dtype and a static shape (None for sizes
known only when data flows).  Leaves are placeholders (fed at call time),
variables (weights, optimizer state: identity, dtype and shape; their values
live in the runtime's storages, outside the IR) and constants (whose value is
part of the graph).  Every other tensor is an output of a Node, which applies
an Op to input tensors.
Nodes are immutable; an op's identity is its class and its attributes
(``__props__``), so equal ops compare and hash equal.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from symkeras.graph import dtypes, provenance, shapes

_uids = itertools.count()
OP_TYPES: dict[str, type] = {}


class Tensor:
    """A symbolic value. Create leaves with placeholder(), variable(), constant()."""

    __array_ufunc__ = None  # numpy defers to our reflected operators

    def __init__(self, dtype, shape, name=None, owner=None, kind="output", value=None, default=None, index=0):
        self.uid = next(_uids)
        self.dtype = dtypes.normalize(dtype)
        self.shape = shapes.normalize(shape)
        self.name = name
        self.owner = owner
        #: the position of this tensor among its owner's outputs
        self.index = index
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

    # --- the value of a constant ------------------------------------------
    @property
    def value(self) -> np.ndarray:
        """A constant's value (part of the graph).  A variable's value lives in its storage: K.get_value."""
        if self.kind == "variable":
            raise TypeError(f"{self!r} is a variable: its value lives in the runtime's storage "
                            "(read it with K.get_value).")
        if self.kind != "constant":
            raise TypeError(f"{self!r} is a {self.kind}; only constants hold a value.")
        return self._value

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
    """One application of an op to input tensors; owns its output tensors (one per ``(dtype, shape)``)."""

    def __init__(self, op: Op, inputs, output_types):
        self.uid = next(_uids)
        self.op = op
        self.inputs = tuple(inputs)
        self.outputs = tuple(Tensor(dtype, shape, owner=self, index=i) for i, (dtype, shape) in enumerate(output_types))
        #: facts about where the node comes from (``"layer"``: the Keras layer that made it, see provenance.py)
        self.tag: dict[str, Any] = {}

    @property
    def out(self) -> Tensor:
        """The output of a single-output node."""
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs; use node.outputs.")
        return self.outputs[0]

    def rebuilt(self, inputs) -> Node:
        """The same op applied to ``inputs`` (a new node), outputs keeping their names and tags."""
        node = self.op.make_node(*inputs)
        node.tag.update(self.tag)
        for old, new in zip(self.outputs, node.outputs):
            new.name = old.name
            new.tag.update(old.tag)
        return node

    def __repr__(self) -> str:
        return f"<Node {self.op} ({len(self.inputs)} inputs, {len(self.outputs)} outputs)>"


class Op:
    """Base class of all operations.

    Subclasses set ``__props__`` (names of the attributes that define the op),
    ``nin`` (number of inputs, None for variadic) and implement ``infer``,
    ``perform`` and, when differentiable, ``grad``.  An op with several
    outputs sets ``nout``; its ``infer`` returns one (dtype, shape) per
    output, its ``perform`` one array per output, and it overrides ``vjp``.
    """

    __props__: tuple = ()
    nin: int | None = None
    #: number of outputs
    nout = 1
    #: False for ops with no gradient at all (integer, boolean or random results)
    differentiable = True

    # --- traits: what the op is.  Rewrites, fusion and the backends' memory plans read these, never
    # --- tables of class names.  A subclass (or an instance property) overrides them.
    #: a scalar function applied at every element of its inputs broadcast together (NumPy rules):
    #: fusion joins such ops into one loop, and the Numba backend lowers them through the scalar IR
    elementwise = False
    #: cheap enough (a few instructions per element) to recompute inside a fused loop rather than
    #: keep its result as an array of its own
    cheap = False
    #: the output may share the buffer of input ``view_of`` (a view or alias; never written into)
    view_of: int | None = None
    #: the output's sizes left None take the run-time sizes of this input (when the node has it),
    #: whose values are not read: only its shape
    shape_from: int | None = None
    #: a reduction: its kind ("sum", "prod", "max", "min", "any", "all"), over ``self.axis``
    reduction: str | None = None
    #: the kernel computes each output element from the input elements at the same index, so it may
    #: write its result into the buffer of an input that dies at this node (same dtype and shape)
    in_place = False
    #: draws random numbers: ``perform`` receives its draw number (nodes equal in op and inputs,
    #: seed included, draw the same numbers, so merging them changes nothing)
    is_random = False
    #: has an effect besides its outputs (a collective such as an allreduce): never removed, merged,
    #: folded or reordered with respect to other such nodes
    has_side_effects = False

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
    def __call__(self, *inputs):
        """The output tensor (a tuple of them for an op with several outputs)."""
        node = self.make_node(*inputs)
        return node.outputs[0] if self.nout == 1 else node.outputs

    def make_node(self, *inputs) -> Node:
        inputs = [as_tensor(x) for x in inputs]
        if self.nin is not None and len(inputs) != self.nin:
            raise TypeError(f"{self} takes {self.nin} inputs, got {len(inputs)}.")
        inferred = self.infer(inputs)
        output_types = [inferred] if self.nout == 1 else list(inferred)
        if len(output_types) != self.nout:
            raise TypeError(f"{self} declares {self.nout} outputs but inferred {len(output_types)}.")
        node = Node(self, inputs, output_types)
        origin = provenance.current()
        if origin is not None:
            node.tag["layer"] = origin
        if self.has_side_effects:
            # the order effects were made in; a rebuilt node (rewrites, clones) keeps the original's
            node.tag["effect_order"] = node.uid
        return node

    # semantics -------------------------------------------------------------
    def infer(self, inputs: list[Tensor]):
        """Output (dtype, static shape) for these inputs (a list of them when ``nout > 1``).

        Raises ValueError on misuse.
        """
        raise NotImplementedError(f"{self.name} must define infer")

    def perform(self, inputs: list[np.ndarray], rng: int | None = None):
        """The reference semantics in NumPy: one array (a tuple of them when ``nout > 1``).

        Random ops get their call number as ``rng``.
        """
        raise NotImplementedError(f"{self.name} must define perform")

    def vjp(self, inputs: list[Tensor], outputs: list[Tensor], output_grads: list) -> list[Tensor | None]:
        """Vector-Jacobian product as graph, for any number of outputs.

        ``output_grads`` holds one gradient per output (None for an output the
        cost does not depend on); returns one gradient (or None) per input.
        Single-output ops implement the shorthand ``grad`` instead.
        """
        if self.nout != 1:
            raise NotImplementedError(f"{self.name} has {self.nout} outputs and must define vjp")
        return self.grad(inputs, outputs[0], output_grads[0])

    def grad(self, inputs: list[Tensor], out: Tensor, gz: Tensor) -> list[Tensor | None]:
        """Vector-Jacobian product of a single-output op: one gradient (or None) per input."""
        raise NotImplementedError(f"{self.name} has no gradient")

    def inner_graphs(self, inputs: list[Tensor]) -> list:
        """Graphs the op carries (the elementwise program of a Fused op, a loop's step), for the
        node applying it to ``inputs``; printing shows them and rewrites can run inside them."""
        return []

    def with_inner_graphs(self, graphs: list) -> Op:
        """The same op carrying ``graphs`` (rewritten versions of ``inner_graphs``) instead."""
        raise NotImplementedError(f"{self.name} carries no inner graph")

    def size_source(self, inputs: list[Tensor], out: Tensor, axis: int) -> tuple[int, int] | None:
        """(input position, input axis) whose run-time size ``out`` has along ``axis``, when the op knows one.

        Elementwise ops and ``shape_from`` ops are handled from their traits;
        others (a matrix product's letters) override this.  None: unknown.
        """
        return None


def checked_array(value, dtype: str, where: str) -> np.ndarray:
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
        t.default = checked_array(default, t.dtype, f"default of placeholder '{name}'")
        if not shapes.compatible(t.shape, t.default.shape):
            raise ValueError(
                f"Default of placeholder '{name}' has shape {shapes.fmt(t.default.shape)}, "
                f"expected {shapes.fmt(t.shape)}."
            )
    return t


def variable(shape, dtype=None, name=None) -> Tensor:
    """A variable tensor: identity, dtype (floatx by default) and a static shape.

    Its value is not part of the graph: ``symkeras.runtime.variable(value)``
    (or ``K.variable``) makes a variable and puts its value in the storage.
    """
    shape = shapes.normalize(shape)
    if None in shape:
        raise ValueError(f"A variable's shape must be static; got {shapes.fmt(shape)} for '{name}'.")
    return Tensor(dtype, shape, name=name, kind="variable")


def constant(value, dtype=None, name=None) -> Tensor:
    """An immutable tensor; python floats become floatx, python ints int64 unless ``dtype``."""
    if dtype is None:
        array = np.asarray(value)
        if array.dtype.kind == "f" and not isinstance(value, np.ndarray | np.generic):
            dtype = dtypes.normalize(None)
        else:
            dtype = dtypes.normalize(array.dtype)
    array = checked_array(value, dtypes.normalize(dtype), f"constant '{name}'")
    array.setflags(write=False)
    return Tensor(array.dtype, array.shape, name=name, kind="constant", value=array)


def as_tensor(value, dtype=None) -> Tensor:
    """A Tensor as is, anything else as a constant."""
    if isinstance(value, Tensor):
        return value
    return constant(value, dtype=dtype)


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)
