"""The remaining ops on the GPU, one thread per result element: padding, tiling and repeating (and their
gradients), one-hot encoding, batch moments, the exclusive products of Prod's gradient, and
``K.print_tensor`` (which copies its value to the host to print it)."""

from __future__ import annotations

from symkeras.codegen.cuda.compiler import axes_of, compile_kernel, each_thread, launch_size, unflatten
from symkeras.graph.ops.debug import PrintTensor, show
from symkeras.graph.ops.nn import OneHot
from symkeras.graph.ops.reduce import ExclusiveProd, ExclusiveProdGradAtZero, Moments
from symkeras.graph.ops.shape import Pad, RepeatElements, RepeatGrad, Tile, TileGrad

HEADER = "import math\nimport numpy as np\nfrom numba import cuda\n"


def _kernel(params: list[str], rank: int, shape_of: str, lines: list[str]):
    index = unflatten([f"k{d}" for d in range(rank)], axes_of(shape_of, range(rank))) if rank else ["k0 = 0"]
    body = each_thread(f"{shape_of}.size") + ["    " + line for line in index + lines]
    return compile_kernel(params, body, HEADER)


def _at(rank: int, replace: dict | None = None) -> str:
    replace = replace or {}
    return ", ".join(replace.get(d, f"k{d}") for d in range(rank))


def _launcher(make_kernel, out_shape, operands=lambda args: args):
    """A launcher running ``make_kernel(node)`` over an output of ``out_shape(node, arrays)``."""
    def factory(node, context):
        from symkeras.codegen.cuda.launchers import empty, on_device

        kernel = make_kernel(node)

        def run(args):
            arrays = [on_device(a) for a in args]
            out = empty(out_shape(node, [tuple(a.shape) for a in arrays]), node.out.dtype)
            if out.size:
                blocks, threads = launch_size(out.size)
                kernel.function[blocks, threads](out, *operands(arrays))
            return [out]
        return run
    return factory


def _pad_kernel(node):
    op, rank = node.op, node.out.ndim
    inside = " and ".join(f"0 <= k{d} - {lo} < x.shape[{d}]" for d, (lo, _) in enumerate(op.pads)) or "True"
    source = _at(rank, {d: f"k{d} - {lo}" for d, (lo, _) in enumerate(op.pads)})
    value = f"np.{node.out.dtype}({op.value!r})"
    return _kernel(["out", "x"], rank, "out", [f"out[{_at(rank)}] = x[{source}] if {inside} else {value}"])


def _tile_kernel(node):
    rank = node.out.ndim
    return _kernel(["out", "x"], rank, "out",
                   [f"out[{_at(rank)}] = x[{_at(rank, {d: f'k{d} % x.shape[{d}]' for d in range(rank)})}]"])


def _tile_grad_kernel(node):
    """out[j..] = the sum over the tiles t.. of g[t * size + j ..]."""
    op, rank = node.op, node.out.ndim
    lines, depth = ["acc = 0.0"], ""
    for d, reps in enumerate(op.reps):
        lines.append(f"{depth}for t{d} in range({reps}):")
        depth += "    "
    lines.append(f"{depth}acc += g[{_at(rank, {d: f't{d} * out.shape[{d}] + k{d}' for d in range(rank)})}]")
    lines.append(f"out[{_at(rank)}] = np.{node.out.dtype}(acc)")
    return _kernel(["out", "g"], rank, "out", lines)


def _repeat_kernel(node):
    op, rank = node.op, node.out.ndim
    axis = op.axis % rank
    return _kernel(["out", "x"], rank, "out", [f"out[{_at(rank)}] = x[{_at(rank, {axis: f'k{axis} // {op.rep}'})}]"])


def _repeat_grad_kernel(node):
    op, rank = node.op, node.out.ndim
    axis = op.axis % rank
    lines = ["acc = 0.0", f"for t in range({op.rep}):",
             f"    acc += g[{_at(rank, {axis: f'k{axis} * {op.rep} + t'})}]",
             f"out[{_at(rank)}] = np.{node.out.dtype}(acc)"]
    return _kernel(["out", "g"], rank, "out", lines)


def _one_hot_kernel(node):
    rank = node.out.ndim
    index = f"idx[{_at(rank - 1)}]" if rank > 1 else "idx[0]"
    return _kernel(["out", "idx"], rank, "out",
                   [f"out[{_at(rank)}] = np.{node.out.dtype}({index} == k{rank - 1})"])


def _group_loops(axes, lines: list[str]) -> str:
    """Nested loops ``m{a}`` over the reduction group's ``axes``; returns the innermost indentation."""
    depth = ""
    for a in axes:
        lines.append(f"{depth}for m{a} in range(x.shape[{a}]):")
        depth += "    "
    return depth


def _exclusive_prod_kernel(node):
    """out[k..] = the product of the other elements of k..'s group."""
    axes, rank = node.op.axis, node.out.ndim
    lines = ["acc = 1.0"]
    depth = _group_loops(axes, lines)
    other = " or ".join(f"m{a} != k{a}" for a in axes) or "False"
    lines += [f"{depth}if {other}:", f"{depth}    acc *= x[{_at(rank, {a: f'm{a}' for a in axes})}]",
              f"out[{_at(rank)}] = np.{node.out.dtype}(acc)"]
    return _kernel(["out", "x"], rank, "out", lines)


def _exclusive_prod_grad_at_zero_kernel(node):
    """out[j] = the sum over the other elements m of j's group of gz[m] times the product of the rest (j and
    m left out), where x[j] is zero; elsewhere 0 (ExclusiveProdGradAtZero)."""
    axes, rank = node.op.axis, node.out.ndim
    lines = ["acc = 0.0", f"if x[{_at(rank)}] == 0:"]
    depth = "    "
    for a in axes:
        lines.append(f"{depth}for m{a} in range(x.shape[{a}]):")
        depth += "    "
    lines += [f"{depth}if {' or '.join(f'm{a} != k{a}' for a in axes) or 'False'}:",
              f"{depth}    term = np.float64(gz[{_at(rank, {a: f'm{a}' for a in axes})}])"]
    deeper = depth + "    "
    for a in axes:
        lines.append(f"{deeper}for n{a} in range(x.shape[{a}]):")
        deeper += "    "
    not_j = " or ".join(f"n{a} != k{a}" for a in axes) or "False"
    not_m = " or ".join(f"n{a} != m{a}" for a in axes) or "False"
    lines += [f"{deeper}if ({not_j}) and ({not_m}):",
              f"{deeper}    term *= x[{_at(rank, {a: f'n{a}' for a in axes})}]",
              f"{depth}    acc += term",
              f"out[{_at(rank)}] = np.{node.out.dtype}(acc)"]
    return _kernel(["out", "x", "gz"], rank, "out", lines)


def moments_launcher(node, context):
    """The mean and the variance over the op's axes (two passes over each group, in float64)."""
    from symkeras.codegen.cuda.launchers import empty, on_device

    op = node.op
    rank = node.inputs[0].ndim
    axes = tuple(op.axis)
    kept = [d for d in range(rank) if d not in axes]
    lines = unflatten([f"k{d}" for d in kept], axes_of("x", kept))
    at = ", ".join(f"m{d}" if d in axes else f"k{d}" for d in range(rank))
    where = ", ".join("0" if d in axes else f"k{d}" for d in range(rank)) if op.keepdims else \
        ", ".join(f"k{d}" for d in kept)
    dtype = node.outputs[0].dtype
    for name, expr in (("total", f"np.float64(x[{at}])"), ("spread", f"(np.float64(x[{at}]) - mean) ** 2")):
        lines.append(f"{name} = 0.0")
        depth = _group_loops(axes, lines)
        lines.append(f"{depth}{name} += {expr}")
        if name == "total":
            lines.append("mean = total / count")
    lines += [f"mean_out[{where or '0'}] = np.{dtype}(mean)", f"var_out[{where or '0'}] = np.{dtype}(spread / count)"]
    body = each_thread("n") + ["    " + line for line in lines]
    kernel = compile_kernel(["n", "count", "x", "mean_out", "var_out"], body, HEADER)

    def run(args):
        x = on_device(args[0])
        shape = tuple(x.shape)
        out_shape = tuple(1 if d in axes else s for d, s in enumerate(shape)) if op.keepdims else \
            tuple(s for d, s in enumerate(shape) if d not in axes)
        mean, var = empty(out_shape, dtype), empty(out_shape, dtype)
        n, count = mean.size, 1
        for a in axes:
            count *= shape[a]
        if n:
            blocks, threads = launch_size(n)
            flat = [o.reshape(1) if o.ndim == 0 else o for o in (mean, var)]
            kernel.function[blocks, threads](n, count, x, *flat)
        return [mean, var]
    return run


def print_tensor_launcher(node, context):
    def run(args):
        value = args[0]
        show(node.op.message, value if not hasattr(value, "copy_to_host") else value.copy_to_host())
        return [value]
    return run


def _shape_of_pad(node, shapes):
    return tuple(s + lo + hi for s, (lo, hi) in zip(shapes[0], node.op.pads))


def _shape_of_repeat(node, shapes, divide=False):
    shape = list(shapes[0])
    axis = node.op.axis % len(shape)
    shape[axis] = shape[axis] // node.op.rep if divide else shape[axis] * node.op.rep
    return tuple(shape)


LAUNCHERS = {
    Pad: _launcher(_pad_kernel, _shape_of_pad),
    Tile: _launcher(_tile_kernel, lambda node, s: tuple(d * r for d, r in zip(s[0], node.op.reps))),
    TileGrad: _launcher(_tile_grad_kernel, lambda node, s: tuple(d // r for d, r in zip(s[0], node.op.reps))),
    RepeatElements: _launcher(_repeat_kernel, _shape_of_repeat),
    RepeatGrad: _launcher(_repeat_grad_kernel, lambda node, s: _shape_of_repeat(node, s, divide=True)),
    OneHot: _launcher(_one_hot_kernel, lambda node, s: s[0] + (node.op.num_classes,),
                      lambda arrays: [a.reshape(1) if a.ndim == 0 else a for a in arrays]),
    ExclusiveProd: _launcher(_exclusive_prod_kernel, lambda node, s: s[0]),
    ExclusiveProdGradAtZero: _launcher(_exclusive_prod_grad_at_zero_kernel, lambda node, s: s[0]),
    Moments: moments_launcher,
    PrintTensor: print_tensor_launcher,
}
