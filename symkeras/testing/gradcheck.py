"""Finite-difference checking of symbolic gradients (in the spirit of Theano's verify_grad)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from symkeras.codegen.reference import Evaluator
from symkeras.graph.basic import Tensor, constant, placeholder
from symkeras.graph.fgraph import Graph
from symkeras.graph.grad import gradients
from symkeras.graph.ops.reduce import reduce_sum


class GradientMismatch(AssertionError):
    """The symbolic and the numeric gradient disagree."""


def _runner(inputs, outputs):
    program = Evaluator(Graph(inputs, outputs))

    def run(values):
        computed = program.run(dict(zip(inputs, values)))
        return [computed[o] for o in outputs]

    return run


def verify_grad(
    fn: Callable[..., Tensor],
    points: Sequence,
    rng: np.random.Generator | None = None,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-5,
) -> None:
    """Compare the symbolic gradient of ``fn`` with central differences at ``points``.

    ``fn`` maps float64 placeholders (one per point) to a tensor; the checked
    cost is ``sum(fn(...) * P)`` for a random projection P, so every output
    element contributes.

    Raises:
        GradientMismatch: naming the input, the worst element and both values.
    """
    rng = rng or np.random.default_rng(42)
    points = [np.array(p, dtype="float64") for p in points]
    xs = [placeholder(p.shape, dtype="float64", name=f"x{i}") for i, p in enumerate(points)]
    out = fn(*xs)
    if not isinstance(out, Tensor):
        raise TypeError("verify_grad: fn must return a tensor.")
    out_value = _runner(xs, [out])(points)[0]
    projection = constant(rng.standard_normal(out_value.shape), dtype=out.dtype)
    cost = reduce_sum(out * projection) if out.ndim else out * projection
    symbolic = _runner(xs, gradients(cost, xs))(points)
    cost_of = _runner(xs, [cost])

    for i, point in enumerate(points):
        numeric = np.zeros_like(point)
        for j in np.ndindex(point.shape):
            shifted = [p.copy() for p in points]
            shifted[i][j] = point[j] + eps
            up = cost_of(shifted)[0]
            shifted[i][j] = point[j] - eps
            down = cost_of(shifted)[0]
            numeric[j] = (up - down) / (2 * eps)
        sym = np.asarray(symbolic[i], dtype="float64")
        if sym.shape != numeric.shape:
            raise GradientMismatch(f"gradient of input {i} has shape {sym.shape}, expected {numeric.shape}")
        bad = ~np.isclose(sym, numeric, atol=atol, rtol=rtol)
        if bad.any():
            where = tuple(int(k) for k in np.argwhere(bad)[0])
            raise GradientMismatch(
                f"gradient of input {i} differs at {where}: symbolic {sym[where]!r}, "
                f"numeric {numeric[where]!r} ({int(bad.sum())} of {bad.size} elements differ)"
            )
