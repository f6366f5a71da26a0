"""NumbaProgram: generate the module of an optimized graph, compile its kernels and step, run it."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import threading
import time

import numpy as np

import symkeras
from symkeras.codegen import cache
from symkeras.codegen.backend import Program, Residency
from symkeras.codegen.numba import native
from symkeras.codegen.numba.blas_pools import numpy_blas_serial
from symkeras.codegen.numba.layout import Layout
from symkeras.codegen.numba.precompile import compile_kernels, own_share, start_background
from symkeras.graph.basic import Tensor, constant
from symkeras.graph.fgraph import Graph
from symkeras.runtime.storage import HOST

#: the folder symkeras is imported from: a helper process imports generated modules that import symkeras
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(symkeras.__file__)))


def background_compile() -> bool:
    """Whether a function's first calls run on the reference evaluator while helper processes compile its
    kernels and step (``SYMKERAS_BACKGROUND_COMPILE``, default 1; 0: the first call waits for the compile)."""
    return os.environ.get("SYMKERAS_BACKGROUND_COMPILE", "1") != "0"


def random_rows(seeds) -> np.ndarray:
    """The ``calls`` array of a step: per random node (its seed given), its draw counter (0) and seed (as
    64 bits)."""
    rows = np.zeros((max(len(seeds), 1), 2), dtype=np.int64)
    for i, seed in enumerate(seeds):
        rows[i, 1] = np.array(seed % 2**64, dtype=np.uint64).view(np.int64)
    return rows


def _seeds(layout) -> list[int]:
    return [node.op.seed for node in layout.random_nodes]


def _tuples(value):
    """JSON's lists back as the tuples the layout holds (its lists of signatures stay lists)."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _encoded(array: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, np.array(array, order="C"), allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _decoded(text: str) -> np.ndarray:
    array = np.load(io.BytesIO(base64.b64decode(text)), allow_pickle=False)
    array.flags.writeable = False
    return array


def _work_jobs(layout, modules) -> list[dict]:
    """The compile jobs of the bodies' ``work`` functions (called through their addresses, compiled on
    their own: each the longest job of its convolution)."""
    return [{"name": modules[k].__name__, "path": modules[k].__file__, "function": function,
             "signatures": [list(arg_types)], "sys_path": [PACKAGE_ROOT]}
            for k, arg_types, _, function in layout.functions if function != "kernel"]


class NumbaProgram(Program):
    """Runs ``outputs`` and ``updates`` of a function as one compiled step.

    Attributes:
        graph: the optimized graph it was generated from.
        source: the generated module's text; ``path`` its file in the cache.
        stats: ``compile_seconds`` (compile starts at the first call: new kernels and the step on every
            core; from then until the compiled step is loaded), ``kernels`` (kernel modules), ``compile``
            (what the parallel compile did), ``reference_calls`` (calls the reference evaluator ran while
            the compile went on in the background).
    """

    def __init__(self, backend, graph: Graph, inputs: list[Tensor], outputs: list[Tensor],
                 updates: list[tuple[Tensor, Tensor]], name: str = "function", nan_guard: bool = False,
                 profile: bool = False):
        super().__init__()
        self.backend = backend
        self.graph = graph
        self.name = name
        self.inputs = list(inputs)
        self._generate_args = (graph, list(inputs), list(outputs), list(updates), name)
        self._generate_options = {"nan_guard": nan_guard, "profile": profile}
        self._optimized = None
        from symkeras.codegen.numba.linker import generate

        started = time.perf_counter()
        source, layout = generate(*self._generate_args, **self._generate_options)
        #: profile: each node's cycles over the calls so far, and the steps' wall time
        self.node_cycles = np.zeros(len(graph.nodes), np.int64) if profile else None
        self._set_up(source, layout, _seeds(layout), started)

    @classmethod
    def restore(cls, backend, payload: dict, canonical, graph: Graph, inputs: list[Tensor], name: str,
                optimized) -> NumbaProgram:
        """The program ``describe`` kept (``payload``), bound to the leaves and seeds of ``graph`` (the
        function's graph before rewrites, of key ``canonical.key``); see Backend.restore.

        Raises:
            KeyError, IndexError, TypeError, ValueError: a payload that does not fit the graph.
        """
        started = time.perf_counter()
        self = cls.__new__(cls)
        Program.__init__(self)
        self.backend, self.graph, self.name, self.inputs = backend, graph, name, list(inputs)
        self._generate_args, self._generate_options, self._optimized = None, {}, optimized
        leaves = canonical.leaves
        layout = Layout(variables=[leaves[i] for i in payload["variables"]],
                        data=[leaves[ref] if isinstance(ref, int) else constant(_decoded(ref))
                              for ref in payload["data"]],
                        kernel_sources=list(payload["kernel_sources"]),
                        kernel_signatures=[list(_tuples(s)) for s in payload["kernel_signatures"]],
                        functions=[_tuples(f) for f in payload["functions"]])
        if any(t.kind == "variable" for t in layout.data) or any(t.kind != "variable" for t in layout.variables):
            raise ValueError("the payload's leaves are not of the kinds it names")
        self.node_cycles = None
        self._set_up(payload["source"], layout, [canonical.seeds[r] for r in payload["seeds"]], started)
        self._own_source = None  # the comments of the graph it was made for: generated again when asked for
        self.stats["restored"] = True
        return self

    def describe(self, canonical) -> dict | None:
        """The payload ``restore`` takes (JSON data), its leaves and seeds by their place in ``canonical``;
        None when the program refers to something the canonical form does not name."""
        positions, ranks = canonical.leaf_positions(), canonical.seed_ranks()
        try:
            data = [positions[t] if t in positions else _encoded(t.value) if t.kind == "constant" else None
                    for t in self.layout.data]
            payload = {"source": self._source, "variables": [positions[t] for t in self.layout.variables],
                       "data": data, "seeds": [ranks[s] for s in _seeds(self.layout)],
                       "kernel_sources": self.layout.kernel_sources,
                       "kernel_signatures": self.layout.kernel_signatures, "functions": self.layout.functions}
        except KeyError:
            return None
        return None if None in data else payload

    @property
    def source(self) -> str:
        """The generated step module's text (a restored program's is generated again on first use, for
        the comments naming its own layers)."""
        if self._own_source is None:
            from symkeras.codegen.numba.linker import generate

            self._own_source = generate(*self.generate_args(), **self._generate_options)[0]
        return self._own_source

    def generate_args(self) -> tuple:
        """(optimized graph, inputs, outputs, updates, name): what the step was generated from (the
        kernels' emitters loaded, which a restored program did not need)."""
        self.backend.load_kernels()
        if self._generate_args is None:
            self._generate_args = tuple(self._optimized())
        return self._generate_args

    def _set_up(self, source: str, layout: Layout, seeds: list[int], started: float) -> None:
        self._source = self._own_source = source
        self.layout = layout
        # the kernel and step modules are imported when first needed (importing them imports Numba, which
        # a program restored from its bundle runs without)
        self._kernel_modules = self._module = self._path = None
        #: the step loaded from the program's bundle (native.py), while it runs the calls
        self._native: native.NativeStep | None = None
        self._native_tried = False
        #: the variables' arrays the bundle's step was last found to take (see _step)
        self._native_checked = None
        #: the program cache's key of the program, where it is kept there (its bundle is named by it)
        self.program_key: str | None = None
        self.data = [t.default if t.kind == "placeholder" else t.value for t in self.layout.data]
        self.calls = random_rows(seeds)
        self.residency = Residency(self.backend.storage, self.layout.variables)
        self._variable_arrays: list[np.ndarray] = []
        self.fns = None  # the kernels' addresses, known once they are compiled (first call)
        #: helpers compiling the kernels and step while ``_interim`` (the reference evaluator) runs the calls
        self._background, self._interim, self._compile_start = None, None, None
        #: the share of the wall time the reference calls may take, and when the next one may start
        self._share, self._rest_until = 1.0, 0.0
        #: False once a call found an op the reference evaluator cannot run
        self._reference_runs = True
        self._first_calls_lock = threading.Lock()
        self.stats = {"compile_seconds": None, "kernels": len(self.layout.kernel_sources), "compile": None,
                      "generate_seconds": time.perf_counter() - started}
        self.step_seconds = 0.0
        #: its kernels' parallel loops run on Numba's workqueue, which one thread at a time may use
        self._exclusive = PARALLEL_LOCK if any(PARALLEL_MARK in s for s in self.layout.kernel_sources) else None
        self._plain = self._exclusive is None and self.node_cycles is None

    @property
    def kernel_modules(self) -> list:
        """The kernel modules, written (if new) and imported."""
        if self._kernel_modules is None:
            from symkeras.codegen.numba.linker import load_kernels

            self._kernel_modules = load_kernels(self.layout)
        return self._kernel_modules

    @kernel_modules.setter
    def kernel_modules(self, modules: list) -> None:
        self._kernel_modules = modules

    @property
    def kernel_jobs(self) -> list[dict]:
        """The kernels' compile jobs for precompile."""
        return _work_jobs(self.layout, self.kernel_modules) + [
            {"name": m.__name__, "path": m.__file__, "signatures": signatures, "sys_path": [PACKAGE_ROOT]}
            for m, signatures in zip(self.kernel_modules, self.layout.kernel_signatures)]

    @property
    def module(self):
        """The generated step module, written (if new) and imported (after the kernel modules, which it may
        import by name)."""
        if self._module is None:
            self.kernel_modules  # noqa: B018
            self._module, self._path = cache.load_module(self._source)
        return self._module

    @property
    def path(self) -> str:
        """The step module's file in the cache."""
        self.module  # noqa: B018  (writes and imports it)
        return self._path

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        arrays = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
        if self.residency.ensure():
            self._variable_arrays = [HOST.array(v) for v in self.layout.variables]
        if self.fns is None:
            return self._first_compiled_run(arrays)
        return list(self._step(arrays))

    def _first_compiled_run(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """A call before the step is compiled: while helper processes compile it in the background, the
        reference evaluator runs the same optimized graph (see ``background_compile``); once they are done
        (or without them), the kernels and step are loaded and the compiled step runs."""
        with self._first_calls_lock:  # (threads calling at once start one compile and load it once)
            interim = None if self.fns is not None else self._interim_or_load(arrays)
        if interim is None:
            return list(self._step(arrays))
        start, draws = time.perf_counter(), dict(interim.evaluator.calls)
        try:
            with numpy_blas_serial():  # (BLAS's threads would take cores from the helpers, and spin after)
                results = interim.run(arrays)
        except NotImplementedError:  # an op with a kernel but no reference perform (one of the user's)
            interim.evaluator.calls = draws  # (no update was applied: the compiled step runs this call)
            self._reference_runs = False
            return self._first_compiled_run(arrays)
        self.stats["reference_calls"] = self.stats.get("reference_calls", 0) + 1
        seconds = time.perf_counter() - start
        self._rest_until = time.perf_counter() + seconds * (1.0 - self._share) / self._share
        return results

    def _interim_or_load(self, arrays):
        """The reference program to run this call on while the background compile goes on; else (it is
        done, or there is none) None, the kernels and step loaded (compiled first when there is none)."""
        if self._compile_start is None:
            self._compile_start = time.perf_counter()
            if self.stats.get("restored") and self._load_native(arrays):
                return None
            if not self.stats.get("restored") and background_compile() and not any(self._generate_options.values()):
                self._background = start_background(self._step_job(arrays) + self.kernel_jobs)
                if self._background is not None:
                    from symkeras.codegen.backend import get_backend
                    from symkeras.codegen.reference import ReferenceProgram

                    self._interim = ReferenceProgram(get_backend("reference"), *self._generate_args)
                    self._share = own_share(len(self._background.procs))
                    self.stats["compile"] = {"pending": self._background.count, "here": 0,
                                             "helpers": len(self._background.procs), "background": True}
        if self._background is not None:
            if not self._reference_runs:  # (the graph cannot run on the reference: wait for the compile)
                self._background.work(until=float("inf"))
                self._background.finish()
            if self._share < 1.0:  # (no core to spare: this process compiles for a while between calls)
                self._background.work(until=self._rest_until)
                self.stats["compile"]["here"] = self._background.here
            if not self._background.done():
                return self._interim
            self._take_over_from_reference()
        else:
            self.stats["compile"] = compile_kernels(self._step_job(arrays) + self.kernel_jobs)
        from symkeras.codegen.numba.linker import kernel_addresses

        loading = time.perf_counter()
        fns = kernel_addresses(self.layout, self.kernel_modules)
        self._load_step(arrays, fns)
        self.fns = fns
        done = time.perf_counter()
        # the compile's two parts: LLVM (the uncached modules' compile, here or by helpers: up to the load)
        # and loading the cached machine code of every module and the step
        self.stats["load_seconds"] = done - loading
        self.stats["compile_seconds"] = done - self._compile_start
        self._write_bundle(arrays)
        return None

    def _bundle_path(self, arrays) -> str | None:
        """The file of this program's bundle for the step's argument types on this host (None: the program
        is not kept in the program cache, or an argument is not an array)."""
        if self.program_key is None or self.node_cycles is not None:
            return None
        arguments = self._arguments(arrays, np.zeros(1, np.int64))
        if not all(isinstance(a, np.ndarray) for a in arguments):
            return None
        kinds = "|".join(f"{a.dtype.name},{a.ndim},{int(a.flags.writeable)}" for a in arguments)
        digest = hashlib.sha1(kinds.encode()).hexdigest()[:12]
        name = f"symkeras_native_{self.program_key}_{digest}_{native.machine_tag()}.bin"
        return os.path.join(cache.cache_dir(), name)

    def _load_native(self, arrays) -> bool:
        """Load the step from its bundle (native.py) when there is one for these arguments' types; whether
        it was (else the kernels and step are loaded through Numba, which writes the bundle)."""
        path = self._bundle_path(arrays)
        if path is None or os.environ.get("SYMKERAS_NATIVE_LOAD", "1") == "0":
            return False
        loading = time.perf_counter()
        self._native_tried = True
        step = native.load(path, _signature(self._arguments(arrays, np.zeros(1, np.int64))))
        if step is None:
            return False
        cache.mark_used(path)  # (the cache's bound removes the least recently used first)
        self._native, self.fns = step, step.fns
        done = time.perf_counter()
        self.stats["load_seconds"] = done - loading
        self.stats["compile_seconds"] = done - self._compile_start
        self.stats["native"] = True
        self.stats["compile"] = {"pending": 0, "here": 0, "helpers": 0}  # (nothing to compile: as from the cache)
        return True

    def _leave_native(self, arrays) -> None:
        """Arguments of other types than the bundle's step takes: from now on the kernels and step load and
        run through Numba (the draw counters, variables and data are the same arrays)."""
        from symkeras.codegen.numba.linker import kernel_addresses

        self._native = None
        fns = kernel_addresses(self.layout, self.kernel_modules)
        self._load_step(arrays, fns)
        self.fns = fns

    def _write_bundle(self, arrays) -> None:
        """Gather the step's and kernels' machine code into the program's bundle, if it has none yet."""
        path = self._bundle_path(arrays)
        if path is None or os.environ.get("SYMKERAS_NATIVE_LOAD", "1") == "0":
            return
        if os.path.exists(path) and not self._native_tried:  # (one that did not load here is written again)
            return
        from symkeras.codegen.numba import bundling

        bundling.write_bundle(path, self, self._arguments(arrays, self.fns))

    def _take_over_from_reference(self) -> None:
        """The compiled step goes on where the reference calls left off: each random node's draw counter."""
        calls = self._interim.evaluator.calls
        for row, node in enumerate(self.layout.random_nodes):
            self.calls[row, 0] = calls.get(node.uid, 0)
        if self.residency.ensure():  # (the reference calls gave the updated variables new buffers)
            self._variable_arrays = [HOST.array(v) for v in self.layout.variables]
        self._background, self._interim = None, None

    def _arguments(self, arrays, fns):
        extra = [] if self.node_cycles is None else [self.node_cycles]
        return [*arrays, *self._variable_arrays, *self.data, self.calls, fns, *extra]

    def reset_profile(self) -> None:
        if self.node_cycles is not None:
            self.node_cycles[:] = 0
        self.step_seconds = 0.0

    def node_seconds(self) -> list[float] | None:
        """Profile: the seconds each node of the compiled graph took over the calls so far (its share of
        the cycles, times the steps' wall time), or None when not profiling."""
        if self.node_cycles is None:
            return None
        total = int(self.node_cycles.sum())
        return [float(c) / total * self.step_seconds if total else 0.0 for c in self.node_cycles]

    def _step_job(self, arrays) -> list[dict]:
        """The step's compile as a job for precompile (it needs the kernels' types, not their code)."""
        arguments = self._arguments(arrays, np.zeros(len(self.layout.functions) or 1, np.int64))
        if not all(isinstance(a, np.ndarray) for a in arguments):
            return []
        signature = _signature(arguments)
        return [{"name": self.module.__name__, "path": self.path, "function": "step", "signatures": [signature],
                 "sys_path": [PACKAGE_ROOT]}]

    def _exclusively(self, step, arguments):
        """``step(*arguments)``, holding the parallel lock when its kernels have parallel loops (and timed
        when profiling: the per-call path stays two branches otherwise)."""
        if self.node_cycles is not None:
            start = time.perf_counter()
            try:
                return self._locked(step, arguments)
            finally:
                self.step_seconds += time.perf_counter() - start
        return self._locked(step, arguments)

    def _locked(self, step, arguments):
        if self._exclusive is None:
            return step(*arguments)
        with self._exclusive:
            return step(*arguments)

    def _load_step(self, arrays, fns) -> None:
        """Compile (or load from the cache) the step for these arguments, healing a damaged cache entry; a
        typing error is left to the first call, which handles it (see _step)."""
        import numba
        from numba.core.errors import NumbaError

        try:
            cache.compile_healing(self.module.step, tuple(numba.typeof(a) for a in self._arguments(arrays, fns)))
        except NumbaError:
            pass

    def _step(self, arrays):
        if self._native is not None:
            arguments = self._arguments(arrays, self.fns)
            # the program's own arrays are checked again only when the variables' arrays were replaced
            owned = self._native_checked is self._variable_arrays
            if self._native.accepts(arguments, len(arrays) if owned else None):
                self._native_checked = self._variable_arrays
                try:
                    if self._plain:
                        return self._native.function(*arguments)
                    return self._exclusively(self._native.function, arguments)
                except SystemError as error:
                    raise _delivered(error) from None
                except ValueError as error:
                    raise self._located(error, arrays) from error
            self._leave_native(arrays)
        try:
            if self._plain:  # the per-call path: no lock to take, no time to measure
                return self.module.step(*self._arguments(arrays, self.fns))
            return self._exclusively(self.module.step, self._arguments(arrays, self.fns))
        except SystemError as error:
            raise _delivered(error) from None
        except ValueError as error:
            raise self._located(error, arrays) from error
        except Exception as error:
            from numba.core.errors import TypingError

            from symkeras.codegen.numba.calls import MISMATCH

            if not isinstance(error, TypingError) or MISMATCH not in str(error) \
                    or os.environ.get("SYMKERAS_STRICT_KERNEL_TYPES"):
                raise
        from symkeras.codegen.numba.linker import generate, kernel_addresses, load_kernels

        # an argument of a type the linker did not foresee (a read-only input array, say): call every
        # kernel through its dispatcher, which compiles the variants it needs
        source, self.layout = generate(*self.generate_args(), address_calls=False, **self._generate_options)
        self._source = self._own_source = source
        self.kernel_modules = load_kernels(self.layout)
        self._module, self._path = cache.load_module(source)
        self.fns = kernel_addresses(self.layout, self.kernel_modules)
        return self._exclusively(self.module.step, self._arguments(arrays, self.fns))

    def _located(self, error: ValueError, arrays) -> ValueError:
        """A kernel's shape error, with the node (and layer) that raised it found by the reference evaluator.

        Kernels are shared between graphs, so their messages cannot name a layer; on this rare path the
        reference runs the same graph to find the node (no update is applied).
        """
        from symkeras.codegen.reference import Evaluator

        try:
            Evaluator(self.graph).run(dict(zip(self.inputs, arrays)))
        except ValueError as located:
            return located
        return error

    def trace(self, graph: Graph, arrays: list[np.ndarray]) -> dict:
        """Every tensor's compiled value of ``graph`` (a separate module returning all of them).

        No update is applied and the random counters of this program are not advanced.
        """
        arrays = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
        from symkeras.codegen.numba.linker import generate, kernel_addresses, load_kernels

        self.residency.ensure()
        inputs = set(graph.inputs)
        tensors = [t for t in graph.tensors if t.owner is not None and t not in inputs]
        self.backend.load_kernels()
        source, layout = generate(graph, list(graph.inputs), tensors, [], self.name + "_trace")
        fns = kernel_addresses(layout, load_kernels(layout))
        module, _ = cache.load_module(source, prefix="symkeras_trace")
        data = [t.default if t.kind == "placeholder" else t.value for t in layout.data]
        variables = [HOST.array(v) for v in layout.variables]
        results = self._exclusively(module.step, [*arrays, *variables, *data, random_rows(_seeds(layout)), fns])
        values = dict(zip(graph.inputs, arrays))
        values.update(zip(layout.data, data))
        values.update(zip(layout.variables, variables))
        values.update(zip(tensors, results))
        return values


def _signature(arguments) -> list[tuple]:
    """Per argument array of a step, (dtype, ndim, layout, read-only) as Numba types it (a C-contiguous
    array is "C", and the step module copies the others before the call)."""
    return [(a.dtype.name, a.ndim, "C" if a.flags.c_contiguous else "F" if a.flags.f_contiguous else "A",
             not a.flags.writeable) for a in arguments]


#: steps with parallel kernels run one at a time in a process: Numba's workqueue threading layer aborts the
#: process when two threads launch parallel loops at once (predict from several threads did)
PARALLEL_LOCK = threading.Lock()
#: how a parallel kernel's decorator reads (linker.PRANGE_ONLY)
PARALLEL_MARK = "'prange': True"

#: CPython's message when a C function returns a result while an exception is pending
_RESULT_WITH_EXCEPTION = "returned a result with an exception set"


def _delivered(error: SystemError) -> BaseException:
    """The exception a signal handler raised while the step ran (Ctrl-C's KeyboardInterrupt), else ``error``.

    Numba boxes the step's results with a Python call (``_numba_unpickle``), where a pending signal's
    handler runs; the step has finished by then, its updates all applied, but CPython reports the handler's
    exception as a SystemError.  The step's results are dropped: the batch counts as completed, and its
    caller sees the exception the user asked for.
    """
    cause = error.__cause__
    if _RESULT_WITH_EXCEPTION in str(error) and isinstance(cause, BaseException):
        return cause.with_traceback(None)
    return error

