"""A Function's optimized graph on the GPU: one launcher per node, run in the graph's order from Python.

Per call only the inputs go to the device and the outputs come back; the variables (weights, optimizer
state) live in the device storage, and each update's new value becomes the variable's buffer (all
updates computed from the values before the call, then written).  Each kernel launch costs ~18 us of
Python and driver time on a real GPU, so fusion (fewer nodes) decides a small model's speed;
``stats['launches']`` counts the kernels one call launches.
"""

from __future__ import annotations

import time

import numpy as np

from symkeras.codegen.backend import Program, Residency, apply_updates
from symkeras.codegen.cuda import compiler, device
from symkeras.codegen.cuda.launchers import find_launcher, is_host, on_device
from symkeras.codegen.cuda.storage import DEVICE
from symkeras.codegen.errors import nan_guard_message, node_shape_error
from symkeras.graph import provenance


class CudaProgram(Program):
    """A Function's optimized graph as CUDA kernel launches (see the module's docstring).

    Args (as Backend.compile's): the backend, the optimized graph, its inputs, outputs and updates, the
    function's name; ``profile``: time each node (synchronizing after it); ``nan_guard``: check each
    node's float results on the host and raise FloatingPointError at the first NaN or Inf.

    Raises:
        NotImplementedError: a node's op has no CUDA kernel (the message names it and its layer).
    """

    def __init__(self, backend, graph, inputs, outputs, updates, name, profile=False, nan_guard=False):
        super().__init__()
        #: NaN guard: each node's float results are copied to the host and checked (slow; for debugging)
        self.guard = name if nan_guard else None
        self.backend = backend
        self.graph = graph
        self.inputs, self.outputs, self.updates, self.name = list(inputs), list(outputs), list(updates), name
        self.calls = {node.uid: 0 for node in graph.nodes if node.op.is_random}
        self.residency = Residency(DEVICE, graph.variables + [var for var, _ in self.updates])
        started = time.perf_counter()
        self.launchers = []
        with compiler.collect() as kernels:
            for node in graph.nodes:
                try:
                    self.launchers.append(find_launcher(node.op)(node, self))
                except NotImplementedError as error:
                    raise NotImplementedError(f"{error} ({provenance.where(node)})") from None
        self.kernel_sources = list(dict.fromkeys(k.source for k in kernels))
        self._constants: dict = {}
        self._node_seconds = [0.0] * len(graph.nodes) if profile else None
        self.stats = {"nodes": len(graph.nodes), "kernels": len(self.kernel_sources),
                      "compile_seconds": time.perf_counter() - started, "simulated": device.simulated()}

    def next_call(self, node) -> int:
        """The draw number of the random ``node`` this call (counted per node, as the CPU backends do)."""
        call = self.calls[node.uid]
        self.calls[node.uid] = call + 1
        return call

    def add_kernel(self, kernel) -> None:
        """List ``kernel``, made at run time (for the sizes a call brought), among the program's."""
        if kernel.source not in self.kernel_sources:
            self.kernel_sources.append(kernel.source)
            self.stats["kernels"] = len(self.kernel_sources)

    @property
    def source(self) -> str:
        """The source of the kernels the program's nodes have launched or will launch (those made for the
        sizes of a call, such as a reduction's block kernel, once a call needed them)."""
        return "\n\n".join(self.kernel_sources)

    def _leaves(self, arrays) -> dict:
        values = dict(zip(self.inputs, arrays))
        for leaf in self.graph.leaves:
            if leaf in values:
                continue
            if leaf.kind == "variable":
                values[leaf] = DEVICE.array(leaf)
            elif leaf.kind == "constant":
                if leaf not in self._constants:
                    value = np.asarray(leaf.value)
                    # small integer constants serve the shape arithmetic on the host
                    self._constants[leaf] = value if value.dtype.kind in "iub" and value.size <= 8 else \
                        on_device(value)
                values[leaf] = self._constants[leaf]
            elif leaf.default is not None:
                values[leaf] = np.asarray(leaf.default)
        for t in self.inputs:  # fed data goes up; a fed integer scalar may serve the shape arithmetic
            if t.ndim or t.dtype.startswith("float"):
                values[t] = on_device(values[t])
        return values

    def _run_nodes(self, values: dict) -> dict:
        for index, (node, run) in enumerate(zip(self.graph.nodes, self.launchers)):
            start = time.perf_counter() if self._node_seconds is not None else 0.0
            try:
                results = run([values[i] for i in node.inputs])
            except ValueError as error:
                raise node_shape_error(node, [values[i] for i in node.inputs], error) from error
            if self._node_seconds is not None:
                device.cuda().synchronize()
                self._node_seconds[index] += time.perf_counter() - start
            if self.guard is not None:
                for k, value in enumerate(results):
                    if value.dtype.kind == "f" and not np.isfinite(_to_host(value)).all():
                        raise FloatingPointError(nan_guard_message(self.guard, node, index, len(self.graph.nodes), k))
            values.update(zip(node.outputs, results))
        return values

    def run(self, arrays):
        self.residency.ensure()
        before = compiler.launches()
        values = self._run_nodes(self._leaves(arrays))
        self.stats["launches"] = compiler.launches() - before  # kernel launches of the last call
        results = [_to_host(values[o]) for o in self.outputs]
        held = {id(DEVICE.array(var)) for var, _ in self.updates}

        def own_buffer(value, var):  # a variable's buffer is its own
            if is_host(value) or id(value) in held or not value.is_c_contiguous():
                value = _fresh_copy(value, var.dtype)
            held.add(id(value))
            return value

        apply_updates(self.name, self.updates, values, DEVICE.replace, own_buffer)
        return results

    def node_seconds(self):
        return None if self._node_seconds is None else list(self._node_seconds)

    def reset_profile(self):
        if self._node_seconds is not None:
            self._node_seconds = [0.0] * len(self._node_seconds)

    def trace(self, graph, arrays):
        if graph is not self.graph:
            raise NotImplementedError("The cuda backend traces the graph it compiled only.")
        self.residency.ensure()
        saved = dict(self.calls)
        try:
            values = self._run_nodes(self._leaves(arrays))
        finally:
            self.calls = saved
        return {t: _to_host(v) for t, v in values.items()}


def _to_host(value) -> np.ndarray:
    return np.array(value, copy=True) if is_host(value) else value.copy_to_host()


def _fresh_copy(value, dtype):
    from symkeras.codegen.cuda.launchers import _copy

    if is_host(value):
        return on_device(np.array(value, dtype=dtype))
    return _copy(value)
