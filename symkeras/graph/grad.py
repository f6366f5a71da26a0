"""Reverse-mode symbolic differentiation: gradients are tensors of the same graph."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from symkeras.graph import dtypes, provenance, shapes
from symkeras.graph.basic import Tensor, constant
from symkeras.graph.fgraph import topological_tensors
from symkeras.graph.ops.broadcast import zeros_like
from symkeras.graph.ops.elemwise import cast


class DisconnectedGradientError(ValueError):
    """The cost does not depend on a tensor whose gradient was asked for."""


class GradientError(TypeError):
    """An op returned a gradient that does not fit its input."""


def _accumulate(terms: list[Tensor]) -> Tensor:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def gradients(
    cost: Tensor,
    wrt: Tensor | Sequence[Tensor],
    consider_constant: Iterable[Tensor] = (),
    disconnected: str = "zero",
):
    """Gradient of a scalar ``cost`` with respect to each tensor in ``wrt``.

    Contributions over fan-out are summed; integer and boolean paths carry no
    gradient; ``stop_gradient`` and ``consider_constant`` block it.

    Args:
        cost: a float tensor of rank 0.
        wrt: one tensor or a list of tensors.
        consider_constant: tensors treated as constants.
        disconnected: ``"zero"`` returns zeros for a ``wrt`` the cost does not
            depend on; ``"raise"`` raises DisconnectedGradientError.

    The cost is differentiated as it is built.  ``K.gradients`` first applies
    the numerical-stability rewrites (``symkeras.graph.rewrite.stabilized_cost``)
    so that, for example, the gradient of a softmax cross-entropy is the
    stable ``softmax - target``.

    Returns:
        One tensor (shape and dtype of its ``wrt``) or a list of them.
    """
    single = isinstance(wrt, Tensor)
    wrt_list = [wrt] if single else list(wrt)
    if not isinstance(cost, Tensor):
        raise TypeError(f"cost must be a symbolic tensor; got {type(cost).__name__}.")
    if cost.ndim != 0:
        raise ValueError(f"gradients needs a scalar cost; got shape {shapes.fmt(cost.shape)} "
                         "(reduce it first, e.g. with a sum or mean).")
    if not dtypes.is_float(cost.dtype):
        raise TypeError(f"gradients needs a float cost; got dtype {cost.dtype}.")
    if disconnected not in ("zero", "raise"):
        raise ValueError(f"disconnected must be 'zero' or 'raise'; got {disconnected!r}.")

    blocked = set(consider_constant)
    order = topological_tensors([cost], stop=blocked)  # every one an ancestor of the cost
    # the tensors on a path from some wrt to the cost
    on_path = set(wrt_list)
    for t in order:
        if t.owner is not None and t not in blocked and any(i in on_path for i in t.owner.inputs):
            on_path.add(t)

    pending: dict[Tensor, list[Tensor]] = {cost: [constant(1.0, dtype=cost.dtype)]}
    # nodes in reverse order: every output's gradient is complete when its node is reached
    nodes = list(dict.fromkeys(t.owner for t in reversed(order)
                               if t.owner is not None and t not in blocked and t in on_path))
    for node in nodes:
        if not node.op.differentiable or not any(o in pending for o in node.outputs):
            continue
        output_grads = [_accumulate(pending[o]) if o in pending else None for o in node.outputs]
        # the gradient's nodes name the layer of the node they differentiate
        label = provenance.of(node)
        with provenance.origin(f"{label}/grad" if label else None):
            input_grads = node.op.vjp(list(node.inputs), list(node.outputs), output_grads)
        if len(input_grads) != len(node.inputs):
            raise GradientError(f"{node.op} returned {len(input_grads)} gradients for {len(node.inputs)} inputs.")
        for inp, g in zip(node.inputs, input_grads):
            if g is None or inp not in on_path or not dtypes.is_differentiable(inp.dtype):
                continue
            _check_grad(node.op, inp, g)
            if g.dtype != inp.dtype:
                g = cast(g, inp.dtype)
            pending.setdefault(inp, []).append(g)

    results = []
    for w in wrt_list:
        if w in pending:
            results.append(_accumulate(pending[w]))
        elif disconnected == "raise":
            raise DisconnectedGradientError(
                f"The cost does not depend on {w!r}; pass disconnected='zero' to get zeros."
            )
        else:
            results.append(zeros_like(w, dtypes.float_of(w.dtype)))
    return results[0] if single else results


def _check_grad(op, inp: Tensor, g: Tensor) -> None:
    if g.ndim != inp.ndim or any(a is not None and b is not None and a != b for a, b in zip(g.shape, inp.shape)):
        raise GradientError(f"{op} gave a gradient of shape {shapes.fmt(g.shape)} for an input of "
                            f"shape {shapes.fmt(inp.shape)}.")
