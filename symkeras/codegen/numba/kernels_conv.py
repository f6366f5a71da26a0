"""Convolution kernels: im2col into a chunk buffer, one BLAS product per chunk, col2im for the input's gradient.

A 3x3 convolution of stride 1 runs as Winograd F(2x2, 3x3) instead (winograd.py).

A chunk is as many samples as fit a patch buffer of about ``CHUNK``
elements (at least one), so the patch matrix stays in cache and no
batch-sized copy of the input is made.  The chunks are shared out over
Numba's threads, each calling BLAS on its own thread (see threads.py); the
loop over the threads calls its body, a kernel of its own, through its
address (parts.py), which halves the kernel's compile time.  Padding is
never materialized: positions outside the input read (or receive) nothing.  Groups run one
product each on their slice of channels.  float32 and float64 go to BLAS as
they are; other float types compute in float32.
"""

from __future__ import annotations

from symkeras.codegen.numba import threads, winograd
from symkeras.codegen.numba.emitter import c_reshape, int_max, int_min
from symkeras.codegen.numba.loops import emit_steps, replay
from symkeras.codegen.numba.parts import PART_TYPE, open_parts
from symkeras.codegen.numba.registry import kernel
from symkeras.codegen.numba.windows import Geometry
from symkeras.graph.ops.conv import Conv, ConvInputGrad, ConvKernelGrad, effective_size
from symkeras.graph.ops.conv_epilogue import ConvEpilogue
from symkeras.graph.ops.fused import _Meta

#: elements of the patch buffer of one chunk (float32: 512 KB)
CHUNK = 1 << 17
IMPORTS = ("from symkeras.codegen.numba.blas import gemm_into\n"
           "from symkeras.codegen.numba.threads import blas_threads, blas_threads_local\n")


def _size(em, t, axis: int) -> str:
    """A size read at run time even when static: the kernel's text is then the same for every layer of one
    window (kernel size, strides, dilation, padding, groups), so they share one compiled kernel.  BLAS does
    the arithmetic, so literal sizes would speed up only the patch copies (B3's and B7's steps: no
    measurable difference; B7's cold start 24 -> 10.7 s)."""
    return f"{em.name(t)}.shape[{axis}]"


def _compute_dtype(dtype: str) -> str:
    return dtype if dtype in ("float32", "float64") else "float32"


def _patch_loops(em, op, geo: Geometry, cg: str, inside, outside=None) -> None:
    """Loops over the chunk's samples ``n``, output positions and kernel offsets: ``r`` is the patch row,
    ``base`` the patch column of the offset's first channel, ``i0..`` the input position."""
    rank = op.rank
    em.open("for n in range(nn):")
    for a in range(rank):
        em.open(f"for p{a} in range({geo.O[a]}):")
        em.line(f"b{a} = p{a} * {op.strides[a]} - {geo.lo[a]}")
    row = "n"
    for a in range(rank):
        row = f"({row}) * {geo.O[a]} + p{a}"
    em.line(f"r = {row}")
    for a in range(rank):
        em.open(f"for k{a} in range({op.kernel_size[a]}):")
        em.line(f"i{a} = b{a} + k{a} * {op.dilation[a]}")
    offset = "k0"
    for a in range(1, rank):
        offset = f"({offset}) * {op.kernel_size[a]} + k{a}"
    em.line(f"base = ({offset}) * {cg}")
    if op.padding == "valid":  # every window lies inside the input: no bounds to check
        em.open(f"for c in range({cg}):")
        em.line(inside)
        em.close(2 * rank + 2)
        return
    em.open(f"if {' and '.join(f'0 <= i{a} < {geo.S[a]}' for a in range(rank))}:")
    em.open(f"for c in range({cg}):")
    em.line(inside)
    em.close(2)
    if outside is not None:
        em.open("else:")
        em.open(f"for c in range({cg}):")
        em.line(outside)
        em.close(2)
    em.close(2 * rank + 1)


def _at(op, array: str) -> str:
    """The input element of sample ``n0 + n`` at position ``i0..`` and channel ``c0 + c``."""
    return f"{array}[n0 + n, {', '.join(f'i{a}' for a in range(op.rank))}, c0 + c]"


def _blas(em, a: str, b: str, out: str) -> None:
    # a raise inside a prange body turns the whole loop serial, so a missing BLAS is noted per part
    em.line(f"missing[t] |= gemm_into({a}, {b}, {out})")


def _chunks(em, geo: Geometry, kc: str) -> None:
    """``parts`` (Numba's threads) and ``chunk``: samples per patch buffer, so that every part gets work."""
    em.line(f"per = {geo.positions}")
    em.line(f"parts = {threads.parts()}")
    em.line(f"chunk = {int_max('1', int_min('-(-batch // parts)', f'{CHUNK} // ' + int_max(f'per * {kc}', '1')))}")


def _open_parts(em, node, prologue: int, kc: str | None, shared: list[tuple[str, tuple]], buffers: list[str],
                own: list[tuple[str, str, tuple]] | None = None):
    """The parallel loop over parts (its body a kernel of its own, see parts.py): each with BLAS on its own
    thread only, and buffers of its own (``cols``, a chunk's patches of ``kc`` columns, unless None).
    ``em``'s first ``prologue`` lines are sizes and views, the body runs them again; ``shared`` are the
    arrays allocated since, which the parts read or write.  ``own``: (name, allocation, type) of buffers the
    body takes as arrays that alias nothing (parts.open_parts).  Returns the loop."""
    em.line("saved = blas_threads()")
    em.line("missing = np.zeros(parts, np.int64)")
    arguments = [(em.name(t), em.arg_type(t)) for t in dict.fromkeys(node.inputs)]
    loop = open_parts(em, prologue, [*arguments, ("missing", PART_TYPE), *shared], IMPORTS, own)
    body = loop.body
    body.line("blas_threads_local(1)")
    if kc is not None:
        body.line(f"cols = np.empty((chunk * per, {kc}), COMPUTE)")
    for line in buffers:
        body.line(line)
    return loop


def _close_parts(em, loop) -> None:
    loop.close()
    em.line("blas_threads_local(saved)")
    em.line("for t in range(parts):")  # (a loop, not missing.any(): that compiles an overload of its own)
    em.line("    if missing[t]:")
    em.line("        raise RuntimeError('convolution: no BLAS found (SciPy is required)')")


def _open_chunk(em) -> None:
    em.open("for n0 in range(t * chunk, batch, parts * chunk):")
    em.line(f"nn = {int_min('chunk', 'batch - n0')}")
    em.line("rows = nn * per")
    em.line("first = n0 * per")


def _kernel_matrix(em, op, w: str, kc: str, filters: str, fg: str, same_dtype: bool) -> None:
    """``wg``: group ``g``'s (patch, filter) matrix, C-contiguous, in the compute dtype."""
    em.line(f"w2 = np.ascontiguousarray({w}).reshape(({kc}, {filters}))")
    if op.groups == 1 and same_dtype:
        em.line("wg = w2")
        return
    em.line(f"wg = np.empty(({kc}, {fg}), COMPUTE)")
    em.open(f"for q in range({kc}):")
    em.open(f"for f in range({fg}):")
    em.line(f"wg[q, f] = w2[q, g * {fg} + f]")
    em.close(2)


def _gradient_rows(em, op, fg: str, same_dtype: bool) -> str:
    """Source of the chunk's rows of ``g2`` for group ``g`` (copied when the group is a slice)."""
    if op.groups == 1 and same_dtype:
        return "g2[first:first + rows]"
    em.open("for q in range(rows):")
    em.open(f"for f in range({fg}):")
    em.line(f"grads[q, f] = g2[first + q, g * {fg} + f]")
    em.close(2)
    return "grads[:rows]"


def _prologue(em, op, out, batch: str, channels_per_group: str, filters: str) -> tuple[str, str]:
    compute = _compute_dtype(out.dtype)
    em.line(f"COMPUTE = np.{compute}")
    em.line(f"batch = {batch}")
    em.line(f"cg = {channels_per_group}")
    em.line(f"fg = {filters} // {op.groups}")
    return compute, f"({' * '.join(map(str, op.kernel_size))} * cg)"


def _result(em, out, array: str, shape: list[str], compute: str) -> None:
    cast = "" if compute == out.dtype else f".astype(np.{out.dtype})"
    em.line(f"{em.name(out)} = {c_reshape(array + cast, em.tuple_of(shape))}")


@kernel(Conv, imports=IMPORTS, parallel=True)
def conv(em, node):
    _conv(em, node, node.op)


@kernel(ConvEpilogue, imports=IMPORTS, parallel=True)
def conv_epilogue(em, node):
    _conv(em, node, node.op.conv, node.op)


def _epilogue_loads(em, node, epilogue: ConvEpilogue) -> list[str]:
    """Read the epilogue's other operands once, before the parallel loop: the loads of the element of
    output row ``q``, filter ``f``, with the convolution's own at its position."""
    return epilogue.epilogue_operands("res[q, f]", _other_loads(em, node))


def _other_loads(em, node) -> list[str]:
    """The epilogue's operands other than the convolution, read once: their element for filter ``f``."""
    loads = []
    for k, t in enumerate(node.inputs[2:]):
        if t.ndim == 0:
            em.line(f"e{k} = {em.name(t)}[()]")
            loads.append(f"e{k}")
        else:
            em.line(f"e{k} = np.ascontiguousarray({em.name(t)}).reshape(-1)")
            loads.append(f"e{k}[f]" if t.shape[-1] != 1 else f"e{k}[0]")
    return loads


def _apply_epilogue(em, node, epilogue: ConvEpilogue, loads: list[str], filters: str) -> None:
    """The elementwise steps over the chunk's output rows, in place, while they are in cache."""
    x, w, *others = node.inputs
    stand_ins = epilogue.epilogue_operands(_Meta(*epilogue.conv.infer([x, w])), others)
    em.open("for q in range(first, first + rows):")
    em.open(f"for f in range({filters}):")
    program = epilogue.epilogue.program
    em.line(f"res[q, f] = {emit_steps(em, program, loads, stand_ins, replay(program, stand_ins), prefix='v')}")
    em.close(2)


def _conv(em, node, op: Conv, epilogue: ConvEpilogue | None = None) -> None:
    x, w = node.inputs[:2]
    if winograd.applies(op):
        _winograd_conv(em, node, op, epilogue)
        return
    out = node.out
    rank = op.rank
    geo = Geometry.of_conv(em, op, [_size(em, x, 1 + a) for a in range(rank)])
    filters = _size(em, w, rank + 1)
    compute, kc = _prologue(em, op, out, _size(em, x, 0), f"{_size(em, x, rank + 1)} // {op.groups}", filters)
    same = compute == w.dtype
    _chunks(em, geo, kc)
    loads = _epilogue_loads(em, node, epilogue) if epilogue is not None else None
    prologue = len(em.lines)
    em.line(f"res = np.empty((batch * per, {filters}), COMPUTE)")
    loop = _open_parts(em, node, prologue, kc, [("res", (compute, 2, "C", False))],
                       ["prod = np.empty((chunk * per, fg), COMPUTE)"] if op.groups > 1 else [])
    body = loop.body
    body.open(f"for g in range({op.groups}):")
    body.line("c0 = g * cg")
    _kernel_matrix(body, op, em.name(w), kc, filters, "fg", same)
    _open_chunk(body)
    _patch_loops(body, op, geo, "cg", f"cols[r, base + c] = {_at(op, em.name(x))}", "cols[r, base + c] = 0")
    if op.groups == 1:
        _blas(body, "cols[:rows]", "wg", "res[first:first + rows]")
        if epilogue is not None:
            _apply_epilogue(body, node, epilogue, loads, filters)
    else:
        _blas(body, "cols[:rows]", "wg", "prod[:rows]")
        body.open("for q in range(rows):")
        body.open("for f in range(fg):")
        body.line("res[first + q, g * fg + f] = prod[q, f]")
        body.close(2)
    body.close(2)
    _close_parts(em, loop)
    _result(em, out, "res", ["batch", *geo.O, filters], compute)


def _stored(em, node, epilogue: ConvEpilogue, others: list[str]):
    """``finish(value)`` for winograd.forward: the source of the epilogue's result for the convolution's
    ``value`` (its steps emitted into ``em`` first)."""
    x, w, *inputs = node.inputs
    stand_ins = epilogue.epilogue_operands(_Meta(*epilogue.conv.infer([x, w])), inputs)
    program = epilogue.epilogue.program

    def finish(value: str) -> str:
        return emit_steps(em, program, epilogue.epilogue_operands(value, others), stand_ins,
                          replay(program, stand_ins), prefix="v")
    return finish


def _winograd_conv(em, node, op: Conv, epilogue: ConvEpilogue | None) -> None:
    x, w = node.inputs[:2]
    geo = Geometry.of_conv(em, op, [_size(em, x, 1), _size(em, x, 2)])
    compute = _prologue(em, op, node.out, _size(em, x, 0), _size(em, x, 3), _size(em, w, 3))[0]
    others = _other_loads(em, node) if epilogue is not None else None
    kernel = em.name(w)

    def finish(body):
        return (lambda value: value) if epilogue is None else _stored(body, node, epilogue, others)

    _winograd_forward(em, node, compute, "res", x, geo.S, geo.O, geo.lo, ("cg", "fg"),
                      lambda k0, k1: f"{kernel}[{k0}, {k1}, c, f]", finish)


def _winograd_input_grad(em, node, op, sizes: list[str]) -> None:
    """The input's gradient as a forward Winograd convolution of the output's gradient: filters rotated,
    channels and filters swapped, pads ``2 - lo``."""
    gz, w = node.inputs[:2]
    geo = Geometry.of_conv(em, op, sizes, [_size(em, gz, 1), _size(em, gz, 2)])
    compute = _prologue(em, op, node.out, _size(em, gz, 0), _size(em, w, 2), _size(em, w, 3))[0]
    kernel = em.name(w)
    _winograd_forward(em, node, compute, "dx", gz, geo.O, geo.S, [f"2 - ({lo})" for lo in geo.lo], ("fg", "cg"),
                      lambda k0, k1: f"{kernel}[{2 - k0}, {2 - k1}, f, c]", lambda body: lambda value: value)


def _winograd_forward(em, node, compute: str, out: str, src, src_sizes, out_sizes, lo, widths, element,
                      finish) -> None:
    """A forward-form Winograd kernel after its prologue: ``out`` (batch, out_sizes, widths[1]) from ``src``;
    ``element(k0, k1)`` reads the filter (channel ``c``, filter ``f``), ``finish(body)`` gives the body's
    epilogue (winograd.forward)."""
    channels, filters = widths
    winograd.tile_sizes(em, out_sizes)
    winograd.block_size(em, threads.parts(), "cg + fg")
    prologue = len(em.lines)
    winograd.filter_transform(em, element, channels, filters)
    em.line(f"{out} = np.empty((batch, {out_sizes[0]}, {out_sizes[1]}, {filters}), COMPUTE)")
    loop = _open_parts(em, node, prologue, None, [("u", (compute, 3, "C", False)), (out, (compute, 4, "C", False))],
                       [], winograd.forward_buffers(channels, filters, compute))
    winograd.forward(loop.body, out, em.name(src), src_sizes, out_sizes, lo, channels, filters, finish(loop.body))
    _close_parts(em, loop)
    _result(em, node.out, out, ["batch", *out_sizes, filters], compute)


def _winograd_kernel_grad(em, node, op) -> None:
    x, gz = node.inputs
    out = node.out
    geo = Geometry.of_conv(em, op, [_size(em, x, 1), _size(em, x, 2)], [_size(em, gz, 1), _size(em, gz, 2)])
    filters = _size(em, gz, 3)
    compute, _ = _prologue(em, op, out, _size(em, x, 0), _size(em, x, 3), filters)
    winograd.tile_sizes(em, geo.O)
    winograd.block_size(em, threads.parts(), "cg + fg")
    prologue = len(em.lines)
    em.line("totals = np.zeros((parts, 16, cg, fg), COMPUTE)")
    loop = _open_parts(em, node, prologue, None, [("totals", (compute, 4, "C", False))], [],
                       winograd.kernel_grad_buffers("cg", "fg", compute))
    winograd.kernel_grad(loop.body, em.name(x), em.name(gz), geo.S, geo.O, geo.lo, "cg", "fg")
    _close_parts(em, loop)
    winograd.kernel_from_sums(em, "cg", "fg")
    _result(em, out, "total", ["3", "3", "cg", filters], compute)


@kernel(ConvKernelGrad, imports=IMPORTS, parallel=True)
def conv_kernel_grad(em, node):
    x, gz = node.inputs
    op, out = node.op, node.out
    if winograd.applies(op):
        _winograd_kernel_grad(em, node, op)
        return
    rank = op.rank
    geo = Geometry.of_conv(em, op, [_size(em, x, 1 + a) for a in range(rank)],
                           [_size(em, gz, 1 + a) for a in range(rank)])
    filters = _size(em, gz, rank + 1)
    compute, kc = _prologue(em, op, out, _size(em, x, 0), f"{_size(em, x, rank + 1)} // {op.groups}", filters)
    same = compute == gz.dtype
    _chunks(em, geo, kc)
    em.line(f"g2 = np.ascontiguousarray({em.name(gz)}).reshape((batch * per, {filters}))")
    prologue = len(em.lines)
    em.line(f"totals = np.zeros((parts, {kc}, {filters}), COMPUTE)")
    loop = _open_parts(em, node, prologue, kc, [("totals", (compute, 3, "C", False))],
                       ["grads = np.empty((chunk * per, fg), COMPUTE)", f"product = np.empty(({kc}, fg), COMPUTE)"])
    body = loop.body
    body.open(f"for g in range({op.groups}):")
    body.line("c0 = g * cg")
    _open_chunk(body)
    _patch_loops(body, op, geo, "cg", f"cols[r, base + c] = {_at(op, em.name(x))}", "cols[r, base + c] = 0")
    _blas(body, "cols[:rows].T", _gradient_rows(body, op, "fg", same), "product")
    body.open(f"for q in range({kc}):")
    body.open("for f in range(fg):")
    body.line("totals[t, q, g * fg + f] += product[q, f]")
    body.close(4)
    _close_parts(em, loop)
    em.line(f"total = np.zeros(({kc}, {filters}), COMPUTE)")
    em.open("for t in range(parts):")
    em.open(f"for q in range({kc}):")
    em.open(f"for f in range({filters}):")
    em.line("total[q, f] += totals[t, q, f]")
    em.close(3)
    _result(em, out, "total", [*map(str, op.kernel_size), "cg", filters], compute)


@kernel(ConvInputGrad, imports=IMPORTS, parallel=True)
def conv_input_grad(em, node):
    gz, w = node.inputs[:2]
    op, out = node.op, node.out
    rank = op.rank
    if len(node.inputs) == 3:
        sizes = [_size(em, node.inputs[2], 1 + a) for a in range(rank)]
    else:
        sizes = [_transposed_size(op, _size(em, gz, 1 + a), a) for a in range(rank)]
    if winograd.applies(op):
        _winograd_input_grad(em, node, op, sizes)
        return
    geo = Geometry.of_conv(em, op, sizes, [_size(em, gz, 1 + a) for a in range(rank)])
    filters = _size(em, w, rank + 1)
    compute, kc = _prologue(em, op, out, _size(em, gz, 0), _size(em, w, rank), filters)
    same = compute == gz.dtype == w.dtype
    _chunks(em, geo, kc)
    em.line(f"g2 = np.ascontiguousarray({em.name(gz)}).reshape((batch * per, {filters}))")
    prologue = len(em.lines)
    em.line(f"dx = np.zeros({em.tuple_of(['batch', *geo.S, f'cg * {op.groups}'])}, COMPUTE)")
    loop = _open_parts(em, node, prologue, kc, [("dx", (compute, rank + 2, "C", False))],
                       ["grads = np.empty((chunk * per, fg), COMPUTE)"])
    body = loop.body
    body.open(f"for g in range({op.groups}):")
    body.line("c0 = g * cg")
    _kernel_matrix(body, op, em.name(w), kc, filters, "fg", same)
    _open_chunk(body)
    _blas(body, _gradient_rows(body, op, "fg", same), "wg.T", "cols[:rows]")
    _patch_loops(body, op, geo, "cg", f"{_at(op, 'dx')} += cols[r, base + c]")
    body.close(2)
    _close_parts(em, loop)
    _result(em, out, "dx", ["batch", *geo.S, f"cg * {op.groups}"], compute)


def _transposed_size(op, n: str, axis: int) -> str:
    """Source of the transposed convolution's spatial size along ``axis`` (Keras's deconv_output_length)."""
    extent = effective_size(op.kernel_size[axis], op.dilation[axis])
    s = op.strides[axis]
    if op.output_padding is None:
        return f"({n}) * {s} + {max(extent - s, 0)}" if op.padding == "valid" else f"({n}) * {s}"
    pad = extent // 2 if op.padding == "same" else 0
    return f"(({n}) - 1) * {s} + {extent - 2 * pad + op.output_padding[axis]}"
