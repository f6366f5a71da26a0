"""K.function, K.gradients and the update helpers."""

from __future__ import annotations

from symkeras.codegen.function import Function
from symkeras.graph import grad, ops, rewrite
from symkeras.graph.basic import Tensor, as_tensor

_FUNCTION_OPTIONS = ("backend", "device", "mode", "exclude", "nan_guard", "profile")


def function(inputs, outputs, updates=None, name=None, **kwargs) -> Function:
    """A compiled callable: ``f(list_of_arrays) -> list_of_arrays``.

    Updates (pairs from K.update and friends) are applied to the variables
    after each call.  The learning phase need not be fed: it defaults to 0.
    symkeras options: ``backend`` ("numba", "reference" or "cuda"), ``device``
    ("cpu" or "cuda": the default CPU backend, or "cuda"), ``mode``
    ("fast_run" or "none"), ``exclude`` (rewrite passes to skip) and
    ``nan_guard`` (raise at the first node producing NaN or Inf; see Function)
    and ``profile`` (time every node; ``f.profile()`` reports).
    """
    unknown = sorted(set(kwargs) - set(_FUNCTION_OPTIONS))
    if unknown:
        raise ValueError(f"Invalid argument(s) to K.function: {', '.join(unknown)}.")
    device = kwargs.pop("device", None)
    if device is not None:
        kwargs["backend"] = backend_of_device(device, kwargs.get("backend"))
    return Function(list(inputs), outputs, updates=updates, name=name, **kwargs)


def backend_of_device(device, backend=None) -> str | None:
    """The backend a ``device`` argument selects (``backend``, given too, must agree with it)."""
    from symkeras import config

    device = config.check_device(device)
    chosen = "cuda" if device == "cuda" else (backend if backend not in (None, "cuda") else config.cpu_backend())
    if backend is not None and backend != chosen:
        raise ValueError(f"device={device!r} and backend={backend!r} disagree: give one of them.")
    return chosen


def print_tensor(x, message=""):
    """Keras 2's ``K.print_tensor``: a tensor equal to ``x`` that prints ``message`` and its value (to
    stdout) each time a compiled function computes it; use the returned tensor in the code that follows.

    Args:
        x: a symbolic tensor.
        message: the text printed before the value.

    Returns:
        The same values as ``x``.
    """
    return ops.print_tensor(as_tensor(x), message)


def gradients(loss, variables) -> list:
    """The gradients of ``loss`` with respect to ``variables``, as a list (also for a single tensor).

    Keras 2 on TensorFlow returns a list whatever ``variables`` is, so
    ``K.gradients(loss, input_img)[0]`` is the gradient of ``input_img``.  A
    non-scalar loss is summed first (as TensorFlow does).  Two steps: the loss
    is rewritten with the numerical-stability rules
    (``symkeras.graph.rewrite.stabilized_cost``), then differentiated
    symbolically (``symkeras.graph.grad.gradients``).

    Args:
        loss: a float tensor.
        variables: a tensor or a list of tensors (variables, placeholders or
            tensors of the graph).

    Returns:
        A list with one gradient tensor per variable, each of its shape.
    """
    (loss,) = ops.operands(loss)
    if loss.ndim:
        loss = ops.reduce_sum(loss)
    wrt = [variables] if isinstance(variables, Tensor) else list(variables)
    return grad.gradients(rewrite.stabilized_cost(loss, wrt), wrt)


def update(x, new_x):
    return (x, new_x)


def update_add(x, increment):
    return (x, x + increment)


def update_sub(x, decrement):
    return (x, x - decrement)


def moving_average_update(x, value, momentum):
    return (x, x * momentum + value * (1.0 - momentum))
