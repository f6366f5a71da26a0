"""The backend protocol: one way for every backend to turn an optimized graph into a program.

``Function`` checks the inputs, runs the rewrite pipeline once and hands the
optimized graph to a backend's ``compile``; what comes back is a
``Program``.  The reference evaluator and Numba are two implementations;
a new backend is a package under ``symkeras/codegen/`` whose import calls
``register_backend`` (``get_backend(name)`` imports ``symkeras.codegen.<name>``
the first time the name is asked for), or any module that registers one.
No code outside this registry asks which backend it is talking to.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import numpy as np

from symkeras.graph.basic import Tensor
from symkeras.graph.fgraph import Graph
from symkeras.runtime import storage as storages


class Program:
    """A compiled function on one backend.

    Attributes:
        backend: the Backend that compiled it.
        source: the generated source text, or None when nothing is generated.
        stats: compile statistics (``compile_seconds``, ``kernels``, ... as the backend measures them).
    """

    backend: Backend
    source: str | None = None

    def __init__(self):
        self.stats: dict = {}

    def run(self, arrays: list[np.ndarray]) -> list[np.ndarray]:
        """The outputs for the fed ``arrays`` (checked by Function); the updates are applied to the
        backend's storage, all computed from the values before the call."""
        raise NotImplementedError

    def node_seconds(self) -> list[float] | None:
        """Profile: seconds per node of the compiled graph (in its order) over the calls so far; None when
        the program was not compiled with ``profile=True``."""
        return None

    def reset_profile(self) -> None:
        """Forget the run times measured so far (the function's compiling first call is not profiled)."""

    def trace(self, graph: Graph, arrays: list[np.ndarray]) -> dict[Tensor, np.ndarray]:
        """Every tensor of ``graph`` (over the same inputs) as this backend computes it, for the debug
        mode; no update is applied and the random draws of ``run`` are not advanced."""
        raise NotImplementedError(f"The {self.backend.name} backend has no trace mode.")


class Backend:
    """Turns optimized graphs into Programs; owns the storage its programs compute in.

    Attributes:
        name: the name ``K.function(..., backend=name)`` and ``SYMKERAS_BACKEND`` select it by.
        storage: where the variables live while its programs run (``symkeras.runtime``).
        is_reference: the oracle the debug mode compares other backends with.
    """

    name = "backend"
    storage: storages.Storage = storages.HOST
    is_reference = False

    def compile(self, graph: Graph, inputs: Sequence[Tensor], outputs: Sequence[Tensor],
                updates: Sequence[tuple[Tensor, Tensor]], name: str, nan_guard: bool = False,
                profile: bool = False) -> Program:
        """A Program computing ``outputs`` and the update values (all tensors of ``graph``) from
        ``inputs``; ``updates`` pairs each variable with its new value.  ``nan_guard``: check every node's
        float outputs as the program runs and raise FloatingPointError (errors.nan_guard_message) at the
        first NaN or Inf, before any update is applied.  ``profile``: the program measures each node's run
        time (``Program.node_seconds``)."""
        raise NotImplementedError

    # --- the program cache (program_cache.py): a backend that keeps programs implements all three
    def program_context(self) -> str | None:
        """What this backend's programs depend on besides the graph (versions, settings), as text; None
        when it keeps no programs."""
        return None

    def restore(self, canonical, graph: Graph, inputs: Sequence[Tensor], name: str, optimized) -> Program | None:
        """The program kept for the graph of key ``canonical.key``, bound to ``graph`` (the function's own,
        not rewritten), or None when none is kept.  ``optimized()`` returns the arguments ``compile``
        would have had (graph, inputs, outputs, updates, name), for the program's rare paths that need
        the optimized graph; it rewrites the graph when first called."""
        return None

    def remember(self, canonical, program: Program) -> None:
        """Keep ``program`` (made by ``compile``) under ``canonical.key``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


_REGISTRY: dict[str, Backend] = {}


def register_backend(backend: Backend) -> Backend:
    """Make ``backend`` selectable by its name (a later registration of the same name replaces it)."""
    if not isinstance(backend, Backend):
        raise TypeError(f"register_backend needs a Backend; got {backend!r}.")
    _REGISTRY[backend.name] = backend
    return backend


def unregister_backend(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered() -> list[str]:
    """The names of the backends registered so far."""
    return sorted(_REGISTRY)


def get_backend(name: str) -> Backend:
    """The backend called ``name``, importing ``symkeras.codegen.<name>`` if it is not registered yet.

    Raises:
        ValueError: no such backend.
    """
    if name not in _REGISTRY and str(name).isidentifier():
        try:
            importlib.import_module(f"symkeras.codegen.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"symkeras.codegen.{name}":
                raise
    if name not in _REGISTRY:
        for builtin in ("reference", "numba"):  # so that the message lists them
            importlib.import_module(f"symkeras.codegen.{builtin}")
        raise ValueError(f"Unknown backend {name!r}; registered backends: {', '.join(registered())}.")
    return _REGISTRY[name]


class Residency:
    """Keeps a program's variables in its backend's storage.

    Moving a variable (another backend ran on it) or giving it a new buffer
    changes ``symkeras.runtime.storage.epoch()``; until then ``ensure`` costs
    one comparison, so the per-call path stays short.
    """

    def __init__(self, storage: storages.Storage, variables: Sequence[Tensor]):
        self.storage = storage
        self.variables = list(variables)
        self.epoch = -1

    def ensure(self) -> bool:
        """Move what is elsewhere into the storage; True when anything may have changed since last time."""
        if self.epoch == storages.epoch():
            return False
        for var in self.variables:
            storages.move(var, self.storage)
        self.epoch = storages.epoch()
        return True


def apply_updates(name: str, updates, values: dict, write, prepare=None) -> None:
    """Write each update's new value ``values[new]`` into its variable with ``write(var, value)``: every
    value is checked against its variable's shape (and passed through ``prepare(value, var)`` when given)
    before any is written, and the writes run with Ctrl-C held back: all of them or none.

    Raises:
        ValueError: an update's shape differs from its variable's (naming function ``name`` and the
            variable); no variable is changed.
    """
    from symkeras.codegen.errors import update_shape_error
    from symkeras.graph import shapes
    from symkeras.runtime.interrupts import deferred_interrupts

    new_values = []
    for var, new in updates:
        value = values[new]
        if tuple(value.shape) != var.shape:
            raise ValueError(update_shape_error(name, var) + f" (got {shapes.fmt(value.shape)})")
        new_values.append(value if prepare is None else prepare(value, var))
    with deferred_interrupts():
        for (var, _), value in zip(updates, new_values):
            write(var, value)
