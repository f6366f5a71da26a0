"""Elementwise ops: unary math and activations, binary ops with NumPy broadcasting, where."""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor, constant
from symkeras.graph.ops.broadcast import sum_to_like, zeros_like

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def operands(*values) -> list[Tensor]:
    """Tensors as given; Python scalars and arrays adopt the tensors' dtype where sensible."""
    ref_dtypes = [v.dtype for v in values if isinstance(v, Tensor)]
    ref = dtypes.upcast(*ref_dtypes) if ref_dtypes else None
    float_literal = any(not isinstance(v, Tensor) and np.asarray(v).dtype.kind == "f" for v in values)
    promote = ref is not None and float_literal and not dtypes.is_float(ref)
    if promote:  # int_tensor * 0.5 computes in floatx, not float64
        ref = dtypes.float_of(ref)
    out = []
    for v in values:
        if isinstance(v, Tensor):
            out.append(cast(v, ref) if promote else v)
            continue
        array = np.asarray(v)
        kind = array.dtype.kind
        if ref is None or kind == "b":
            out.append(constant(v))
        elif kind in "iu":
            out.append(constant(array, dtype=ref if ref != "bool" else "int64"))
        elif kind == "f":
            out.append(constant(array, dtype=ref if dtypes.is_float(ref) else None))
        else:
            raise TypeError(f"Cannot use {v!r} (dtype {array.dtype}) in a numeric expression.")
    return out


# --- unary -------------------------------------------------------------------

class Unary(Op):
    """Base of one-input elementwise ops; ``float_only`` ops give floatx for integer input."""

    nin = 1
    float_only = True
    elementwise = True
    in_place = True

    def infer(self, inputs):
        (x,) = inputs
        return (dtypes.float_of(x.dtype) if self.float_only else x.dtype), x.shape

    def perform(self, inputs, rng=None):
        return self.fn(inputs[0])

    def fn(self, x):
        raise NotImplementedError


class Neg(Unary):
    cheap = True
    float_only = False
    fn = staticmethod(np.negative)

    def grad(self, inputs, out, gz):
        return [-gz]


class Abs(Unary):
    cheap = True
    float_only = False
    fn = staticmethod(np.abs)

    def grad(self, inputs, out, gz):
        return [gz * sign(inputs[0])]


class _PiecewiseConstant(Unary):
    """Ops whose derivative is zero wherever it exists."""

    float_only = False

    def grad(self, inputs, out, gz):
        return [zeros_like(inputs[0])]


class Sign(_PiecewiseConstant):
    cheap = True
    fn = staticmethod(np.sign)


class Floor(_PiecewiseConstant):
    fn = staticmethod(np.floor)


class Ceil(_PiecewiseConstant):
    fn = staticmethod(np.ceil)


class Round(_PiecewiseConstant):
    """Round half to even, as tf.round and np.round."""

    fn = staticmethod(np.round)


class Exp(Unary):
    fn = staticmethod(np.exp)

    def grad(self, inputs, out, gz):
        return [gz * out]


class Log(Unary):
    fn = staticmethod(np.log)

    def grad(self, inputs, out, gz):
        return [gz / inputs[0]]


class Log1p(Unary):
    fn = staticmethod(np.log1p)

    def grad(self, inputs, out, gz):
        return [gz / (1 + inputs[0])]


class Expm1(Unary):
    fn = staticmethod(np.expm1)

    def grad(self, inputs, out, gz):
        return [gz * (out + 1)]


class Sqrt(Unary):
    fn = staticmethod(np.sqrt)

    def grad(self, inputs, out, gz):
        return [gz * 0.5 / out]


class Square(Unary):
    cheap = True
    float_only = False
    fn = staticmethod(np.square)

    def grad(self, inputs, out, gz):
        return [gz * 2 * inputs[0]]


class Reciprocal(Unary):
    fn = staticmethod(np.reciprocal)

    def perform(self, inputs, rng=None):
        return np.reciprocal(inputs[0].astype(dtypes.float_of(inputs[0].dtype.name)))

    def grad(self, inputs, out, gz):
        return [-gz * out * out]


class Sin(Unary):
    fn = staticmethod(np.sin)

    def grad(self, inputs, out, gz):
        return [gz * cos(inputs[0])]


class Cos(Unary):
    fn = staticmethod(np.cos)

    def grad(self, inputs, out, gz):
        return [-gz * sin(inputs[0])]


class Tanh(Unary):
    fn = staticmethod(np.tanh)

    def grad(self, inputs, out, gz):
        return [gz * (1 - out * out)]


class Sigmoid(Unary):
    @staticmethod
    def fn(x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    def grad(self, inputs, out, gz):
        return [gz * out * (1 - out)]


class HardSigmoid(Unary):
    """Keras 2: clip(0.2 * x + 0.5, 0, 1)."""

    @staticmethod
    def fn(x):
        return np.clip(0.2 * x + 0.5, 0.0, 1.0)

    def grad(self, inputs, out, gz):
        (x,) = inputs
        return [gz * 0.2 * cast(abs_(x) < 2.5, gz.dtype)]


class Softplus(Unary):
    @staticmethod
    def fn(x):
        return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)

    def grad(self, inputs, out, gz):
        return [gz * sigmoid(inputs[0])]


class Softsign(Unary):
    @staticmethod
    def fn(x):
        return x / (1 + np.abs(x))

    def grad(self, inputs, out, gz):
        d = 1 + abs_(inputs[0])
        return [gz / (d * d)]


class Relu(Unary):
    """Keras 2's K.relu: x above ``threshold``, clipped at ``max_value``, ``alpha`` slope below."""

    cheap = True
    __props__ = ("alpha", "max_value", "threshold")

    def __init__(self, alpha=0.0, max_value=None, threshold=0.0):
        self.alpha = float(alpha)
        self.max_value = None if max_value is None else float(max_value)
        self.threshold = float(threshold)

    def fn(self, x):
        pos = np.where(x > self.threshold, x, 0) if self.threshold else np.maximum(x, 0)
        if self.max_value is not None:
            pos = np.clip(pos, 0, self.max_value)
        if self.alpha:
            pos = pos - self.alpha * np.maximum(self.threshold - x, 0)
        return pos

    def grad(self, inputs, out, gz):
        (x,) = inputs
        # With the threshold at 0 and a non-negative slope the output has the input's sign (and stays
        # below max_value exactly when the input does), so the mask reads the output: the input is then
        # needed by nothing but the forward step (a convolution can apply the activation in its kernel).
        v = out if self.threshold == 0 and self.alpha >= 0 else x
        mask = v > self.threshold
        if self.max_value is not None:
            mask = mask & (v < self.max_value) & (v > 0)
        slope = cast(mask, gz.dtype)
        if self.alpha:
            slope = slope + self.alpha * cast(v < self.threshold, gz.dtype)
        return [gz * slope]


class Elu(Unary):
    __props__ = ("alpha",)

    def __init__(self, alpha=1.0):
        self.alpha = float(alpha)

    def fn(self, x):
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def grad(self, inputs, out, gz):
        return [gz * where(inputs[0] > 0, 1.0, out + self.alpha)]


class Selu(Unary):
    @staticmethod
    def fn(x):
        return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))

    def grad(self, inputs, out, gz):
        return [gz * where(inputs[0] > 0, SELU_SCALE, out + SELU_SCALE * SELU_ALPHA)]


class Clip(Unary):
    """Clip to [min_value, max_value]; the gradient passes where x lies inside (inclusive)."""

    cheap = True
    __props__ = ("min_value", "max_value")
    float_only = False

    def __init__(self, min_value, max_value):
        self.min_value = float(min_value)
        self.max_value = float(max(max_value, min_value))

    def fn(self, x):
        return np.clip(x, self.min_value, self.max_value)

    def grad(self, inputs, out, gz):
        (x,) = inputs
        inside = (x >= self.min_value) & (x <= self.max_value)
        return [gz * cast(inside, gz.dtype)]


class Cast(Unary):
    cheap = True
    __props__ = ("dtype",)

    def __init__(self, dtype):
        self.dtype = dtypes.normalize(dtype)

    def infer(self, inputs):
        return self.dtype, inputs[0].shape

    def fn(self, x):
        return x.astype(self.dtype)

    def grad(self, inputs, out, gz):
        (x,) = inputs
        return [cast(gz, x.dtype) if dtypes.is_float(x.dtype) else None]


class Identity(Unary):
    float_only = False
    cheap = True
    view_of = 0
    in_place = False  # the result is the input itself

    def fn(self, x):
        return x

    def grad(self, inputs, out, gz):
        return [gz]


class StopGradient(Unary):
    """Identity whose gradient is blocked (no gradient flows through it)."""

    float_only = False
    differentiable = False
    cheap = True
    view_of = 0
    in_place = False

    def fn(self, x):
        return x


class LogicalNot(Unary):
    differentiable = False
    cheap = True

    def infer(self, inputs):
        return "bool", inputs[0].shape

    def fn(self, x):
        return np.logical_not(x)


# --- binary ------------------------------------------------------------------

class Binary(Op):
    """Base of two-input elementwise ops with NumPy broadcasting."""

    nin = 2
    elementwise = True
    in_place = True

    def infer(self, inputs):
        a, b = inputs
        return self.out_dtype(a.dtype, b.dtype), shapes.broadcast(a.shape, b.shape)

    def out_dtype(self, a: str, b: str) -> str:
        return dtypes.upcast(a, b)

    def perform(self, inputs, rng=None):
        return self.fn(*inputs)


class Add(Binary):
    cheap = True
    fn = staticmethod(np.add)

    def grad(self, inputs, out, gz):
        a, b = inputs
        return [sum_to_like(gz, a), sum_to_like(gz, b)]


class Sub(Binary):
    cheap = True
    fn = staticmethod(np.subtract)

    def grad(self, inputs, out, gz):
        a, b = inputs
        return [sum_to_like(gz, a), sum_to_like(-gz, b)]


class Mul(Binary):
    cheap = True
    fn = staticmethod(np.multiply)

    def grad(self, inputs, out, gz):
        a, b = inputs
        return [sum_to_like(gz * b, a), sum_to_like(gz * a, b)]


class TrueDiv(Binary):
    """Division; two integer inputs give floatx."""

    def out_dtype(self, a, b):
        return dtypes.float_of(dtypes.upcast(a, b))

    @staticmethod
    def fn(a, b):
        return np.true_divide(a, b)

    def grad(self, inputs, out, gz):
        a, b = inputs
        return [sum_to_like(gz / b, a), sum_to_like(-gz * out / b, b)]


class FloorDiv(Binary):
    fn = staticmethod(np.floor_divide)

    def grad(self, inputs, out, gz):
        a, b = inputs
        return [zeros_like(a), zeros_like(b)]


class Mod(Binary):
    """Python/NumPy modulo (result has the sign of the divisor)."""

    fn = staticmethod(np.mod)

    def grad(self, inputs, out, gz):
        a, b = inputs
        return [sum_to_like(gz, a), sum_to_like(-gz * floor(a / b), b)]


class Pow(Binary):
    fn = staticmethod(np.power)

    def grad(self, inputs, out, gz):
        a, b = inputs
        ga = sum_to_like(gz * b * a ** (b - 1), a)
        gb = sum_to_like(gz * out * log(a), b) if dtypes.is_float(b.dtype) else None
        return [ga, gb]


class Maximum(Binary):
    cheap = True
    fn = staticmethod(np.maximum)

    def grad(self, inputs, out, gz):
        a, b = inputs
        pick_a = cast(a >= b, gz.dtype)
        return [sum_to_like(gz * pick_a, a), sum_to_like(gz * (1 - pick_a), b)]


class Minimum(Binary):
    cheap = True
    fn = staticmethod(np.minimum)

    def grad(self, inputs, out, gz):
        a, b = inputs
        pick_a = cast(a <= b, gz.dtype)
        return [sum_to_like(gz * pick_a, a), sum_to_like(gz * (1 - pick_a), b)]


class _Predicate(Binary):
    """Comparisons and logical ops: boolean result, no gradient."""

    differentiable = False
    cheap = True

    def out_dtype(self, a, b):
        return "bool"


class Equal(_Predicate):
    fn = staticmethod(np.equal)


class NotEqual(_Predicate):
    fn = staticmethod(np.not_equal)


class Less(_Predicate):
    fn = staticmethod(np.less)


class LessEqual(_Predicate):
    fn = staticmethod(np.less_equal)


class Greater(_Predicate):
    fn = staticmethod(np.greater)


class GreaterEqual(_Predicate):
    fn = staticmethod(np.greater_equal)


class LogicalAnd(_Predicate):
    fn = staticmethod(np.logical_and)


class LogicalOr(_Predicate):
    fn = staticmethod(np.logical_or)


class LogicalXor(_Predicate):
    fn = staticmethod(np.logical_xor)


class Where(Op):
    """``where(cond, a, b)`` with NumPy broadcasting of all three."""

    nin = 3
    elementwise = True
    cheap = True
    in_place = True

    def infer(self, inputs):
        c, a, b = inputs
        return dtypes.upcast(a.dtype, b.dtype), shapes.broadcast(c.shape, a.shape, b.shape)

    def perform(self, inputs, rng=None):
        c, a, b = inputs
        return np.where(c.astype(bool), a, b)

    def grad(self, inputs, out, gz):
        c, a, b = inputs
        zero = zeros_like(gz)
        return [None, sum_to_like(where(c, gz, zero), a), sum_to_like(where(c, zero, gz), b)]


# --- builders ------------------------------------------------------------------

def _unary(op_type):
    def build(x) -> Tensor:
        (x,) = operands(x)
        return op_type()(x)

    build.__name__ = op_type.__name__.lower()
    build.__doc__ = f"Elementwise {op_type.__name__}."
    return build


def _binary(op_type):
    def build(a, b) -> Tensor:
        a, b = operands(a, b)
        return op_type()(a, b)

    build.__name__ = op_type.__name__.lower()
    build.__doc__ = f"Elementwise {op_type.__name__} with NumPy broadcasting."
    return build


neg = _unary(Neg)
abs_ = _unary(Abs)
sign = _unary(Sign)
floor = _unary(Floor)
ceil = _unary(Ceil)
round_ = _unary(Round)
exp = _unary(Exp)
log = _unary(Log)
log1p = _unary(Log1p)
expm1 = _unary(Expm1)
sqrt = _unary(Sqrt)
square = _unary(Square)
reciprocal = _unary(Reciprocal)
sin = _unary(Sin)
cos = _unary(Cos)
tanh = _unary(Tanh)
sigmoid = _unary(Sigmoid)
hard_sigmoid = _unary(HardSigmoid)
softplus = _unary(Softplus)
softsign = _unary(Softsign)
selu = _unary(Selu)
identity = _unary(Identity)
stop_gradient = _unary(StopGradient)
logical_not = _unary(LogicalNot)

add = _binary(Add)
sub = _binary(Sub)
mul = _binary(Mul)
true_div = _binary(TrueDiv)
floor_div = _binary(FloorDiv)
mod = _binary(Mod)
power = _binary(Pow)
maximum = _binary(Maximum)
minimum = _binary(Minimum)
equal = _binary(Equal)
not_equal = _binary(NotEqual)
less = _binary(Less)
less_equal = _binary(LessEqual)
greater = _binary(Greater)
greater_equal = _binary(GreaterEqual)
logical_and = _binary(LogicalAnd)
logical_or = _binary(LogicalOr)
logical_xor = _binary(LogicalXor)


def relu(x, alpha=0.0, max_value=None, threshold=0.0) -> Tensor:
    (x,) = operands(x)
    return Relu(alpha, max_value, threshold)(x)


def elu(x, alpha=1.0) -> Tensor:
    (x,) = operands(x)
    return Elu(alpha)(x)


def clip(x, min_value, max_value) -> Tensor:
    (x,) = operands(x)
    return Clip(min_value, max_value)(x)


def cast(x, dtype) -> Tensor:
    (x,) = operands(x)
    dtype = dtypes.normalize(dtype)
    if x.dtype == dtype:
        return x
    return Cast(dtype)(x)


def where(cond, a, b) -> Tensor:
    """Elementwise ``a`` where ``cond`` else ``b`` (NumPy broadcasting)."""
    (cond,) = operands(cond)
    if cond.dtype != "bool":
        cond = not_equal(cond, 0)
    a, b = operands(a, b)
    return Where()(cond, a, b)
