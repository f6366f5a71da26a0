"""Function: a compiled callable over a graph, with Keras 2's K.function contract."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symkeras import config
from symkeras.codegen.errors import update_shape_error
from symkeras.codegen.reference import ReferenceProgram
from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Tensor, as_tensor
from symkeras.graph.fgraph import Graph
from symkeras.graph.ops.elemwise import cast


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

    Args:
        inputs: placeholders (or other tensors) fed at each call, in order.
        outputs: a tensor or a list of tensors.
        updates: (variable, new_value) pairs, all computed from the values
            before the call, then assigned.
        name: shown in error messages and dumps.
        backend: ``"numba"`` (compiled) or ``"reference"`` (the NumPy oracle);
            default ``symkeras.config.backend()``.
        mode: ``"fast_run"`` rewrites the graph before code generation,
            ``"none"`` runs no rewrite.
        exclude: names of rewrite passes to skip.
    """

    def __init__(self, inputs: Sequence[Tensor], outputs, updates=None, name: str | None = None,
                 backend: str | None = None, mode: str = "fast_run", exclude=()):
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
        self.graph = Graph(self.inputs, self.outputs + [new for _, new in self.updates])
        self.backend = config._check_backend(backend or config.backend())
        if self.backend == "reference":
            self.program = ReferenceProgram(self.graph)
        else:
            from symkeras.codegen.numba.program import NumbaProgram

            self.program = NumbaProgram(self.inputs, self.outputs, self.updates, self.name, mode=mode,
                                        exclude=exclude)

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
        arrays = self._check_inputs(inputs)
        if self.backend != "reference":
            results = self.program([a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays])
            return results[0] if self.single_output else results
        values = self.program.run(dict(zip(self.inputs, arrays)))
        results = [np.array(values[o], copy=True) for o in self.outputs]
        new_values = []
        for var, new in self.updates:
            value = values[new]
            if value.shape != var.shape:
                raise ValueError(update_shape_error(self.name, var) + f" (got {shapes.fmt(value.shape)})")
            new_values.append(value)
        for (var, _), value in zip(self.updates, new_values):
            var._value = np.array(value, dtype=var.dtype, copy=True, order="C")
        return results[0] if self.single_output else results

    # --- inspection ---------------------------------------------------------
    def debug(self, inputs=()):
        """Run the compiled graph node by node beside the reference (no update is applied).

        Returns a DebugReport naming the first node whose result differs from
        the reference or holds NaN/Inf, with its op, its inputs' shapes and its
        label in ``report.dump`` (the optimized graph's text dump).
        """
        from symkeras.codegen.debug import debug_run

        if self.backend == "reference":
            raise ValueError("debug() compares a compiled function with the reference; this one is the reference.")
        arrays = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in self._check_inputs(inputs)]
        return debug_run(self.program, arrays)

    @property
    def source(self) -> str:
        """The generated module's source (Numba backend)."""
        if self.backend == "reference":
            raise AttributeError("A reference-backend function has no generated source.")
        return self.program.source

    @property
    def optimized_graph(self):
        """The graph after rewrites (None on the reference backend, which runs the graph as built)."""
        return None if self.backend == "reference" else self.program.optimized.graph

    @property
    def rewrites(self) -> str:
        """What each rewrite pass did, one line per pass."""
        return "" if self.backend == "reference" else self.program.optimized.report()

    def debugprint(self, file=None, optimized: bool | None = None) -> str:
        """Print (and return) the text dump of the outputs and updates (after rewrites unless optimized=False)."""
        from symkeras.graph.printing import debugprint

        return debugprint(self, file=file, optimized=optimized)

    def _dumped_graph(self, optimized):
        graph = self.optimized_graph if optimized is not False and self.optimized_graph is not None else self.graph
        return graph.outputs

    def to_dot(self, optimized: bool | None = None) -> str:
        from symkeras.graph.printing import to_dot

        return to_dot(self._dumped_graph(optimized), title=self.name)

    def to_json(self, optimized: bool | None = None) -> str:
        from symkeras.graph.printing import to_json

        return to_json(self._dumped_graph(optimized))

    def __repr__(self) -> str:
        return (f"<Function {self.name}: {len(self.inputs)} inputs, {len(self.outputs)} outputs, "
                f"{len(self.updates)} updates, {len(self.graph.nodes)} nodes>")
