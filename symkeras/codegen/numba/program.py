"""NumbaProgram: optimize a function's graph, generate its module, run its step."""

from __future__ import annotations

import time

import numpy as np

from symkeras.codegen import cache
from symkeras.codegen.numba.linker import generate
from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.rewrite import optimize


class NumbaProgram:
    """Runs ``outputs`` and ``updates`` of a function as one compiled step.

    Attributes:
        optimized: the rewrite result (graph, records of what fired).
        source: the generated module's text; ``path`` its file in the cache.
        rewrite_seconds / compile_seconds: where the build time went
            (compile happens on the first call).
    """

    def __init__(self, inputs: list[Tensor], outputs: list[Tensor], updates: list[tuple[Tensor, Tensor]],
                 name: str = "function", mode: str = "fast_run", exclude=(), keep_snapshots: bool = False):
        start = time.perf_counter()
        graph = Graph(inputs, list(outputs) + [new for _, new in updates])
        self.unoptimized = graph
        self.optimized = optimize(graph, mode=mode, exclude=exclude, keep_snapshots=keep_snapshots)
        new_outputs = self.optimized.graph.outputs
        n = len(outputs)
        opt_updates = [(var, new) for (var, _), new in zip(updates, new_outputs[n:])]
        self.rewrite_seconds = time.perf_counter() - start
        self.source, self.layout = generate(self.optimized.graph, list(inputs), new_outputs[:n], opt_updates, name)
        self.module, self.path = cache.load_module(self.source)
        self.data = [t.default if t.kind == "placeholder" else t.value for t in self.layout.data]
        self.calls = np.zeros(max(len(self.layout.random_nodes), 1), dtype=np.int64)
        self.compile_seconds = None

    def __call__(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        args = [*arrays, *(v._value for v in self.layout.variables), *self.data, self.calls]
        if self.compile_seconds is None:
            start = time.perf_counter()
            results = self.module.step(*args)
            self.compile_seconds = time.perf_counter() - start
        else:
            results = self.module.step(*args)
        return list(results)
