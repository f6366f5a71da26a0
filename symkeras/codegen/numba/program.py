"""NumbaProgram: optimize a function's graph, generate its module, run its step."""

from __future__ import annotations

import os
import time

import numba
import numpy as np
from numba.core.errors import TypingError

import symkeras
from symkeras.codegen import cache
from symkeras.codegen.dump import dump_dir, write_dump
from symkeras.codegen.numba.calls import MISMATCH
from symkeras.codegen.numba.linker import generate, kernel_addresses, load_kernels
from symkeras.codegen.numba.precompile import compile_kernels
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import optimize

#: the folder symkeras is imported from: a helper process imports generated modules that import symkeras
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(symkeras.__file__)))


def random_rows(nodes) -> np.ndarray:
    """The ``calls`` array of a step: per random node, its draw counter (0) and seed (as 64 bits)."""
    rows = np.zeros((max(len(nodes), 1), 2), dtype=np.int64)
    for i, node in enumerate(nodes):
        rows[i, 1] = np.array(node.op.seed % 2**64, dtype=np.uint64).view(np.int64)
    return rows


def trace_values(program: NumbaProgram, graph: Graph, arrays: list[np.ndarray]) -> dict:
    """Every tensor's compiled value of ``graph`` (a separate module returning all of them).

    No update is applied and the random counters of ``program`` are not advanced.
    """
    tensors = [t for t in graph.tensors if t.owner is not None and t not in set(graph.inputs)]
    source, layout = generate(graph, list(graph.inputs), tensors, [], program.name + "_trace")
    fns = kernel_addresses(layout, load_kernels(layout))
    module, _ = cache.load_module(source, prefix="symkeras_trace")
    data = [t.default if t.kind == "placeholder" else t.value for t in layout.data]
    calls = random_rows(layout.random_nodes)
    results = module.step(*arrays, *(v._value for v in layout.variables), *data, calls, fns)
    values = dict(zip(graph.inputs, arrays))
    values.update({t: t.value for t in layout.data if t.kind == "constant"})
    values.update({t: t.default for t in layout.data if t.kind == "placeholder"})
    values.update({v: v._value for v in layout.variables})
    values.update(zip(tensors, results))
    return values


class NumbaProgram:
    """Runs ``outputs`` and ``updates`` of a function as one compiled step.

    Attributes:
        optimized: the rewrite result (graph, records of what fired).
        source: the generated module's text; ``path`` its file in the cache.
        rewrite_seconds / compile_seconds: where the build time went
            (compile happens on the first call: new kernels on every core, then the step).
    """

    def __init__(self, inputs: list[Tensor], outputs: list[Tensor], updates: list[tuple[Tensor, Tensor]],
                 name: str = "function", mode: str = "fast_run", exclude=(), keep_snapshots: bool = False):
        start = time.perf_counter()
        self.name = name
        graph = Graph(inputs, list(outputs) + [new for _, new in updates])
        self.unoptimized = graph
        dump_to = dump_dir()
        self.optimized = optimize(graph, mode=mode, exclude=exclude, keep_snapshots=keep_snapshots or bool(dump_to))
        new_outputs = self.optimized.graph.outputs
        n = len(outputs)
        opt_updates = [(var, new) for (var, _), new in zip(updates, new_outputs[n:])]
        self.rewrite_seconds = time.perf_counter() - start
        self._generate_args = (self.optimized.graph, list(inputs), new_outputs[:n], opt_updates, name)
        self.source, self.layout = generate(*self._generate_args)
        self.kernel_modules = load_kernels(self.layout)
        self.kernel_jobs = [{"name": m.__name__, "path": m.__file__, "signatures": signatures,
                             "sys_path": [PACKAGE_ROOT]}
                            for m, signatures in zip(self.kernel_modules, self.layout.kernel_signatures)]
        self.module, self.path = cache.load_module(self.source)
        self.dump_folder = write_dump(dump_to, name, cache.source_key(self.source), self.optimized,
                                      self.source) if dump_to else None
        self.data = [t.default if t.kind == "placeholder" else t.value for t in self.layout.data]
        self.calls = random_rows(self.layout.random_nodes)
        self.fns = None  # the kernels' addresses, known once they are compiled (first call)
        self.compile_seconds = None
        #: what the parallel kernel compile did on the first call (see precompile.compile_kernels)
        self.compile_stats = None

    def __call__(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        if self.compile_seconds is None:
            start = time.perf_counter()
            self.compile_stats = compile_kernels(self._step_job(arrays) + self.kernel_jobs)
            self.fns = kernel_addresses(self.layout, self.kernel_modules)
            results = self._step(arrays)
            self.compile_seconds = time.perf_counter() - start
            return list(results)
        return list(self._step(arrays))

    def _arguments(self, arrays, fns):
        return [*arrays, *(v._value for v in self.layout.variables), *self.data, self.calls, fns]

    def _step_job(self, arrays) -> list[dict]:
        """The step's compile as a job for precompile (it needs the kernels' types, not their code)."""
        arguments = self._arguments(arrays, np.zeros(len(self.layout.functions) or 1, np.int64))
        if not all(isinstance(a, np.ndarray) for a in arguments):
            return []
        types = [numba.typeof(a) for a in arguments]
        signature = [(str(t.dtype), t.ndim, t.layout, not t.mutable) for t in types]
        return [{"name": self.module.__name__, "path": self.path, "function": "step", "signatures": [signature],
                 "sys_path": [PACKAGE_ROOT]}]

    def _step(self, arrays):
        try:
            return self.module.step(*self._arguments(arrays, self.fns))
        except TypingError as error:
            if MISMATCH not in str(error) or os.environ.get("SYMKERAS_STRICT_KERNEL_TYPES"):
                raise
        # an argument of a type the linker did not foresee (a read-only input array, say): call every
        # kernel through its dispatcher, which compiles the variants it needs
        self.source, self.layout = generate(*self._generate_args, address_calls=False)
        self.kernel_modules = load_kernels(self.layout)
        self.module, self.path = cache.load_module(self.source)
        self.fns = kernel_addresses(self.layout, self.kernel_modules)
        return self.module.step(*self._arguments(arrays, self.fns))
