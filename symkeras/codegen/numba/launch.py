"""Parallel loops through one shared launcher, so that no kernel is compiled as a Numba parfor.

Numba compiles a function with a ``numba.prange`` loop through its parfor
passes, which cost 0.3-0.5 s on top of the serial compile of the same code
(B3's 11 parallel kernels took 6.4 s of its 13 s of compile work).  Here a
kernel's parallel loop becomes two serial functions and a call:

- the **body**, a kernel module of its own taking ``(part_, block_)``: it
  rebuilds the arrays the loop reads and writes from ``block_`` (their
  addresses, shapes and strides), re-runs the pure part of the kernel's
  prologue (sizes, views), and runs its share of the loop's iterations;
- the kernel, serial now, packs those arrays into ``block_`` and calls
- the **launcher**, one module with one ``numba.prange`` loop over the parts
  that calls the body through its address.  Its text is the same for every
  kernel, so it is compiled once per kernel cache, in any process.

Both addresses reach the kernel through the step's ``fns``, as one slice
(parameter ``body{j}``, see register and linker._call_kernel).
``split_parallel_loop`` does the rewrite on a kernel's generated lines when
it can prove it safe (see its rules); otherwise the kernel keeps its prange
loop.  parts.py uses the same
launcher for the convolutions, whose bodies it emits itself.
"""

from __future__ import annotations

import ast

import numpy as np
from numba import from_dtype, types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from symkeras.codegen.numba.emitter import KernelText

#: a body's and the launcher's parameters and results: int64 1-D arrays (a part's index; fns slices; the block)
INDEX_TYPE = ("int64", 1, "C", False)
BODY_SIGNATURE = ((INDEX_TYPE, INDEX_TYPE), INDEX_TYPE)
LAUNCH_IMPORTS = ("from symkeras.codegen.numba.calls import function_type, invoke\n"
                  "from symkeras.codegen.numba.launch import array_view, pack_array\n"
                  "from symkeras.codegen.numba.compiling import without_aliases\n")
#: the function of a body's module that the body calls through its address (parts.py), besides ``kernel``
WORK_FUNCTION = "work"
#: the kernels' declaration of the launcher's function type (its preamble line)
LAUNCH_TYPE = f"LAUNCH = function_type({[INDEX_TYPE, INDEX_TYPE]!r}, {INDEX_TYPE!r})"

#: the launcher: block_[0] parts, each a call of the body at body_[0] with its index and the block
LAUNCHER = KernelText(
    ("body_", "block_"),
    "    for t in numba.prange(block_[0]):\n"
    "        part = np.empty(1, np.int64)\n"
    "        part[0] = t\n"
    "        invoke(body_[0], BODY, (part, block_))\n"
    "    return block_\n",
    imports=LAUNCH_IMPORTS + f"BODY = function_type({[INDEX_TYPE, INDEX_TYPE]!r}, {INDEX_TYPE!r})\n",
    parallel=True)


def _spec(arg_type) -> str:
    dtype, ndim, layout, readonly = arg_type
    return f"{dtype}:{ndim}:{layout}:{int(bool(readonly))}"


def slots(arg_type) -> int:
    """How many int64 entries of the block an array of ``arg_type`` takes: address, shape, strides."""
    return 1 + 2 * arg_type[1]


@intrinsic
def pack_array(typingctx, block, offset, array):
    """Write ``array``'s data address, shape and strides (bytes) into ``block[offset:]``; returns the next
    offset.  The array must outlive every use of the block."""
    if not isinstance(array, types.Array) or not isinstance(offset, types.Integer):
        raise TypingError(f"pack_array: needs an array and an integer offset, got {array}, {offset}")

    def codegen(context, builder, sig, args):
        blk = context.make_array(sig.args[0])(context, builder, args[0])
        arr = context.make_array(array)(context, builder, args[2])
        base = context.cast(builder, args[1], sig.args[1], types.intp)
        i64 = context.get_value_type(types.int64)
        values = [builder.ptrtoint(arr.data, i64)]
        values += cgutils.unpack_tuple(builder, arr.shape, array.ndim)
        values += cgutils.unpack_tuple(builder, arr.strides, array.ndim)
        for i, value in enumerate(values):
            at = builder.add(base, context.get_constant(types.intp, i))
            builder.store(value, builder.gep(blk.data, [at]))
        return builder.add(base, context.get_constant(types.intp, len(values)))

    return types.intp(block, offset, array), codegen


@intrinsic(prefer_literal=True)
def array_view(typingctx, block, offset, spec):
    """The array packed at ``block[offset:]`` by ``pack_array``, typed by ``spec`` ('dtype:ndim:layout:ro');
    a borrowed view (no reference is taken)."""
    if not isinstance(spec, types.StringLiteral) or not isinstance(offset, types.Integer):
        raise TypingError(f"array_view: needs an integer offset and a literal spec, got {offset}, {spec}")
    dtype, ndim, layout, readonly = spec.literal_value.split(":")
    ndim = int(ndim)
    result = types.Array(from_dtype(np.dtype(dtype)), ndim, layout, readonly=readonly == "1")

    def codegen(context, builder, sig, args):
        blk = context.make_array(sig.args[0])(context, builder, args[0])
        base = context.cast(builder, args[1], sig.args[1], types.intp)

        def at(i):
            return builder.load(builder.gep(blk.data, [builder.add(base, context.get_constant(types.intp, i))]))

        data_type = context.get_data_type(result.dtype)
        view = context.make_array(result)(context, builder)
        populate_array(view, data=builder.inttoptr(at(0), data_type.as_pointer()),
                       shape=[at(1 + d) for d in range(ndim)], strides=[at(1 + ndim + d) for d in range(ndim)],
                       itemsize=context.get_constant(types.intp, context.get_abi_sizeof(data_type)), meminfo=None)
        return view._getvalue()

    return result(block, offset, spec), codegen


def work_offset(passed: list[tuple[str, tuple]]) -> int:
    """Where in the block a body's ``work`` function has its address: after the packed arrays."""
    return 1 + sum(slots(t) for _, t in passed)


def launch_lines(passed: list[tuple[str, tuple]], parts: int, addresses: str, work: bool = False) -> list[str]:
    """The kernel's lines (at depth 1) packing ``passed`` and running the body over ``parts`` parts;
    ``addresses``: the kernel's parameter holding the body's address and the launcher's (see register),
    and with ``work`` the address of the body's ``work`` function, which goes into the block."""
    size = work_offset(passed)
    lines = [f"block_ = np.empty({size + int(work)}, np.int64)", f"block_[0] = {parts}"]
    offset = 1
    for name, arg_type in passed:
        lines.append(f"pack_array(block_, {offset}, {name})")
        offset += slots(arg_type)
    if work:
        lines.append(f"block_[{size}] = {addresses}[2]")
    lines.append(f"invoke({addresses}[1], LAUNCH, ({addresses}, block_))")
    return ["    " + line for line in lines]


def unpack_lines(passed: list[tuple[str, tuple]]) -> list[str]:
    """The body's first lines: each passed array viewed again under its kernel name."""
    lines, offset = [], 1
    for name, arg_type in passed:
        lines.append(f"    {name} = array_view(block_, {offset}, {_spec(arg_type)!r})")
        offset += slots(arg_type)
    return lines


def register(em, body: KernelText, work_types: tuple | None = None) -> str:
    """Make ``body`` and the launcher functions the step passes in ``fns``, in two adjacent slots (the
    launcher's entry is keyed by the body's slot, so every body has its own copy of the launcher's address
    beside it), and a third for the body module's ``work`` function when it has one (of ``work_types``);
    returns the kernel's parameter for them (``body{j}``, appended to its target's bodies with their
    count), which the step passes as one slice: the kernel gets one argument per parallel loop."""
    table, target = em.table, em.target
    for text in (body, LAUNCHER):
        table.kernels.setdefault(text, f"kernel{len(table.kernels)}")
        table.signatures.setdefault(text, set()).add(BODY_SIGNATURE[0])
    slot = table.functions.setdefault((body, BODY_SIGNATURE[0], INDEX_TYPE), len(table.functions))
    launcher = table.functions.setdefault((LAUNCHER, BODY_SIGNATURE[0], INDEX_TYPE, slot), len(table.functions))
    assert launcher == slot + 1, "a body's slot is always created with its launcher's"
    count = 2
    if work_types is not None:
        work = table.functions.setdefault((body, tuple(work_types), INDEX_TYPE, WORK_FUNCTION), len(table.functions))
        assert work == slot + 2, "a body's work function has its slot right after the launcher's"
        count = 3
    name = f"body{len(target.bodies)}"
    target.bodies.append((slot, count))
    if LAUNCH_TYPE not in target.preamble:
        target.preamble.append(LAUNCH_TYPE)
    return name


# the rewrite of a generated kernel ------------------------------------------------------------------------

#: calls a prologue statement may make and still be re-run by every part (pure, cheap, no allocation)
_PURE_FUNCTIONS = {"max", "min", "abs", "int", "float", "bool", "len"}
_PURE_NUMPY = {"int64", "int32", "intp", "float32", "float64", "bool_", "uint8", "int8", "int16", "uint16",
               "uint32", "uint64", "float16"}
_PURE_METHODS = {"reshape"}
_ALLOCATIONS = {"empty", "zeros", "ones", "full"}


def _is_numpy(node, names) -> bool:
    return (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "np"
            and node.attr in names)


def _is_prange(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "prange"
            and isinstance(node.func.value, ast.Name) and node.func.value.id == "numba")


def _pure(expr) -> bool:
    for node in ast.walk(expr):
        if isinstance(node, ast.Call):
            func = node.func
            if not ((isinstance(func, ast.Name) and func.id in _PURE_FUNCTIONS) or _is_numpy(func, _PURE_NUMPY)
                    or (isinstance(func, ast.Attribute) and func.attr in _PURE_METHODS)):
                return False
        elif isinstance(node, (ast.Lambda, ast.NamedExpr, ast.Yield, ast.Await)):
            return False
    return True


def _dtype_name(node, aliases: dict[str, str]) -> str | None:
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "np":
        return node.attr
    if isinstance(node, ast.Name):
        return aliases.get(node.id)
    return None


def _allocation(expr, aliases: dict[str, str]) -> tuple | None:
    """The (dtype, ndim, 'C', False) of ``np.empty/zeros/ones/full(shape, [fill,] dtype)``, or None."""
    if not (isinstance(expr, ast.Call) and _is_numpy(expr.func, _ALLOCATIONS)) or expr.keywords:
        return None
    dtype_at = 2 if expr.func.attr == "full" else 1
    if len(expr.args) != dtype_at + 1:
        return None
    shape = expr.args[0]
    if isinstance(shape, ast.Tuple):
        ndim = len(shape.elts)
    elif isinstance(shape, (ast.Constant, ast.Name, ast.BinOp, ast.Subscript)):
        ndim = 1  # an integer extent (generated code writes a shape as a tuple)
    else:
        return None
    dtype = _dtype_name(expr.args[dtype_at], aliases)
    if dtype is None:
        return None
    try:
        return (str(np.dtype(dtype)), ndim, "C", False)
    except TypeError:
        return None


def _in_place(expr, aliases, params, defs) -> tuple | None:
    """The type of ``dest if <fits> else np.empty(...)`` (a kernel writing into a buffer it was given) when
    ``dest`` is a parameter of exactly the allocation's type, else None."""
    allocated = _allocation(expr.orelse, aliases)
    given = expr.body
    if allocated is None or not isinstance(given, ast.Name) or given.id in defs or not _pure(expr.test):
        return None
    return allocated if params.get(given.id) == allocated else None


def _loads(node) -> list[str]:
    return [n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]


def _stores(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}


class _Unsafe(Exception):
    """The loop cannot be moved out of its kernel safely; it stays a prange loop."""


def split_parallel_loop(lines: list[str], params: dict[str, tuple | None], parts: int):
    """Cut a kernel's one top-level ``for v in numba.prange(n):`` loop into a body run by the launcher.

    Args:
        lines: the kernel's body lines (depth 1 = four spaces).
        params: the kernel's parameters and their (dtype, ndim, layout, read-only) types (None: unknown).
        parts: how many parts the iterations are shared out over.

    Returns:
        None when the rewrite is not proven safe, else (the kernel's lines before the loop, its lines after
        the loop, the body's lines, the arrays to pass as (name, type), whether the loop must run without
        aliasing, see body_module): the kernel puts ``launch_lines(passed, ...)`` in the loop's place.

    Rules: the loop reads names defined before it either as parameters, as arrays allocated by
    ``np.empty/zeros/ones/full`` (both passed through the block), or by assignments that make no call but
    pure ones (re-run by the body, with what they read); any other definition, a second prange or one
    inside another statement leaves the kernel as it is.
    """
    source = "def kernel():\n" + "\n".join(lines) + "\n"
    try:
        statements = ast.parse(source).body[0].body
    except SyntaxError:
        return None
    loops = [i for i, s in enumerate(statements) if isinstance(s, ast.For) and _is_prange(s.iter)]
    if len(loops) != 1 or sum(_is_prange(n) for s in statements for n in ast.walk(s)) != 1:
        return None
    k = loops[0]
    loop = statements[k]
    if loop.orelse or len(loop.iter.args) != 1 or loop.iter.keywords or loop.body[0].lineno <= loop.lineno:
        return None
    try:
        passed, rerun, in_place = _needed(statements[:k], loop, params)
    except _Unsafe:
        return None
    text = source.splitlines()

    def span(s) -> list[str]:
        return text[s.lineno - 1:s.end_lineno]

    extent = ast.unparse(loop.iter.args[0])
    work = []
    for i in sorted(rerun):
        work += span(statements[i])
    start, stop = f"part_[0] * ({extent}) // {parts}", f"(part_[0] + 1) * ({extent}) // {parts}"
    if _indexes_only(loop):
        # Numba checks a signed index for a negative value at every access, which keeps a flat loop from
        # running from an unknown start unvectorized (5.2 ms for 4.7M floats, 1.5 ms unsigned)
        start, stop = f"np.uint64({start})", f"np.uint64({stop})"
    work += [f"    for {ast.unparse(loop.target)} in range({start}, {stop}):"]
    work += text[loop.lineno:loop.end_lineno]
    work.append("    return part_")
    # partial sums in memory, and an output written over its input, run unvectorized where Numba sees that
    # the arrays may overlap: those loops keep the promise of no aliasing that their parfor had
    accumulates = any(isinstance(n, ast.AugAssign) and isinstance(n.target, ast.Subscript) for n in ast.walk(loop))
    return text[1:loop.lineno - 1], text[loop.end_lineno:], work, passed, accumulates or in_place


def body_module(work: list[str], passed: list[tuple[str, tuple]], decorator: str,
                no_aliases: bool) -> tuple[str, str]:
    """The body of a split loop as (module text before the entry point, the entry point's lines).

    ``no_aliases``: the loop runs in a function ``work`` of its own, which takes the passed arrays as
    parameters and is compiled without aliasing among them (compiling.without_aliases), as Numba compiles a
    parfor's gufunc: the loops then vectorize with no run-time overlap checks and keep partial sums in
    registers (an in-place elementwise kernel of B3 ran 2.7 ms instead of 1.3 without).  Otherwise the
    entry point ``kernel(part_, block_)`` views the arrays and runs the loop itself (one compile less).
    """
    if not no_aliases:
        return "", "\n".join(unpack_lines(passed) + work) + "\n"
    names = ", ".join(["part_", *(name for name, _ in passed)])
    module = f"\n@without_aliases\n{decorator}\ndef work({names}):\n" + "\n".join(work) + "\n\n"
    entry = unpack_lines(passed) + [f"    return work({names})"]
    return module, "\n".join(entry) + "\n"


def _indexes_only(loop) -> bool:
    """Whether the loop's variable is only ever read as a whole subscript (``a[i]``), never computed with
    (an unsigned variable would turn ``i * m`` into a float)."""
    if not isinstance(loop.target, ast.Name):
        return False
    name = loop.target.id
    subscripts = {id(n.slice) for n in ast.walk(loop) if isinstance(n, ast.Subscript)}
    uses = [n for statement in loop.body for n in ast.walk(statement) if isinstance(n, ast.Name) and n.id == name]
    return bool(uses) and all(isinstance(n.ctx, ast.Load) and id(n) in subscripts for n in uses)


def _needed(prologue: list, loop, params: dict[str, tuple | None]):
    """The arrays the loop needs passed (name, type) and the prologue statements the body re-runs."""
    defs: dict[str, list[tuple[int, str, object]]] = {}  # name -> [(statement index, kind, payload)]
    aliases: dict[str, str] = {}  # names bound to a NumPy dtype (COMPUTE = np.float32)
    in_place = False
    for i, s in enumerate(prologue):
        if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name):
            name = s.targets[0].id
            allocated = _allocation(s.value, aliases)
            if allocated is None and isinstance(s.value, ast.IfExp):
                allocated = _in_place(s.value, aliases, params, defs)
                in_place = in_place or allocated is not None
            if allocated is not None:
                defs.setdefault(name, []).append((i, "alloc", allocated))
            elif _pure(s.value):
                defs.setdefault(name, []).append((i, "pure", s.value))
                dtype = _dtype_name(s.value, aliases)
                if dtype is not None:
                    aliases[name] = dtype
            else:
                defs.setdefault(name, []).append((i, "other", None))
        else:
            for name in _stores(s):
                defs.setdefault(name, []).append((i, "other", None))
    passed: dict[str, tuple] = {}
    rerun: set[int] = set()
    last = len(prologue)

    def need(name: str, before: int) -> None:
        earlier = [d for d in defs.get(name, ()) if d[0] < before]
        if not earlier:
            if name in params:
                if params[name] is None:
                    raise _Unsafe(name)
                passed.setdefault(name, params[name])
            return  # a module-level name (np, numba, vm, the intrinsics)
        index, kind, payload = earlier[-1]
        if kind == "other":
            raise _Unsafe(name)
        if kind == "alloc":
            if defs[name][-1][0] != index:
                raise _Unsafe(name)  # the block carries the array the name holds at the loop
            if passed.get(name, payload) != payload:
                raise _Unsafe(name)
            passed[name] = payload
            return
        if index in rerun:
            return
        rerun.add(index)
        for read in _loads(payload):
            need(read, index)

    stored = _stores(loop)  # (once: walking a convolution's loop is ~0.5 ms, for each name it reads)
    for name in dict.fromkeys(_loads(loop)):
        if name not in stored or name in defs or name in params:
            need(name, last)
    return list(passed.items()), rerun, in_place
