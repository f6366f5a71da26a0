"""The scalar-expression IR of fused elementwise kernels: one element of each elementwise op as source.

Each elementwise op type registers how it computes one element from the
element values of its inputs (source expressions).  A backend's kernel
generator composes these per step of a Fused program (the Numba backend's
loops, codegen/numba/loops.py; the CUDA backend's one thread per element,
codegen/cuda/elementwise.py); results are cast to the step's dtype, so
float32 graphs compute in float32.

The expressions are written once, in NumPy's spelling (``np.exp``,
``np.float32(...)``, ``np.inf``) with vecmath's vectorizable float32
functions (``vm.tanh32``) where a CPU loop gains from them.  A ``Dialect``
says how one backend spells them: the Numba CPU one as written, CUDA with
the ``math`` module and device functions of its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from symkeras.graph import ops
from symkeras.graph.ops import elemwise as ew

SCALAR: dict[type, Callable] = {}


def scalar(*op_types):
    def register(fn):
        for t in op_types:
            SCALAR[t] = fn
        return fn

    return register


def lit(value, dtype: str) -> str:
    """A typed literal: ``np.float32(0.5)``; infinities and NaN spelled for Numba."""
    if dtype == "bool":
        return "True" if value else "False"
    value = np.asarray(value, dtype=dtype).item()
    if isinstance(value, float):
        if np.isnan(value):
            text = "np.nan"
        elif np.isinf(value):
            text = "np.inf" if value > 0 else "-np.inf"
        else:
            text = repr(value)
    else:
        text = repr(value)
    return f"np.{dtype}({text})"


def clip_source(x: str, lo: str, hi: str) -> str:
    """``x`` clipped to [lo, hi], NaN kept (written out: a helper function costs a Numba compile per module)."""
    return f"({lo} if {x} < {lo} else ({hi} if {x} > {hi} else {x}))"


def maximum_source(a: str, b: str) -> str:
    """NumPy's NaN-propagating maximum of two scalars."""
    return f"({a} if ({a} >= {b} or {a} != {a}) else {b})"


def minimum_source(a: str, b: str) -> str:
    return f"({a} if ({a} <= {b} or {a} != {a}) else {b})"


def cast(expr: str, dtype: str) -> str:
    return f"np.bool_({expr})" if dtype == "bool" else f"np.{dtype}({expr})"


@dataclass(frozen=True)
class Dialect:
    """How one backend's kernels spell what the scalar expressions call.

    Attributes:
        name: the backend's name (in error messages).
        spellings: NumPy's (or vecmath's) name, as the expressions write it, -> the backend's.
        vectorized: float32 sigmoid and tanh as vecmath's arithmetic (CPU loops vectorize it); otherwise
            as the expressions of the other dtypes.
    """

    name: str
    spellings: dict = field(default_factory=dict)
    vectorized: bool = True

    def spell(self, text: str) -> str:
        if not self.spellings:
            return text
        return _NAMES.sub(lambda m: self.spellings.get(m.group(0), m.group(0)), text)


#: the names the expressions call or read, as a regex (longest first, whole names only)
_NAMES = re.compile(r"\b(?:np|vm)\.[A-Za-z_][A-Za-z0-9_]*")
#: the Numba CPU backend's dialect: the expressions as written
NUMBA = Dialect("numba")


def expression(op, args: list[str], in_dtypes: list[str], out_dtype: str, dialect: Dialect = NUMBA) -> str:
    """Source of one element of ``op`` applied to the element expressions ``args``, in ``dialect``."""
    emit = None
    for klass in type(op).__mro__:
        if klass in SCALAR:
            emit = SCALAR[klass]
            break
    if emit is None:
        raise NotImplementedError(f"No scalar kernel for {op}: the {dialect.name} backend cannot fuse it.")
    if not dialect.vectorized and out_dtype == "float32" and type(op) in _VECTORIZED:
        return dialect.spell(_VECTORIZED[type(op)](op, args, in_dtypes, out_dtype))
    return dialect.spell(emit(op, args, in_dtypes, out_dtype))


def replay(program, inputs) -> list:
    """The dtype and shape of each input (tensors) and then of each step of ``program`` (a Fused op's)."""
    from symkeras.graph.ops.fused import _Meta

    metas = [_Meta(t.dtype, t.shape) for t in inputs]
    for op, refs in program:
        metas.append(_Meta(*op.infer([metas[r] for r in refs])))
    return metas


def _unary(template):
    return lambda op, a, dt, out: template.format(a=a[0], T=out)


for _t, _tpl in {
    ew.Neg: "(-{a})", ew.Abs: "abs({a})", ew.Sign: "np.sign({a})", ew.Floor: "np.floor({a})",
    ew.Ceil: "np.ceil({a})", ew.Round: "np.rint({a})", ew.Log: "np.log({a})",
    ew.Log1p: "np.log1p({a})", ew.Expm1: "np.expm1({a})", ew.Sqrt: "np.sqrt({a})", ew.Square: "({a} * {a})",
    ew.Sin: "np.sin({a})", ew.Cos: "np.cos({a})", ew.Identity: "{a}",
    ew.StopGradient: "{a}", ew.LogicalNot: "(not {a})",
}.items():
    SCALAR[_t] = _unary(_tpl)


def _vectorized(name: str, fallback: str):
    """``vm.<name>32`` for float32 results (LLVM vectorizes it), NumPy's ``fallback`` for other dtypes."""
    def emit(op, a, dt, out):
        if out == "float32":
            return f"vm.{name}32(np.float32({a[0]}))"
        return fallback.format(a=a[0], T=out)
    return emit


# (exp alone stays the C library's: glibc's expf (2.6 ns) beats the arithmetic one where a short inner
# loop, a softmax over 10 classes, is not vectorized; tanh and sigmoid are faster as arithmetic either way)
SCALAR[ew.Exp] = _unary("np.exp({a})")
SCALAR[ew.Tanh] = _vectorized("tanh", "np.tanh({a})")


def _sigmoid_scalar(op, a, dt, out):
    x, one = a[0], lit(1, out)
    return f"({one} / ({one} + np.exp(-{x})) if {x} >= 0 else np.exp({x}) / ({one} + np.exp({x})))"


@scalar(ew.Reciprocal)
def _reciprocal(op, a, dt, out):
    return f"({lit(1, out)} / {cast(a[0], out)})"


@scalar(ew.Sigmoid)
def _sigmoid(op, a, dt, out):
    if out == "float32":
        return f"vm.sigmoid32(np.float32({a[0]}))"
    return _sigmoid_scalar(op, a, dt, out)


#: float32 tanh and sigmoid for a dialect without vecmath (see Dialect.vectorized)
_VECTORIZED = {ew.Tanh: lambda op, a, dt, out: f"np.tanh({a[0]})", ew.Sigmoid: _sigmoid_scalar}


@scalar(ew.HardSigmoid)
def _hard_sigmoid(op, a, dt, out):
    v = f"({lit(0.2, out)} * {a[0]} + {lit(0.5, out)})"
    return f"({lit(0, out)} if {v} < 0 else ({lit(1, out)} if {v} > 1 else {v}))"


@scalar(ew.Softplus)
def _softplus(op, a, dt, out):
    x = a[0]
    return f"(np.log1p(np.exp(-abs({x}))) + ({x} if {x} > 0 else {lit(0, out)}))"


@scalar(ew.Softsign)
def _softsign(op, a, dt, out):
    return f"({a[0]} / ({lit(1, out)} + abs({a[0]})))"


@scalar(ew.Relu)
def _relu(op, a, dt, out):
    x = a[0]
    zero = lit(0, out)
    if op.threshold:
        pos = f"({x} if {x} > {lit(op.threshold, out)} else {zero})"
    else:
        pos = f"({x} if {x} > 0 else ({x} if {x} != {x} else {zero}))"
    if op.max_value is not None:
        pos = clip_source(pos, zero, lit(op.max_value, out))
    if op.alpha:
        neg = f"({lit(op.threshold, out)} - {x})"
        pos = f"({pos} - {lit(op.alpha, out)} * ({neg} if {neg} > 0 else {zero}))"
    return pos


@scalar(ew.Elu)
def _elu(op, a, dt, out):
    x = a[0]
    return f"({x} if {x} > 0 else {lit(op.alpha, out)} * np.expm1({x}))"


@scalar(ew.Selu)
def _selu(op, a, dt, out):
    x = a[0]
    return (f"({lit(ew.SELU_SCALE, out)} * ({x} if {x} > 0 else "
            f"{lit(ew.SELU_ALPHA, out)} * np.expm1({x})))")


@scalar(ew.Clip)
def _clip(op, a, dt, out):
    return clip_source(a[0], lit(op.min_value, out), lit(op.max_value, out))


@scalar(ew.Cast)
def _cast(op, a, dt, out):
    if out == "bool":
        return f"({a[0]} != 0)"
    return cast(a[0], out)


def _operands(a, dt, out):
    return [cast(x, out) if d != out else x for x, d in zip(a, dt)]


def _binary(template):
    def emit(op, a, dt, out):
        x, y = _operands(a, dt, out)
        return template.format(a=x, b=y)

    return emit


for _t, _tpl in {
    ew.Add: "({a} + {b})", ew.Sub: "({a} - {b})", ew.Mul: "({a} * {b})", ew.TrueDiv: "({a} / {b})",
    ew.FloorDiv: "({a} // {b})", ew.Mod: "({a} % {b})", ew.Pow: "({a} ** {b})",
}.items():
    SCALAR[_t] = _binary(_tpl)
SCALAR[ew.Maximum] = lambda op, a, dt, out: maximum_source(*_operands(a, dt, out))
SCALAR[ew.Minimum] = lambda op, a, dt, out: minimum_source(*_operands(a, dt, out))


def _compare(symbol):
    def emit(op, a, dt, out):
        common = str(np.result_type(*dt))
        x = cast(a[0], common) if dt[0] != common else a[0]
        y = cast(a[1], common) if dt[1] != common else a[1]
        return f"({x} {symbol} {y})"

    return emit


for _t, _sym in {ew.Equal: "==", ew.NotEqual: "!=", ew.Less: "<", ew.LessEqual: "<=", ew.Greater: ">",
                 ew.GreaterEqual: ">="}.items():
    SCALAR[_t] = _compare(_sym)


def _logical(symbol):
    return lambda op, a, dt, out: f"(bool({a[0]}) {symbol} bool({a[1]}))"


SCALAR[ew.LogicalAnd] = _logical("and")
SCALAR[ew.LogicalOr] = _logical("or")
SCALAR[ew.LogicalXor] = _logical("!=")


@scalar(ops.Where)
def _where(op, a, dt, out):
    x = cast(a[1], out) if dt[1] != out else a[1]
    y = cast(a[2], out) if dt[2] != out else a[2]
    return f"({x} if {a[0]} else {y})"


@scalar(ops.FullLike)
def _full_like(op, a, dt, out):
    return lit(op.value, out)


@scalar(ops.BroadcastLike)
def _broadcast_like(op, a, dt, out):
    return a[0]
