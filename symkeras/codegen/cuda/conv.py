"""Convolutions and pooling on the GPU, 1-3 spatial axes, channels_last.

A convolution (groups 1) is a patch matrix and a matrix product on the register-tiled GEMM kernel
(linalg.py): ``cols[(n, o..), (k.., c)]`` holds the input element each tap of each output position reads
(0 in the padding), and out = cols @ w (w seen as (taps x channels, filters)); the kernel's gradient is
cols^T @ gz and the input's the patch matrix's gradient gz @ w^T summed back onto the input positions
(each input element gathers from the taps that read it: no atomics).  Grouped convolutions and pooling run
as direct loops: one thread per result element (an output position and filter; an input position and
channel for the input's gradient; a kernel tap for the kernel's), looping over the window and channels it
sums.  Zero padding is the bounds test of each tap.  The geometry (output sizes and pads) is the op's own
``geometry`` on the run-time sizes, so every padding mode means what the reference says.
"""

from __future__ import annotations

from symkeras.codegen.cuda.compiler import axes_of, compile_kernel, each_thread, launch_size, unflatten
from symkeras.graph.ops.conv import Conv, ConvInputGrad, ConvKernelGrad
from symkeras.graph.ops.conv_epilogue import ConvEpilogue
from symkeras.graph.ops.pool import AvgPool, AvgPoolGrad, MaxPool, MaxPoolGrad, MaxPoolSelect

HEADER = "import math\nimport numpy as np\nfrom numba import cuda\n"


def _kernel(params: list[str], shape_of: str, names: list[str], lines: list[str]):
    body = each_thread(f"{shape_of}.size")
    body += ["    " + line for line in unflatten(names, axes_of(shape_of, range(len(names)))) + lines]
    return compile_kernel(params, body, HEADER)


def _nest(lines: list[str], depth: int, text: str) -> int:
    lines.append("    " * depth + text)
    return depth + 1


def _run(kernel, out, *args) -> None:
    if out.size:
        blocks, threads = launch_size(out.size)
        kernel.function[blocks, threads](*args)


# convolutions -----------------------------------------------------------------------------------------------

def _conv_kernel(op, dtype: str):
    """out[n, o.., f] = sum over taps k.. and the group's channels c of x[n, o*s + k*d - lo, c] w[k.., c, f]."""
    rank = op.rank
    o = [f"o{a}" for a in range(rank)]
    lines = [f"g = f // (w.shape[{rank + 1}] // {op.groups})", f"cg = w.shape[{rank}]", f"acc = np.{dtype}(0)"]
    depth = 0
    for a in range(rank):
        depth = _nest(lines, depth, f"for k{a} in range({op.kernel_size[a]}):")
        lines.append("    " * depth + f"p{a} = o{a} * {op.strides[a]} + k{a} * {op.dilation[a]} - pads[{a}]")
        depth = _nest(lines, depth, f"if 0 <= p{a} < x.shape[{a + 1}]:")
    depth = _nest(lines, depth, "for c in range(cg):")
    taps = ", ".join(f"k{a}" for a in range(rank))
    spots = ", ".join(f"p{a}" for a in range(rank))
    lines.append("    " * depth + f"acc += np.{dtype}(x[n, {spots}, g * cg + c]) * np.{dtype}(w[{taps}, c, f])")
    lines.append(f"out[n, {', '.join(o)}, f] = acc")
    return _kernel(["x", "w", "out", "pads"], "out", ["n", *o, "f"], lines)


def _input_grad_kernel(op, dtype: str):
    """gx[n, p.., c] = sum over taps k.. whose output position o = (p + lo - k*d) / s exists, and the
    group's filters f, of gz[n, o.., f] w[k.., c - g*cg, f]."""
    rank = op.rank
    p = [f"p{a}" for a in range(rank)]
    lines = [f"cg = w.shape[{rank}]", "g = c // cg", f"fg = w.shape[{rank + 1}] // {op.groups}", f"acc = np.{dtype}(0)"]
    depth = 0
    for a in range(rank):
        depth = _nest(lines, depth, f"for k{a} in range({op.kernel_size[a]}):")
        lines.append("    " * depth + f"q{a} = p{a} + pads[{a}] - k{a} * {op.dilation[a]}")
        depth = _nest(lines, depth, f"if q{a} >= 0 and q{a} % {op.strides[a]} == 0 and "
                                    f"q{a} // {op.strides[a]} < gz.shape[{a + 1}]:")
    depth = _nest(lines, depth, "for ff in range(fg):")
    spots = ", ".join(f"q{a} // {op.strides[a]}" for a in range(rank))
    taps = ", ".join(f"k{a}" for a in range(rank))
    lines.append("    " * depth + f"acc += np.{dtype}(gz[n, {spots}, g * fg + ff]) * "
                                  f"np.{dtype}(w[{taps}, c - g * cg, g * fg + ff])")
    lines.append(f"out[n, {', '.join(p)}, c] = acc")
    return _kernel(["gz", "w", "out", "pads"], "out", ["n", *p, "c"], lines)


def _kernel_grad_kernel(op, dtype: str):
    """gw[k.., c, f] = sum over samples n and output positions o.. of x[n, o*s + k*d - lo, g*cg + c] gz[n, o.., f]
    (accumulated in float64: each tap sums over every sample and position)."""
    rank = op.rank
    k = [f"k{a}" for a in range(rank)]
    lines = [f"g = f // (gz.shape[{rank + 1}] // {op.groups})", f"cg = out.shape[{rank}]", "acc = 0.0"]
    depth = _nest(lines, 0, "for n in range(x.shape[0]):")
    for a in range(rank):
        depth = _nest(lines, depth, f"for o{a} in range(gz.shape[{a + 1}]):")
        lines.append("    " * depth + f"p{a} = o{a} * {op.strides[a]} + k{a} * {op.dilation[a]} - pads[{a}]")
        depth = _nest(lines, depth, f"if 0 <= p{a} < x.shape[{a + 1}]:")
    spots = ", ".join(f"p{a}" for a in range(rank))
    outs = ", ".join(f"o{a}" for a in range(rank))
    lines.append("    " * depth + f"acc += np.float64(x[n, {spots}, g * cg + c]) * np.float64(gz[n, {outs}, f])")
    lines.append(f"out[{', '.join(k)}, c, f] = np.{dtype}(acc)")
    return _kernel(["x", "gz", "out", "pads"], "out", [*k, "c", "f"], lines)


def _lows(pads) -> tuple:
    return tuple(int(lo) for lo, _ in pads)


# convolutions of one group as patch matrices and matrix products ---------------------------------------------

def _patches_kernel(op, dtype: str):
    """cols[row, col]: row (n, o..) over ``space`` (the batch and the output's spatial sizes), col (k.., c):
    x[n, o*s + k*d - lo, c], or 0 where that lies in the padding."""
    rank = op.rank
    body = each_thread("cols.size") + ["    row = i // cols.shape[1]", "    col = i - row * cols.shape[1]"]
    lines = unflatten(["n", *[f"o{a}" for a in range(rank)]], [f"space[{a}]" for a in range(rank + 1)], "row")
    lines += unflatten([*[f"k{a}" for a in range(rank)], "c"], [*map(str, op.kernel_size), f"x.shape[{rank + 1}]"],
                       "col")
    inside = []
    for a in range(rank):
        lines.append(f"p{a} = o{a} * {op.strides[a]} + k{a} * {op.dilation[a]} - pads[{a}]")
        inside.append(f"0 <= p{a} < x.shape[{a + 1}]")
    spots = ", ".join(f"p{a}" for a in range(rank))
    lines += [f"v = np.{dtype}(0)", f"if {' and '.join(inside)}:", f"    v = np.{dtype}(x[n, {spots}, c])",
              "cols[row, col] = v"]
    return compile_kernel(["x", "cols", "space", "pads"], body + ["    " + line for line in lines], HEADER)


def _patches_grad_kernel(op, dtype: str):
    """gx[n, p.., c] = the sum, over the taps k.. whose output position o = (p + lo - k*d) / s exists, of
    gcols[(n, o..), (k.., c)] (``space``: the batch and the output's spatial sizes)."""
    rank = op.rank
    lines = ["acc = 0.0"]
    depth = 0
    for a in range(rank):
        depth = _nest(lines, depth, f"for k{a} in range({op.kernel_size[a]}):")
        lines.append("    " * depth + f"q{a} = p{a} + pads[{a}] - k{a} * {op.dilation[a]}")
        depth = _nest(lines, depth, f"if q{a} >= 0 and q{a} % {op.strides[a]} == 0 and "
                                    f"q{a} // {op.strides[a]} < space[{a + 1}]:")
    row, col = "n", "0"
    for a in range(rank):
        row = f"({row}) * space[{a + 1}] + q{a} // {op.strides[a]}"
        col = f"({col}) * {op.kernel_size[a]} + k{a}"
    lines.append("    " * depth + f"acc += np.float64(gcols[{row}, ({col}) * out.shape[{rank + 1}] + c])")
    lines.append(f"out[n, {', '.join(f'p{a}' for a in range(rank))}, c] = np.{dtype}(acc)")
    return _kernel(["gcols", "out", "space", "pads"], "out", ["n", *[f"p{a}" for a in range(rank)], "c"], lines)


def _matmul(spec: str, a_dtype: str, b_dtype: str, context):
    """The matrix product ``spec`` (an einsum of two matrices) on the register-tiled kernel: run([a, b])."""
    from symkeras.codegen.cuda.linalg import einsum_launcher
    from symkeras.graph.basic import placeholder
    from symkeras.graph.ops.linalg import Einsum

    node = Einsum(spec).make_node(placeholder((None, None), dtype=a_dtype), placeholder((None, None), dtype=b_dtype))
    return einsum_launcher(node, context)


def _as_matrix(array, rows: int):
    """A C-contiguous device array seen as ``rows`` rows (a view)."""
    return array.reshape(rows, array.size // rows if rows else 0)


class _Patches:
    """The patch matrix of x for ``op`` (groups 1) and, with ``summing_back``, its gradient's sum back onto
    x: each launcher compiles the one kernel it launches (a GPU compile is a fraction of a second)."""

    def __init__(self, op, dtype: str, summing_back: bool = False):
        self.op, self.dtype = op, dtype
        self.forward = None if summing_back else _patches_kernel(op, dtype)
        self.backward = _patches_grad_kernel(op, dtype) if summing_back else None

    def matrix(self, x, out_spatial, pads):
        from symkeras.codegen.cuda.launchers import contiguous, empty

        x = contiguous(x)
        xs = tuple(x.shape)  # (the simulator's shapes take no negative index)
        taps = 1
        for k in self.op.kernel_size:
            taps *= k
        rows = xs[0]
        for o in out_spatial:
            rows *= o
        cols = empty((rows, taps * xs[-1]), self.dtype)
        _run(self.forward, cols, x, cols, (xs[0], *out_spatial), _lows(pads))
        return cols

    def summed_back(self, gcols, x_shape, out_spatial, pads):
        from symkeras.codegen.cuda.launchers import empty

        out = empty(tuple(x_shape), self.dtype)
        _run(self.backward, out, gcols, out, (x_shape[0], *out_spatial), _lows(pads))
        return out


def conv_launcher(node, context):
    return _conv_runner(node.op, node.inputs[1].dtype, node.out.dtype, context)


def _conv_runner(op, w_dtype: str, dtype: str, context):
    from symkeras.codegen.cuda.launchers import contiguous, empty, on_device

    if op.groups == 1:
        patches = _Patches(op, dtype)
        product = _matmul("ab,bc->ac", dtype, w_dtype, context)
    else:
        kernel = _conv_kernel(op, dtype)

    def run(args):
        x, w = on_device(args[0]), on_device(args[1])
        xs, ws = tuple(x.shape), tuple(w.shape)
        out_spatial, pads = op.geometry(xs[1:-1])
        if any(o < 1 for o in out_spatial):
            raise ValueError(f"Convolution: input of spatial shape {xs[1:-1]} is smaller than the kernel "
                             f"{op.kernel_size} ({op.padding}).")
        if op.groups == 1:
            cols = patches.matrix(x, out_spatial, pads)
            (out,) = product([cols, _as_matrix(contiguous(w), cols.shape[1])])
            return [out.reshape(xs[0], *out_spatial, ws[-1])]
        out = empty((xs[0], *out_spatial, ws[-1]), dtype)
        _run(kernel, out, x, w, out, _lows(pads))
        return [out]
    return run


def conv_input_grad_launcher(node, context):
    from symkeras.codegen.cuda.launchers import contiguous, empty, on_device

    op = node.op
    dtype = node.out.dtype
    if op.groups == 1:
        patches = _Patches(op, dtype, summing_back=True)
        product = _matmul("ab,cb->ac", node.inputs[0].dtype, node.inputs[1].dtype, context)  # gz w^T
    else:
        kernel = _input_grad_kernel(op, dtype)

    def run(args):
        gz, w = on_device(args[0]), on_device(args[1])
        gs, ws = tuple(gz.shape), tuple(w.shape)
        x_spatial = op.out_spatial(gs, tuple(args[2].shape) if len(args) == 3 else None)
        out_spatial, pads = op.geometry(x_spatial)
        if gs[1:-1] != tuple(out_spatial):
            raise ValueError(f"Transposed convolution: an input of spatial shape {gs[1:-1]} does not "
                             f"come from a convolution of spatial shape {x_spatial} (that gives {out_spatial}).")
        x_shape = (gs[0], *x_spatial, ws[-2] * op.groups)
        if op.groups == 1:
            rows = gz.size // gs[-1] if gs[-1] else 0
            (gcols,) = product([_as_matrix(contiguous(gz), rows), _as_matrix(contiguous(w), w.size // ws[-1])])
            return [patches.summed_back(gcols, x_shape, out_spatial, pads)]
        out = empty(x_shape, dtype)
        _run(kernel, out, gz, w, out, _lows(pads))
        return [out]
    return run


def conv_kernel_grad_launcher(node, context):
    from symkeras.codegen.cuda.launchers import contiguous, empty, on_device

    op = node.op
    dtype = node.out.dtype
    if op.groups == 1:
        patches = _Patches(op, node.inputs[0].dtype)
        product = _matmul("ba,bc->ac", node.inputs[0].dtype, node.inputs[1].dtype, context)  # cols^T gz
    else:
        kernel = _kernel_grad_kernel(op, dtype)

    def run(args):
        x, gz = on_device(args[0]), on_device(args[1])
        xs, gs = tuple(x.shape), tuple(gz.shape)
        out_spatial, pads = op.geometry(xs[1:-1])
        shape = (*op.kernel_size, xs[-1] // op.groups, gs[-1])
        if op.groups == 1:
            cols = patches.matrix(x, out_spatial, pads)
            (out,) = product([cols, _as_matrix(contiguous(gz), cols.shape[0])])
            return [out.reshape(*shape)]
        out = empty(shape, dtype)
        _run(kernel, out, x, gz, out, _lows(pads))
        return [out]
    return run


def conv_epilogue_launcher(node, context):
    """The convolution, then its elementwise epilogue as one kernel over the result."""
    from types import SimpleNamespace

    from symkeras.codegen.cuda.launchers import _program_launcher
    from symkeras.graph.ops.fused import _Meta

    op = node.op
    x, w, *others = node.inputs
    conv_meta = _Meta(*op.conv.infer([x, w]))
    conv = _conv_runner(op.conv, w.dtype, conv_meta.dtype, context)
    stand_in = SimpleNamespace(inputs=op.epilogue_operands(conv_meta, others), outputs=node.outputs)
    epilogue = _program_launcher(stand_in, op.epilogue.program, [len(op.epilogue.program) - 1])

    def run(args):
        (z,) = conv(args[:2])
        return epilogue(op.epilogue_operands(z, list(args[2:])))
    return run


# pooling ------------------------------------------------------------------------------------------------------

def _window(op, names: list[str], lines: list[str], pos: str = "p") -> int:
    """Loops over the taps t.. of the window of output position ``names``, in window order, each tap's
    input position ``{pos}0..``; returns the depth of the innermost body."""
    depth = 0
    for a in range(op.rank):
        depth = _nest(lines, depth, f"for t{a} in range({op.pool_size[a]}):")
        lines.append("    " * depth + f"{pos}{a} = {names[a]} * {op.strides[a]} + t{a} - pads[{a}]")
    return depth


def _first_max_lines(op, source: str, names: list[str], channel: str, pos: str = "p") -> list[str]:
    """``slot``: the window-order number of the first maximum of the window of position ``names`` (padded
    taps never win; a window of NaNs keeps tap 0, as the reference)."""
    lines = ["best = -math.inf", "slot = 0", "tap = 0"]
    depth = _window(op, names, lines, pos)
    inside = " and ".join(f"0 <= {pos}{a} < {source}.shape[{a + 1}]" for a in range(op.rank))
    spots = ", ".join(f"{pos}{a}" for a in range(op.rank))
    lines += ["    " * depth + f"cand = {source}[n, {spots}, {channel}] if {inside} else -math.inf",
              "    " * depth + "if cand > best:", "    " * depth + "    best = cand", "    " * depth + "    slot = tap",
              "    " * depth + "tap += 1"]
    return lines


def _tap_of(op, slot: str) -> list[str]:
    """The window offsets ``u..`` of window tap number ``slot`` (window order)."""
    lines, rest = [], slot
    for a in range(op.rank - 1, 0, -1):
        lines += [f"u{a} = {rest} % {op.pool_size[a]}", f"rr = {rest} // {op.pool_size[a]}"]
        rest = "rr"
    lines.append(f"u0 = {rest}")
    return lines


def _max_pool_kernel(op, dtype: str, select: bool):
    """MaxPool (``select``: MaxPoolSelect, v's value at x's first maximum) of one output element."""
    o = [f"o{a}" for a in range(op.rank)]
    lines = _first_max_lines(op, "x", o, "c") + _tap_of(op, "slot")
    spots = ", ".join(f"e{a}" for a in range(op.rank))
    lines += [f"e{a} = o{a} * {op.strides[a]} + u{a} - pads[{a}]" for a in range(op.rank)]
    inside = " and ".join(f"0 <= e{a} < x.shape[{a + 1}]" for a in range(op.rank))
    source, fallback = ("v", "0") if select else ("x", "-math.inf")
    lines.append(f"out[n, {', '.join(o)}, c] = np.{dtype}({source}[n, {spots}, c] if {inside} else {fallback})")
    return _kernel(["x", "v", "out", "pads"], "out", ["n", *o, "c"], lines)


def _windows_holding(op, lines: list[str]) -> int:
    """Loops over the windows whose taps u.. hold input position p..: window position w..; returns the depth."""
    depth = 0
    for a in range(op.rank):
        depth = _nest(lines, depth, f"for u{a} in range({op.pool_size[a]}):")
        lines.append("    " * depth + f"q{a} = p{a} + pads[{a}] - u{a}")
        depth = _nest(lines, depth, f"if q{a} >= 0 and q{a} % {op.strides[a]} == 0 and "
                                    f"q{a} // {op.strides[a]} < gz.shape[{a + 1}]:")
    for a in range(op.rank):
        lines.append("    " * depth + f"w{a} = q{a} // {op.strides[a]}")
    return depth


def _max_pool_grad_kernel(op, dtype: str):
    """gx[n, p.., c]: the sum of gz over the windows whose first maximum is at p.."""
    p = [f"p{a}" for a in range(op.rank)]
    lines = [f"acc = np.{dtype}(0)"]
    depth = _windows_holding(op, lines)
    mine = "u0"
    for a in range(1, op.rank):
        mine = f"({mine}) * {op.pool_size[a]} + u{a}"
    lines += ["    " * depth + line for line in _first_max_lines(op, "x", [f"w{a}" for a in range(op.rank)], "c", "z")]
    spots = ", ".join(f"w{a}" for a in range(op.rank))
    lines += ["    " * depth + f"if slot == {mine}:", "    " * depth + f"    acc += np.{dtype}(gz[n, {spots}, c])"]
    lines.append(f"out[n, {', '.join(p)}, c] = acc")
    return _kernel(["x", "gz", "out", "pads"], "out", ["n", *p, "c"], lines)


def _avg_pool_kernel(op, dtype: str):
    o = [f"o{a}" for a in range(op.rank)]
    lines = ["total = 0.0", "count = 0"]
    depth = _window(op, o, lines)
    inside = " and ".join(f"0 <= p{a} < x.shape[{a + 1}]" for a in range(op.rank))
    spots = ", ".join(f"p{a}" for a in range(op.rank))
    lines += ["    " * depth + f"if {inside}:", "    " * depth + f"    total += np.float64(x[n, {spots}, c])",
              "    " * depth + "    count += 1"]
    lines.append(f"out[n, {', '.join(o)}, c] = np.{dtype}(total / count)")
    return _kernel(["x", "out", "pads"], "out", ["n", *o, "c"], lines)


def _avg_pool_grad_kernel(op, dtype: str):
    """gx[n, p.., c] = the sum over the windows holding p.. of gz / (that window's count of input taps)."""
    p = [f"p{a}" for a in range(op.rank)]
    lines = ["acc = 0.0"]
    depth = _windows_holding(op, lines)
    lines.append("    " * depth + "count = 1")
    for a in range(op.rank):
        first = f"w{a} * {op.strides[a]} - pads[{a}]"
        lines.append("    " * depth + f"count *= min({first} + {op.pool_size[a]}, out.shape[{a + 1}]) "
                                      f"- max({first}, 0)")
    spots = ", ".join(f"w{a}" for a in range(op.rank))
    lines.append("    " * depth + f"acc += np.float64(gz[n, {spots}, c]) / count")
    lines.append(f"out[n, {', '.join(p)}, c] = np.{dtype}(acc)")
    return _kernel(["gz", "out", "pads"], "out", ["n", *p, "c"], lines)


def _pool_launcher(make, operands, pooled: bool, geometry_from: int = 0):
    """A pooling op's launcher: ``make(op, dtype)`` its kernel, ``operands(arrays)`` the arrays it reads;
    the result pooled-shaped (``pooled``) or shaped like input ``geometry_from``, whose spatial sizes give
    the geometry."""
    def factory(node, context):
        from symkeras.codegen.cuda.launchers import empty, on_device

        op = node.op
        kernel = make(op, node.out.dtype)

        def run(args):
            arrays = [on_device(a) for a in args]
            base = tuple(arrays[geometry_from].shape)
            out_spatial, pads = op.geometry(base[1:-1])
            shape = (base[0], *out_spatial, base[-1]) if pooled else base
            out = empty(shape, node.out.dtype)
            _run(kernel, out, *operands(arrays), out, _lows(pads))
            return [out]
        return run
    return factory


LAUNCHERS = {
    Conv: conv_launcher, ConvInputGrad: conv_input_grad_launcher, ConvKernelGrad: conv_kernel_grad_launcher,
    ConvEpilogue: conv_epilogue_launcher,
    MaxPool: _pool_launcher(lambda op, dtype: _max_pool_kernel(op, dtype, False), lambda a: [a[0], a[0]], True),
    MaxPoolSelect: _pool_launcher(lambda op, dtype: _max_pool_kernel(op, dtype, True), lambda a: a[:2], True),
    MaxPoolGrad: _pool_launcher(_max_pool_grad_kernel, lambda a: a[:2], False),
    AvgPool: _pool_launcher(_avg_pool_kernel, lambda a: a[:1], True),
    AvgPoolGrad: _pool_launcher(_avg_pool_grad_kernel, lambda a: a[:1], False, geometry_from=1),
}
