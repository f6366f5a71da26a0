"""K.function, K.gradients and the update helpers."""

from __future__ import annotations

from symkeras.codegen.function import Function
from symkeras.graph import grad, ops
from symkeras.graph.basic import Tensor

_FUNCTION_OPTIONS = ("backend", "mode", "exclude")


def function(inputs, outputs, updates=None, name=None, **kwargs) -> Function:
    """A compiled callable: ``f(list_of_arrays) -> list_of_arrays``.

    Updates (pairs from K.update and friends) are applied to the variables
    after each call.  The learning phase need not be fed: it defaults to 0.
    symkeras options: ``backend`` ("numba" or "reference"), ``mode``
    ("fast_run" or "none") and ``exclude`` (rewrite passes to skip).
    """
    unknown = sorted(set(kwargs) - set(_FUNCTION_OPTIONS))
    if unknown:
        raise ValueError(f"Invalid argument(s) to K.function: {', '.join(unknown)}.")
    return Function(list(inputs), outputs, updates=updates, name=name, **kwargs)


def gradients(loss, variables):
    """Gradients of ``loss`` w.r.t. each variable; a non-scalar loss is summed first (as TF does)."""
    (loss,) = ops.operands(loss)
    if loss.ndim:
        loss = ops.reduce_sum(loss)
    single = isinstance(variables, Tensor)
    result = grad.gradients(loss, [variables] if single else list(variables))
    return result[0] if single else result


def update(x, new_x):
    return (x, new_x)


def update_add(x, increment):
    return (x, x + increment)


def update_sub(x, decrement):
    return (x, x - decrement)


def moving_average_update(x, value, momentum):
    return (x, x * momentum + value * (1.0 - momentum))
