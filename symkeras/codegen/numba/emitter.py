"""The emitter: names, run-time shapes and source lines of one generated step function.

Kernels (registered per op type in ``registry.py``) append the lines that
compute their node's output variables.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symkeras.graph import provenance, shapes
from symkeras.graph.basic import Node, Tensor


def c_reshape(array: str, shape: str) -> str:
    """The source of ``array.reshape(shape)`` for a C-contiguous ``array``, written as the reshape of
    ``np.ascontiguousarray(array)`` (a no-op for it), which alloc.inline_allocations turns into the
    ``reshaped_`` intrinsic: Numba's own reshape compiles a helper in every process."""
    return f"np.ascontiguousarray({array}).reshape({shape})"


def int_min(a: str, b: str) -> str:
    """The source of ``min(a, b)`` for two integer expressions, as a conditional expression.

    Numba's ``min`` and ``max`` are overloads whose implementations are
    compiled again in every process and for every pair of argument types
    (0.05-0.1 s of a process's compile work); a comparison is typed at once.
    """
    return f"(({a}) if ({a}) < ({b}) else ({b}))"


def int_max(a: str, b: str) -> str:
    """The source of ``max(a, b)`` for two integer expressions (see int_min)."""
    return f"(({a}) if ({a}) > ({b}) else ({b}))"


def transposed_layout(known: tuple[str, bool] | None) -> tuple[str, bool] | None:
    """(layout, read-only) of the 2-D transpose of an array with ``known`` (None: unknown)."""
    if known is None or known[0] not in ("C", "F", "A"):
        return None
    return ({"C": "F", "F": "C", "A": "A"}[known[0]], known[1])


#: the import line of the float32 functions that fused loops call (vecmath.py: ``vm.exp32``, ...)
VECMATH_IMPORT = "from symkeras.codegen.numba import vecmath as vm"


@dataclass(frozen=True)
class KernelText:
    """The source of one kernel function: its parameters, body lines and the imports it needs.

    Equal texts are one kernel: one module, compiled once, shared by every
    node (of any graph) that generates it.
    """

    params: tuple[str, ...]
    body: str
    imports: str = ""
    #: its reductions may be reassociated (see linker.KERNEL_JIT_REASSOCIATING)
    reassociate: bool = False
    #: it splits its work over Numba's threads (``numba.prange``)
    parallel: bool = False

    def function(self, name: str, decorator: str) -> str:
        """The kernel as a function ``name`` under ``decorator`` (importing vecmath when its body uses it)."""
        imports = self.imports
        if "vm." in self.body and VECMATH_IMPORT not in imports:
            imports += VECMATH_IMPORT + "\n"
        return f"{imports}\n{decorator}\ndef {name}({', '.join(self.params)}):\n{self.body}"


@dataclass
class KernelTable:
    """What one step's kernels share: their texts and names, call signatures, address slots, random nodes."""

    #: call kernels through their addresses (False: through their dispatchers, see linker.generate)
    address_calls: bool = True
    #: kernel -> its name in the step
    kernels: dict[KernelText, str] = field(default_factory=dict)
    #: kernel -> the argument types it is called with
    signatures: dict[KernelText, set] = field(default_factory=dict)
    #: kernels called through their address: (kernel, argument types, result type) -> slot in fns
    functions: dict[tuple, int] = field(default_factory=dict)
    #: random nodes, in the order of their rows in the step's ``calls`` array
    random_nodes: list[Node] = field(default_factory=list)
    #: the step checks its nodes' outputs (NaN guard): it imports guard.all_finite
    guarded: bool = False
    #: the step counts its nodes' cycles (profile): it imports profiling.cycles
    profiled: bool = False
    #: import lines inline kernels need in the step module
    step_imports: set[str] = field(default_factory=set)
    #: kernels the step calls through their dispatchers (by name, so it imports them); the others are
    #: reached through ``fns`` alone, so the step's text does not name them and steps differing only in
    #: their kernels (layer widths) are one module
    called_by_name: set = field(default_factory=set)


@dataclass
class KernelTarget:
    """How one kernel is called: the buffer it may write into and how the step passes its arrays."""

    #: name of a buffer the kernel may write its result into (see memory.plan_in_place)
    dest: str | None = None
    #: the dest buffer has the output's static shape, with no size left to run time
    dest_fits: bool = False
    #: a kernel with several results (FusedGroup): per result, the parameter it writes into, or None
    dests: list = field(default_factory=list)
    #: the step passes every array of this (flat elementwise) kernel as a 1-D view of its elements
    flat_args: bool = False
    #: the kernel accumulates a float sum or product in a local variable that LLVM may reassociate
    reassociate: bool = False
    #: its outermost loop is a ``numba.prange`` (see loops.SPLIT_ELEMENTS)
    parallel: bool = False
    #: the ``calls`` rows the kernel receives as parameters key0, key1, ...
    random_rows: list[int] = field(default_factory=list)
    #: the ``fns`` slots of the loop bodies it runs through the shared launcher, as (slot, count): parameter
    #: ``body{j}`` is ``fns[slot:slot + count]``, the body's address, the launcher's and its work's (launch.py)
    bodies: list[tuple[int, int]] = field(default_factory=list)
    #: module lines its source needs besides the kernel's own imports (the bodies' function types)
    preamble: list[str] = field(default_factory=list)
    #: it calls kernels through addresses itself (a Loop's step graph): it receives the step's ``fns``
    takes_fns: bool = False


class Emitter:
    """Collects the body of the step function, or of one kernel function.

    Static sizes are written as literals (LLVM vectorizes loops of known
    extent: reading every size at run time made B2 2.8x slower).
    """

    def __init__(self, table: KernelTable, parent: Emitter | None = None, target: KernelTarget | None = None):
        self.table = table
        self.parent = parent
        self.target = target or KernelTarget()
        self.lines: list[str] = []
        self.names: dict[Tensor, str] = {}
        self.depth = 1
        self._count = 0
        #: Numba array layout and read-only flag of values that are not fresh C arrays
        #: (None: not known before Numba types the step)
        self.layouts: dict[Tensor, tuple[str, bool] | None] = {}
        #: tensors whose variable may alias another array (a leaf or a view of one)
        self.aliases: set[Tensor] = set()

    def random_key(self, node: Node) -> str:
        """Source of ``node``'s [draw counter, seed] row of the step's ``calls`` array.

        A kernel receives the row as a parameter (``key0``, ...), so kernels
        differing only in seed or slot share one compile.
        """
        slot = len(self.table.random_nodes)
        self.table.random_nodes.append(node)
        if self.parent is None:
            return f"calls[{slot}]"
        self.target.random_rows.append(slot)
        return f"key{len(self.target.random_rows) - 1}"

    # names ----------------------------------------------------------------------
    def bind(self, t: Tensor, name: str) -> None:
        self.names[t] = name

    def name(self, t: Tensor) -> str:
        if t not in self.names:
            self.names[t] = f"t{len(self.names)}"
        return self.names[t]

    def set_layout(self, t: Tensor, layout: str | None, readonly: bool = False) -> None:
        self.layouts[t] = None if layout is None else (layout, readonly)

    def layout_of(self, t: Tensor) -> tuple[str, bool] | None:
        """(layout, read-only) of ``t``'s array as Numba types it; fresh results are writable C arrays."""
        if self.parent is not None and t not in self.layouts:
            return self.parent.layout_of(t)
        return self.layouts.get(t, ("C", False))

    def view_layout(self, out: Tensor, of: Tensor, transposed: bool = False) -> None:
        """``out`` is ``of`` itself (or its 2-D transpose)."""
        known = self.layout_of(of)
        self.layouts[out] = transposed_layout(known) if transposed else known

    def arg_type(self, t: Tensor):
        """(dtype, ndim, layout, read-only) of ``t`` as a kernel argument, or None when unknown."""
        known = self.layout_of(t)
        return None if known is None else (t.dtype, t.ndim, *known)

    def call_kernel(self, kernel: KernelText, actuals: list[str], arg_types: list, result,
                    flat_like: str | None = None, shape: str = "") -> str:
        """Source calling ``kernel`` with ``actuals`` (a kernel called by name is imported once).

        With every argument type known, the call goes through the kernel's
        address (see calls.py); otherwise through its dispatcher.  A flat
        kernel (``flat_like``: an array argument of the result's ``shape``)
        takes its arrays as 1-D and returns a 1-D result.  ``result`` is the
        (dtype, ndim, layout, read-only) of the result, or a tuple of them.
        """
        table = self.table
        name = table.kernels.setdefault(kernel, f"kernel{len(table.kernels)}")
        signatures = table.signatures.setdefault(kernel, set())
        known = not any(a is None for a in arg_types)
        if known:
            signatures.add(tuple(arg_types))
        if not known or not table.address_calls:
            table.called_by_name.add(kernel)
            if flat_like is None:
                return f"{name}({', '.join(actuals)})"
            raveled = [f"{a}.ravel()" if t[1] == 1 else a for a, t in zip(actuals, arg_types)]
            return c_reshape(f"{name}({', '.join(raveled)})", shape)
        slot = table.functions.setdefault((kernel, tuple(arg_types), tuple(result)), len(table.functions))
        if flat_like is None:
            return f"invoke(fns[{slot}], FN{slot}, {self.tuple_of(actuals)})"
        return f"invoke_flat(fns[{slot}], FN{slot}, {self.tuple_of(actuals)}, {flat_like})"

    def fresh(self, prefix: str = "k") -> str:
        self._count += 1
        return f"{prefix}{self._count}"

    # lines ------------------------------------------------------------------------
    def line(self, text: str) -> None:
        self.lines.append("    " * self.depth + text)

    def comment(self, node: Node) -> None:
        """``# <layer> / Op 'name' -> dtype shape`` above a node's lines (a whole-line comment: the cache key
        of a module leaves these out, so graphs differing only in layer names share their compiled code)."""
        label = provenance.of(node)
        where = f"{label} / " if label else ""
        results = ", ".join(f"{o.dtype} {shapes.fmt(o.shape)}" + (f" '{o.name}'" if o.name else "")
                            for o in node.outputs)
        self.line(f"# {where}{_described(node.op)} -> {results}")

    def open(self, text: str) -> None:
        self.line(text)
        self.depth += 1

    def close(self, levels: int = 1) -> None:
        self.depth -= levels

    # shapes --------------------------------------------------------------------------
    def dim(self, t: Tensor, axis: int) -> str:
        """Source of the run-time size of ``t`` along ``axis`` (a literal when static)."""
        d = t.shape[axis]
        if d is not None:
            return str(d)
        return f"{self.name(t)}.shape[{axis}]"

    def dims(self, t: Tensor) -> list[str]:
        return [self.dim(t, a) for a in range(t.ndim)]

    def shared_dim(self, t: Tensor, axis: int) -> str:
        """Like ``dim``, but a static size above 1 is read from the array too, so that the text of the
        kernel or step holds no width and layers of different widths share their compiled code (Numba
        never frees it).  For sizes of reshapes, allocations and slices, whose speed does not hang on a
        literal (loop extents do: see the class docstring)."""
        d = t.shape[axis]
        if d is None or (d > 1 and t.kind != "constant"):
            return f"{self.name(t)}.shape[{axis}]"
        return str(d)

    def shared_dims(self, t: Tensor) -> list[str]:
        return [self.shared_dim(t, a) for a in range(t.ndim)]

    def permute(self, src: str, ndim: int, perm, dtype: str) -> str:
        """Source of ``src`` with its axes permuted: a view for 2D, a contiguous copy otherwise.

        (np.transpose with an axes tuple costs seconds of Numba compile time; loops do not.)
        """
        perm = list(perm)
        if perm == list(range(ndim)):
            return src
        if ndim == 2:
            # a view in the step; a C array out of a kernel (kernels return C arrays, see calls.py)
            return f"{src}.T" if self.parent is None else f"np.ascontiguousarray({src}.T)"
        var, out = self.fresh("src"), self.fresh("perm")
        self.line(f"{var} = {src}")
        self.line(f"{out} = np.empty({self.tuple_of(f'{var}.shape[{p}]' for p in perm)}, np.{dtype})")
        loop = [f"j{k}" for k in range(ndim)]
        for k, p in enumerate(perm):
            self.open(f"for {loop[k]} in range({var}.shape[{p}]):")
        inverse = [perm.index(a) for a in range(ndim)]
        self.line(f"{out}[{', '.join(loop)}] = {var}[{', '.join(loop[inverse[a]] for a in range(ndim))}]")
        self.close(ndim)
        return out

    def copy_into(self, target: str, src: str, ndim: int) -> None:
        """Elementwise ``target[...] = src`` for equal shapes, as loops (slice assignment is slow to compile)."""
        loop = [f"j{k}" for k in range(ndim)]
        for k in range(ndim):
            self.open(f"for {loop[k]} in range({target}.shape[{k}]):")
        index = ", ".join(loop) if loop else "()"
        self.line(f"{target}[{index}] = {src}[{index}]")
        self.close(ndim)

    def filled(self, target: str, sizes, value, dtype: str) -> None:
        """``target = np.full(sizes, value, dtype)`` as np.empty and a loop (np.zeros/np.full cost compile time).

        ``value`` is a source, or a function of the index source giving one.
        """
        sizes = list(sizes)
        self.line(f"{target} = np.empty({self.tuple_of(sizes)}, {dtype})")
        loop = [f"f{k}" for k in range(len(sizes))]
        for k in range(len(sizes)):
            self.open(f"for {loop[k]} in range({target}.shape[{k}]):")
        index = ", ".join(loop) or "()"
        self.line(f"{target}[{index}] = {value(index) if callable(value) else value}")
        self.close(len(sizes))

    @staticmethod
    def tuple_of(items) -> str:
        items = list(items)
        if not items:
            return "()"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def _described(op) -> str:
    """The op as the step's comment shows it.  A random op's seed is data (the ``calls`` array), not code, so
    it stays out of the source: models differing only in their seeds share one compiled step."""
    props = op.props()
    if "seed" not in props:
        return str(op)
    attrs = ", ".join(f"{k}={v!r}" for k, v in props.items() if k != "seed")
    return f"{op.name}{{{attrs}}}"

