"""Numerical-stability rewrites of the probability-space formulas Keras 2 writes.

They agree with Keras 2 (which clips probabilities to [epsilon, 1 - epsilon]
in the tensor's dtype) wherever Keras's result is finite, and stay finite
where the naive graph overflows.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import ops
from symkeras.graph.basic import Tensor
from symkeras.graph.ops.reduce import Sum
from symkeras.graph.rewrite.core import is_op, rule


def _rounded(value: float, dtype: str) -> float:
    """``value`` as the tensor's dtype stores it (Keras clips to float32(1 - 1e-7), not 1 - 1e-7)."""
    return float(np.asarray(value, dtype=dtype))


@rule(ops.Log)
def log_of_softmax(t):
    """log(softmax(x)) -> log_softmax(x)."""
    if is_op(t, ops.Log) and is_op(t.owner.inputs[0], ops.Softmax):
        sm = t.owner.inputs[0]
        return ops.LogSoftmax(sm.owner.op.axis)(sm.owner.inputs[0])
    return None


@rule(ops.Log)
def log_of_sigmoid(t):
    """log(sigmoid(x)) -> -softplus(-x)."""
    if is_op(t, ops.Log) and is_op(t.owner.inputs[0], ops.Sigmoid):
        x = t.owner.inputs[0].owner.inputs[0]
        if x.dtype == t.dtype:
            return ops.neg(ops.softplus(ops.neg(x)))
    return None


def _softmax_under(p: Tensor):
    """The Softmax node under ``p`` or ``p / sum(p, axis, keepdims)`` (Keras renormalizes)."""
    if is_op(p, ops.Softmax):
        return p
    if is_op(p, ops.TrueDiv):
        num, den = p.owner.inputs
        if is_op(num, ops.Softmax) and is_op(den, Sum) and den.owner.inputs[0] is num:
            if den.owner.op.keepdims and den.owner.op.axis == (num.owner.op.axis,):
                return num
    return None


@rule(ops.Log)
def log_of_clipped_softmax(t):
    """log(clip(softmax(x) [/ its sum], lo, hi)) -> clip(log_softmax(x), log lo, log hi).

    This is the categorical cross-entropy of a softmax output as Keras 2
    writes it; the rewritten form never takes the log of a rounded probability.
    """
    if not (is_op(t, ops.Log) and is_op(t.owner.inputs[0], ops.Clip)):
        return None
    clip = t.owner.inputs[0]
    sm = _softmax_under(clip.owner.inputs[0])
    if sm is None or sm.dtype != t.dtype:
        return None
    lo, hi = (_rounded(v, t.dtype) for v in (clip.owner.op.min_value, clip.owner.op.max_value))
    if lo <= 0:
        return None
    log_sm = ops.LogSoftmax(sm.owner.op.axis)(sm.owner.inputs[0])
    return ops.clip(log_sm, float(np.log(lo)), float(np.log(hi)) if hi > 0 else -np.inf)


@rule(ops.Log)
def logit_of_clipped_sigmoid(t):
    """log(p / (1 - p)) with p = clip(sigmoid(x), lo, hi) -> clip(x, logit(lo), logit(hi)).

    Keras 2's binary cross-entropy of a sigmoid output turns probabilities
    back into logits this way; the rewrite skips the round trip.
    """
    if not (is_op(t, ops.Log) and is_op(t.owner.inputs[0], ops.TrueDiv)):
        return None
    num, den = t.owner.inputs[0].owner.inputs
    if not (is_op(num, ops.Clip) and is_op(num.owner.inputs[0], ops.Sigmoid) and is_op(den, ops.Sub)):
        return None
    one, p = den.owner.inputs
    if p is not num or one.kind != "constant" or not np.all(one.value == 1):
        return None
    x = num.owner.inputs[0].owner.inputs[0]
    if x.dtype != t.dtype or x.shape != t.shape:
        return None
    lo, hi = (_rounded(v, t.dtype) for v in (num.owner.op.min_value, num.owner.op.max_value))
    if not 0 < lo <= hi < 1:
        return None
    logit_lo = float(np.log(lo) - np.log1p(-lo))
    logit_hi = float(np.log(hi) - np.log1p(-hi))
    return ops.clip(x, logit_lo, logit_hi)


RULES = [log_of_softmax, log_of_sigmoid, log_of_clipped_softmax, logit_of_clipped_sigmoid]
