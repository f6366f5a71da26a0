"""``K.rnn``: Keras 2's iteration over time, as one Loop node (or, unrolled, the step built once per time step)."""

from __future__ import annotations

import numpy as np

from symkeras.graph import ops, shapes
from symkeras.graph.basic import Tensor, as_tensor, constant, placeholder
from symkeras.graph.ops.loop_hoist import hoist_sequence_work
from symkeras.graph.rewrite.dims import link_sizes


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None, zero_output_for_mask=False):
    """Iterate ``step_function`` over the time axis of ``inputs`` (Keras 2's contract).

    Args:
        step_function: ``(input_t, states) -> (output_t, new_states)``: ``input_t`` is one time step of the
            inputs, ``(samples, ...)``; ``states`` the current states followed by ``constants``;
            ``new_states`` one tensor per state, of the same shape.
        inputs: a tensor ``(samples, time, ...)``, at least 3-D.
        initial_states: the states before the first step, each ``(samples, ...)``.
        go_backwards: iterate from the last time step to the first; the outputs come in that order.
        mask: ``(samples, time)`` (or ``(samples, time, 1)``), zero at masked steps: a masked step keeps
            the states it was given and outputs the output of the step before (zeros before the first).
        constants: tensors passed to every step after the states.
        unroll: build the step once per time step (the number of steps must be static) instead of a loop.
        input_length: accepted for compatibility with Keras 2; not needed.
        zero_output_for_mask: a masked step outputs zeros instead of the previous output (as tf-keras's
            Bidirectional asks of its layers when they return sequences).

    Returns:
        ``(last_output, outputs, new_states)``: the last step's output ``(samples, ...)``, every step's
        output ``(samples, time, ...)``, and the states after the last step.

    Raises:
        ValueError: inputs of rank below 3, a mask without states or of the wrong shape, ``unroll`` with
            a time axis of unknown size, a step returning the wrong number of states.
    """
    del input_length
    inputs = as_tensor(inputs)
    if inputs.ndim < 3:
        raise ValueError(f"K.rnn: inputs should be at least 3-D (samples, time, ...); got shape "
                         f"{shapes.fmt(inputs.shape)}.")
    initial_states = [as_tensor(s) for s in (initial_states or [])]
    constants = list(constants or [])
    if mask is not None:
        mask = _bool_mask(as_tensor(mask), inputs)
        if not initial_states:
            raise ValueError("K.rnn: a mask needs at least one state (a masked step keeps the states).")
    if unroll:
        return _unrolled(step_function, inputs, initial_states, go_backwards, mask, constants, zero_output_for_mask)
    return _looped(step_function, inputs, initial_states, go_backwards, mask, constants, zero_output_for_mask)


def _bool_mask(mask: Tensor, inputs: Tensor) -> Tensor:
    if mask.ndim == 3 and mask.shape[2] in (1, None):
        mask = ops.squeeze(mask, 2)
    if mask.ndim != 2 or not shapes.compatible(mask.shape, inputs.shape[:2]):
        raise ValueError(f"K.rnn: the mask should be (samples, time) = {shapes.fmt(inputs.shape[:2])}; got "
                         f"{shapes.fmt(mask.shape)}.")
    return mask if mask.dtype == "bool" else ops.not_equal(mask, constant(0, dtype=mask.dtype))


def _checked_states(new_states, initial_states) -> list[Tensor]:
    new_states = [as_tensor(s) for s in (new_states if isinstance(new_states, list | tuple) else [new_states])]
    if len(new_states) != len(initial_states):
        raise ValueError(f"K.rnn: the step function returned {len(new_states)} states for "
                         f"{len(initial_states)} initial states.")
    return new_states


def _per_sample(mask_t: Tensor, like: Tensor) -> Tensor:
    """The (samples,) mask of one step, shaped to broadcast against ``like`` (samples, ...)."""
    return ops.reshape(mask_t, (-1,) + (1,) * (like.ndim - 1)) if like.ndim > 1 else mask_t


def _masked(mask_t, value, previous) -> Tensor:
    return ops.where(_per_sample(mask_t, value), value, previous)


def zeros_per_sample(inputs: Tensor, shape, dtype) -> Tensor:
    """Zeros of shape (samples, *shape), the samples being those of ``inputs`` (samples, time, ...): a state
    before the first step.  Only one column of the inputs is read (for its size)."""
    column = inputs[(slice(None), 0) + (0,) * (inputs.ndim - 3) + (slice(0, 1),)]  # (samples, 1)
    samples = ops.zeros_like(column, dtype)
    if not shape:
        return ops.reshape(samples, (-1,))
    rest = constant(np.zeros((1, *shape), dtype=dtype), dtype=dtype)
    return (ops.reshape(samples, (-1,) + (1,) * len(shape)) if len(shape) > 1 else samples) + rest


def _zero_output_like(output: Tensor, inputs: Tensor, initial_states: list[Tensor]) -> Tensor:
    """Zeros of the step output's shape, the output before the first step (its samples from the inputs)."""
    for state in initial_states:
        if state.dtype == output.dtype and shapes.compatible(state.shape, output.shape) \
                and None not in state.shape[1:]:
            return ops.zeros_like(state)
    if None in output.shape[1:]:
        raise ValueError(f"K.rnn with a mask needs the step's output shape beyond the samples; got "
                         f"{shapes.fmt(output.shape)}.")
    return zeros_per_sample(inputs, output.shape[1:], output.dtype)


def _saved_per_step(slices, states, outputs) -> list[Tensor]:
    """The step's values that read a state and cost more than a few instructions to recompute: its products
    (``h_{t-1} U``) and its transcendental activations (the gates' sigmoids and tanhs).  Made per-step
    outputs, so that the gradient's reverse loop reads them instead of computing them again (loop_grad.py
    reads the latest it needs: with the gates saved, the products are not read back at all)."""
    from symkeras.graph.fgraph import topological_tensors
    from symkeras.graph.ops.linalg import Einsum

    inner = set(slices) | set(states)
    stateful, found = set(states), []
    for t in topological_tensors(outputs, stop=inner):
        if t.owner is None or t in inner or not any(i in stateful for i in t.owner.inputs):
            continue
        stateful.add(t)
        costly = isinstance(t.owner.op, Einsum) or (t.owner.op.elementwise and not t.owner.op.cheap
                                                    and t.ndim > 0)
        if costly and len(t.owner.outputs) == 1 and not any(t is o for o in outputs):
            found.append(t)
    return found


def _same_samples(t: Tensor, x_t: Tensor) -> Tensor:
    """Tag the placeholder ``t`` as having as many samples (first axis) as the input slice ``x_t``."""
    if t.ndim and t.shape[0] is None and x_t.shape[0] is None:
        link_sizes(t, x_t, axes=[0])
    return t


def _looped(step_function, inputs, initial_states, go_backwards, mask, constants, zero_output=False):
    time_major = (1, 0, *range(2, inputs.ndim))
    sequence = ops.transpose(inputs, time_major)
    x_t = placeholder(sequence.shape[1:], dtype=sequence.dtype, name="input_t")
    link_sizes(x_t, sequence, offset=1)
    # the slices and the states hold one batch of samples: their first axes have one size (dims.py)
    state_ts = [_same_samples(placeholder(s.shape, dtype=s.dtype, name=f"state{j}_t"), x_t)
                for j, s in enumerate(initial_states)]
    output, new_states = step_function(x_t, list(state_ts) + constants)
    output = as_tensor(output)
    new_states = _checked_states(new_states, initial_states)
    sequences, slices = [sequence], [x_t]
    states, state_inputs, step_outputs = list(initial_states), list(state_ts), list(new_states)
    if mask is not None:
        mask_t = _same_samples(placeholder((inputs.shape[0],), dtype="bool", name="mask_t"), x_t)
        sequences.append(ops.transpose(mask, (1, 0)))
        slices.append(mask_t)
        step_outputs = [_masked(mask_t, new, old) for new, old in zip(new_states, state_ts)]
        if zero_output:
            step_outputs.append(_masked(mask_t, output, ops.zeros_like(output)))
        else:
            previous = _same_samples(placeholder(output.shape, dtype=output.dtype, name="previous_output"), x_t)
            step_outputs.append(_masked(mask_t, output, previous))
            states.append(_zero_output_like(output, inputs, initial_states))
            state_inputs.append(previous)
        # with the previous output a state, its stacked values are the outputs
        output_at = len(step_outputs) - 1
    elif any(output is s for s in new_states):
        output_at = next(j for j, s in enumerate(new_states) if output is s)
    else:
        step_outputs.append(output)
        output_at = len(step_outputs) - 1
    slices, sequences, step_outputs = hoist_sequence_work(slices, sequences, state_inputs, step_outputs)
    step_outputs += _saved_per_step(slices, state_inputs, step_outputs)
    step, captured = ops.capture_step(slices + state_inputs, step_outputs)
    loop = ops.Loop(step, len(slices), len(states), backwards=go_backwards)
    results = loop.make_node(*sequences, *states, *captured).outputs
    last = 0 if go_backwards else -1
    outputs_tm = results[output_at]
    final_states = [results[j][last] for j in range(len(initial_states))]
    last_output = outputs_tm[last]
    if go_backwards:  # Keras gives the outputs in the order the steps ran
        outputs_tm = outputs_tm[::-1]
    return last_output, ops.transpose(outputs_tm, time_major), final_states


def _unrolled(step_function, inputs, initial_states, go_backwards, mask, constants, zero_output=False):
    steps = inputs.shape[1]
    if steps is None:
        raise ValueError("K.rnn: unrolling requires a fixed number of time steps; the inputs have shape "
                         f"{shapes.fmt(inputs.shape)}.")
    states, outputs, previous = list(initial_states), [], None
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        output, new_states = step_function(inputs[:, t], list(states) + constants)
        output = as_tensor(output)
        new_states = _checked_states(new_states, initial_states)
        if mask is not None:
            mask_t = mask[:, t]
            if previous is None:
                previous = _zero_output_like(output, inputs, initial_states)
            output = _masked(mask_t, output, ops.zeros_like(output) if zero_output else previous)
            new_states = [_masked(mask_t, new, old) for new, old in zip(new_states, states)]
            previous = output
        outputs.append(output)
        states = new_states
    return outputs[-1], ops.stack(outputs, axis=1), states
