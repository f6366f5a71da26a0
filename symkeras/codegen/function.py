"""Function: a compiled callable over a graph, with Keras 2's K.function contract."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import numpy as np

from symkeras import config
from symkeras.codegen import cache, program_cache
from symkeras.codegen.backend import get_backend
from symkeras.codegen.dump import dump_dir, write_dump
from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Tensor, as_tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.elemwise import cast
from symkeras.graph.rewrite import optimize


def _label(t: Tensor, position: int) -> str:
    return t.name or f"#{position}"


def normalize_updates(updates) -> list[tuple[Tensor, Tensor]]:
    """Updates as (variable, new value) pairs; checks kinds, shapes and casts dtypes."""
    pairs = []
    for item in updates or ():
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            raise TypeError(f"An update must be a (variable, new_value) pair; got {item!r}.")
        var, new = item
        if not isinstance(var, Tensor) or var.kind != "variable":
            raise TypeError(f"Only variables can be updated; got {var!r}.")
        new = as_tensor(new)
        if new.ndim != var.ndim or any(n is not None and n != v for n, v in zip(new.shape, var.shape)):
            raise ValueError(f"Update of variable '{var.name}' of shape {shapes.fmt(var.shape)} has "
                             f"shape {shapes.fmt(new.shape)}.")
        if new.dtype != var.dtype:
            new = cast(new, var.dtype)
        pairs.append((var, new))
    seen = set()
    for var, _ in pairs:
        if var in seen:
            raise ValueError(f"Variable '{var.name}' is updated twice in one function.")
        seen.add(var)
    return pairs


class Function:
    """``f(inputs) -> outputs``; updates are applied to variables after each call.

    The graph is rewritten once (whatever the backend), then the backend
    compiles the optimized graph into its program.  A backend that keeps
    programs (Numba) finds the program of a graph it has seen, in this or an
    earlier process, under the graph's canonical form
    (``codegen/program_cache.py``); the rewrites then run only if the
    optimized graph is asked for.

    Args:
        inputs: placeholders (or other tensors) fed at each call, in order.
        outputs: a tensor or a list of tensors.
        updates: (variable, new_value) pairs, all computed from the values
            before the call, then assigned.
        name: shown in error messages and dumps.
        backend: a registered backend's name (``"numba"``: compiled,
            ``"reference"``: the NumPy oracle); default ``symkeras.config.backend()``.
        mode: ``"fast_run"`` rewrites the graph before code generation,
            ``"none"`` runs no rewrite.
        exclude: names of rewrite passes to skip.
        nan_guard: check every node's float outputs while the function runs and raise FloatingPointError
            at the first NaN or Inf, naming the node, its op, its place in the optimized graph and its
            Keras layer; no update is applied then.  None: on when ``SYMKERAS_NAN_GUARD=1``.
        profile: measure the run time of every node as the function runs (``f.profile()`` reports it).
            None: on when ``SYMKERAS_PROFILE=1``.

    Raises:
        ValueError: an unknown backend, pass or mode; a bad update.
        MissingInputError: an output needs a placeholder that is not an input.
    """

    def __init__(self, inputs: Sequence[Tensor], outputs, updates=None, name: str | None = None,
                 backend: str | None = None, mode: str = "fast_run", exclude=(), nan_guard: bool | None = None,
                 profile: bool | None = None):
        self.inputs = list(inputs)
        for i, t in enumerate(self.inputs):
            if not isinstance(t, Tensor):
                raise TypeError(f"Function input {i} must be a symbolic tensor; got {type(t).__name__}.")
            if t.kind == "constant":
                raise TypeError(f"Function input {_label(t, i)} is a constant and cannot be fed.")
        self.single_output = isinstance(outputs, Tensor)
        self.outputs = [outputs] if self.single_output else [as_tensor(o) for o in outputs]
        self.updates = normalize_updates(updates)
        self.name = name or "function"
        self.backend = get_backend(backend or config.backend())
        self.mode, self.exclude = mode, tuple(exclude)
        self.graph = Graph(self.inputs, self.outputs + [new for _, new in self.updates])
        dump_to = dump_dir()
        self._optimized = None
        #: seconds spent in the rewrite pipeline (0 while a program from the cache needed none)
        self.rewrite_seconds = 0.0
        #: whether the NaN guard checks this function's nodes
        self.nan_guard = bool(nan_guard) if nan_guard is not None else os.environ.get("SYMKERAS_NAN_GUARD") == "1"
        #: whether the function measures its nodes' run times (see profile())
        self.profiling = bool(profile) if profile is not None else os.environ.get("SYMKERAS_PROFILE") == "1"
        self.calls, self.call_seconds = 0, 0.0
        canonical = None
        if not (dump_to or self.nan_guard or self.profiling):
            canonical = program_cache.canonical(self.graph, self.inputs, self.outputs, self.updates,
                                                f"mode={mode} exclude={sorted(self.exclude)}",
                                                self.backend.program_context())
        #: the key of the graph's program in the program cache (None: not kept there)
        self.program_key = None if canonical is None else canonical.key
        self.program = None
        if canonical is not None:
            self.program = self.backend.restore(canonical, self.graph, self.inputs, self.name, self._compile_args)
        if self.program is None:
            self._compile()
            if canonical is not None:
                self.backend.remember(canonical, self.program)
        self.dump_folder = None
        if dump_to:
            from symkeras.graph.printing import format_tree

            text = self.program.source or format_tree(self.optimized.graph.outputs, stop=self.inputs)
            self.dump_folder = write_dump(dump_to, self.name, cache.source_key(text), self.optimized,
                                          self.program.source)

    @property
    def optimized(self):
        """The rewrite pipeline's result (``.graph``, ``.records``, ``.report()``): run when first asked for
        if the program came from the program cache."""
        if self._optimized is None:
            start = time.perf_counter()
            self._optimized = optimize(self.graph, mode=self.mode, exclude=self.exclude,
                                       keep_snapshots=bool(dump_dir()))
            self.rewrite_seconds = time.perf_counter() - start
        return self._optimized

    def _compile_args(self) -> tuple:
        """What the backend compiles: (optimized graph, inputs, outputs, updates, name)."""
        n = len(self.outputs)
        new_outputs = self.optimized.graph.outputs
        updates = [(var, new) for (var, _), new in zip(self.updates, new_outputs[n:])]
        return self.optimized.graph, self.inputs, new_outputs[:n], updates, self.name

    def _compile(self) -> None:
        # the options go to the backend only when asked for: a backend that has none of them still works
        options = {key: True for key, on in (("nan_guard", self.nan_guard), ("profile", self.profiling)) if on}
        try:
            self.program = self.backend.compile(*self._compile_args(), **options)
        except TypeError as error:
            unsupported = [key for key in options if f"'{key}'" in str(error)]
            if not unsupported:
                raise
            raise ValueError(f"The {self.backend.name} backend does not support {', '.join(unsupported)}.") from None

    def _check_inputs(self, values) -> list[np.ndarray]:
        if isinstance(values, dict):
            values = [values[t] if t in values else values.get(t.name) for t in self.inputs]
        elif not isinstance(values, (list, tuple)):
            values = [values] if len(self.inputs) == 1 else values
            if not isinstance(values, list):
                raise TypeError(f"Function '{self.name}' takes a list of {len(self.inputs)} arrays; "
                                f"got {type(values).__name__}.")
        if len(values) != len(self.inputs):
            names = ", ".join(_label(t, i) for i, t in enumerate(self.inputs))
            raise ValueError(f"Function '{self.name}' takes {len(self.inputs)} input(s) ({names}); "
                             f"got {len(values)}.")
        return [self._check_one(t, i, v) for i, (t, v) in enumerate(zip(self.inputs, values))]

    def _check_one(self, t: Tensor, position: int, value) -> np.ndarray:
        if type(value) is np.ndarray and value.dtype == t.dtype and value.ndim == t.ndim and \
                all(want is None or want == got for want, got in zip(t.shape, value.shape)):
            return value  # (the common case, checked in one pass: an array of the input's type and shape)
        label = _label(t, position)
        if value is None:
            raise ValueError(f"Input '{label}' of function '{self.name}' was not given.")
        array = np.asarray(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"Input '{label}' of function '{self.name}' expects numeric data of dtype "
                            f"{t.dtype}; got an array of dtype {array.dtype}.")
        if array.ndim != t.ndim:
            raise ValueError(f"Input '{label}' of function '{self.name}' expects shape "
                             f"{shapes.fmt(t.shape)} (rank {t.ndim}); got an array of shape "
                             f"{shapes.fmt(array.shape)} (rank {array.ndim}).")
        for axis, (want, got) in enumerate(zip(t.shape, array.shape)):
            if want is not None and want != got:
                raise ValueError(f"Input '{label}' of function '{self.name}' expects shape "
                                 f"{shapes.fmt(t.shape)}; got {shapes.fmt(array.shape)} "
                                 f"(dimension {axis} is {got}, expected {want}).")
        if array.dtype.kind == "f" and not dtypes.is_float(t.dtype):
            if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
                raise TypeError(f"Input '{label}' of function '{self.name}' expects {t.dtype} "
                                "data; got non-integral floats.")
        return array.astype(t.dtype, copy=False)

    def __call__(self, inputs=()):
        if not self.profiling:
            results = self.program.run(self._check_inputs(inputs))
            return results[0] if self.single_output else results
        compiling = self.program.stats.get("compile_seconds", 0.0) is None  # this call compiles
        start = time.perf_counter()
        try:
            results = self.program.run(self._check_inputs(inputs))
        finally:
            if compiling:  # the profile is of running, not of compiling: stats.compile_seconds has that
                self.program.reset_profile()
            else:
                self.calls += 1
                self.call_seconds += time.perf_counter() - start
        return results[0] if self.single_output else results

    def profile(self, file=None) -> str:
        """Print (to ``file``, default stdout) and return the function's profile, like Theano's: rewrite
        time per pass, code generation and compile time (cold or from the cache), and, when the function
        was made with ``profile=True`` (or ``SYMKERAS_PROFILE=1``), its calls and the run time of every
        node over them, slowest first."""
        from symkeras.codegen.profile import format_profile

        text = format_profile(self)
        print(text, file=file)
        return text

    # --- inspection ---------------------------------------------------------
    def debug(self, inputs=()):
        """Run the function's graph node by node on its backend beside the reference (no update is applied).

        Returns a DebugReport naming the first node (and the Keras layer
        that made it) whose result differs from the reference or holds
        NaN/Inf, with its op, its inputs' shapes and its label in
        ``report.dump`` (the optimized graph's text dump).

        Raises:
            ValueError: the function runs on the reference backend itself.
        """
        from symkeras.codegen.debug import debug_run

        if self.backend.is_reference:
            raise ValueError("debug() compares a compiled function with the reference; this one is the reference.")
        # every rewrite but fusion, so that each node is one op
        graph = optimize(self.graph, mode=self.mode, exclude=set(self.exclude) | {"fusion"}).graph
        return debug_run(self.program, graph, self._check_inputs(inputs))

    @property
    def source(self) -> str:
        """The generated program's source (backends that generate code)."""
        if self.program.source is None:
            raise AttributeError(f"A function on the {self.backend.name} backend has no generated source.")
        return self.program.source

    @property
    def optimized_graph(self) -> Graph:
        """The graph after rewrites, as the backend compiled it."""
        return self.optimized.graph

    @property
    def rewrites(self) -> str:
        """What each rewrite pass did, one line per pass."""
        return self.optimized.report()

    @property
    def stats(self) -> dict:
        """Build statistics: rewrite seconds, and what the backend measured (compile seconds, kernels)."""
        return {"rewrite_seconds": self.rewrite_seconds, **self.program.stats}

    def debugprint(self, file=None, optimized: bool | None = None) -> str:
        """Print (and return) the text dump of the outputs and updates (after rewrites unless optimized=False)."""
        from symkeras.graph.printing import debugprint

        return debugprint(self, file=file, optimized=optimized)

    def _dumped_graph(self, optimized):
        return (self.graph if optimized is False else self.optimized_graph).outputs

    def to_dot(self, optimized: bool | None = None) -> str:
        from symkeras.graph.printing import to_dot

        return to_dot(self._dumped_graph(optimized), title=self.name)

    def to_json(self, optimized: bool | None = None, include_values: bool = True) -> str:
        """The JSON dump (see symkeras.graph.printing.to_json), variables' values read from their storage."""
        from symkeras import runtime
        from symkeras.graph.printing import to_json

        outputs = self._dumped_graph(optimized)
        values = None
        if include_values:
            values = {v: runtime.get_value(v) for v in Graph(self.inputs, outputs, allow_missing=True).variables}
        return to_json(outputs, values=values)

    def __repr__(self) -> str:
        return (f"<Function {self.name}: {len(self.inputs)} inputs, {len(self.outputs)} outputs, "
                f"{len(self.updates)} updates, {len(self.graph.nodes)} nodes, {self.backend.name} backend>")
