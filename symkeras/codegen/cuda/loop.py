"""The recurrent Loop op on the GPU: its step graph's kernels launched once per time step from Python.

The step's nodes get launchers like the outer graph's (built once, with the loop); each time step reads
its slice of every sequence as a device view, the states carry from step to step as device arrays, and
the values stacked over time are copied into their place in the stacked result (allocated at the first
step, when their shape is known).  Each time step costs the step's launches: a fused step graph (one
group kernel for the gates) keeps that to a few kernels.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import provenance


def loop_launcher(node, context):
    from symkeras.codegen.cuda.arrays import copy_into_kernel
    from symkeras.codegen.cuda.compiler import launch
    from symkeras.codegen.cuda.launchers import empty, find_launcher, on_device

    op = node.op
    step = op.step
    x_in, s_in, w_in = op.split(step.inputs)
    inner = []
    for inner_node in step.nodes:
        try:
            inner.append(find_launcher(inner_node.op)(inner_node, context))
        except NotImplementedError as error:
            raise NotImplementedError(f"{error} (in the step of {provenance.where(node)})") from None
    constants = {leaf: on_device(np.asarray(leaf.value)) for leaf in step.leaves if leaf not in set(step.inputs)}
    copies: dict[tuple, object] = {}

    def store(stacked, t: int, value) -> None:
        key = (value.ndim, value.dtype.name)
        if key not in copies:
            copies[key] = copy_into_kernel(max(value.ndim, 1), value.dtype.name)
        target = stacked[t]
        if value.ndim == 0:
            target, value = stacked[t:t + 1], value.reshape(1)
        launch(copies[key], value.size, target, value)

    def run(args):
        seqs, inits, nonseqs = op.split([on_device(a) for a in args])
        steps = seqs[0].shape[0]
        if any(s.shape[0] != steps for s in seqs):
            raise ValueError(f"{op}: its sequences differ in their number of time steps")
        if steps == 0:
            raise ValueError(f"{op}: the sequences have no time steps")
        states = list(inits)
        stacked: dict[int, object] = {}
        order = range(steps - 1, -1, -1) if op.backwards else range(steps)
        for t in order:
            values = dict(constants)
            values.update(zip(x_in, (s[t] for s in seqs)))
            values.update(zip(s_in, states))
            values.update(zip(w_in, nonseqs))
            for inner_node, step_launcher in zip(step.nodes, inner):
                values.update(zip(inner_node.outputs, step_launcher([values[i] for i in inner_node.inputs])))
            results = [on_device(values[o]) for o in step.outputs]
            for k, value in enumerate(results):
                if k >= op.n_states or op.keep[k] == "all":
                    if k not in stacked:
                        stacked[k] = empty((steps,) + tuple(value.shape), node.outputs[k].dtype)
                    store(stacked[k], t, value)
            states = results[:op.n_states]
        outputs = [stacked[j] if op.keep[j] == "all" else states[j] for j in range(op.n_states)]
        return outputs + [stacked[k] for k in range(op.n_states, len(step.outputs))]
    return run
