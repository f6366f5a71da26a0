"""NumbaProgram: optimize a function's graph, generate its module, run its step."""

from __future__ import annotations

import time

import numpy as np

from symkeras.codegen import cache
from symkeras.codegen.dump import dump_dir, write_dump
from symkeras.codegen.numba.linker import KERNEL_PREFIX, generate
from symkeras.codegen.numba.precompile import compile_kernels
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import optimize


def trace_values(program: NumbaProgram, graph: Graph, arrays: list[np.ndarray]) -> dict:
    """Every tensor's compiled value of ``graph`` (a separate module returning all of them).

    No update is applied and the random counters of ``program`` are not advanced.
    """
    tensors = [t for t in graph.tensors if t.owner is not None and t not in set(graph.inputs)]
    source, layout = generate(graph, list(graph.inputs), tensors, [], program.name + "_trace")
    for kernel_source in layout.kernel_sources:
        cache.load_module(kernel_source, prefix=KERNEL_PREFIX)
    module, _ = cache.load_module(source, prefix="symkeras_trace")
    data = [t.default if t.kind == "placeholder" else t.value for t in layout.data]
    calls = np.zeros(max(len(layout.random_nodes), 1), dtype=np.int64)
    results = module.step(*arrays, *(v._value for v in layout.variables), *data, calls)
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
        self.source, self.layout = generate(self.optimized.graph, list(inputs), new_outputs[:n], opt_updates, name)
        self.kernel_jobs = []
        for kernel_source, signatures in zip(self.layout.kernel_sources, self.layout.kernel_signatures):
            module, path = cache.load_module(kernel_source, prefix=KERNEL_PREFIX)
            self.kernel_jobs.append({"name": module.__name__, "path": path, "signatures": signatures})
        self.module, self.path = cache.load_module(self.source)
        self.dump_folder = write_dump(dump_to, name, cache.source_key(self.source), self.optimized,
                                      self.source) if dump_to else None
        self.data = [t.default if t.kind == "placeholder" else t.value for t in self.layout.data]
        self.calls = np.zeros(max(len(self.layout.random_nodes), 1), dtype=np.int64)
        self.compile_seconds = None
        #: what the parallel kernel compile did on the first call (see precompile.compile_kernels)
        self.compile_stats = None

    def __call__(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        args = [*arrays, *(v._value for v in self.layout.variables), *self.data, self.calls]
        if self.compile_seconds is None:
            start = time.perf_counter()
            self.compile_stats = compile_kernels(self.kernel_jobs)
            results = self.module.step(*args)
            self.compile_seconds = time.perf_counter() - start
        else:
            results = self.module.step(*args)
        return list(results)
