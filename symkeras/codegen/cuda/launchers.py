"""What the CUDA backend runs for each op: a launcher made once per node when the program is built.

``LAUNCHERS[op type](node, context)`` returns ``run(args) -> list of results``; ``args`` are the node's
input values, device arrays (numba.cuda) or, for small values of the shape arithmetic (``K.shape`` and
what is computed from it), NumPy arrays on the host.  Host values are copied to the device when a kernel
reads them.  An op with no launcher here is an error when the program is built, naming the op (never a
quiet fallback to the CPU).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from symkeras.codegen.cuda import arrays, conv, linalg, loop, misc, nn, random
from symkeras.codegen.cuda import elementwise as ew_kernels
from symkeras.codegen.cuda.compiler import launch, launch_blocks, threads_per_block
from symkeras.codegen.cuda.device import cuda
from symkeras.graph import ops
from symkeras.graph.ops.fused import Fused, FusedGroup, _Meta
from symkeras.graph.ops.reduce import All, Any, Argmax, Argmin, Max, Min, Prod, Sum

LAUNCHERS: dict[type, Callable] = {}


def launcher(*op_types):
    def register(factory):
        for t in op_types:
            LAUNCHERS[t] = factory
        return factory
    return register


def find_launcher(op) -> Callable:
    for klass in type(op).__mro__:
        if klass in LAUNCHERS:
            return LAUNCHERS[klass]
    raise NotImplementedError(f"The cuda backend has no kernel for {op} (op {type(op).__name__}).")


# values -------------------------------------------------------------------------------------------------

def is_host(value) -> bool:
    return isinstance(value, np.ndarray)


def on_device(value):
    """``value`` as a device array (a host array is copied up)."""
    if is_host(value):
        return cuda().to_device(np.asarray(value, order="C"))  # (ascontiguousarray makes 0-d arrays 1-d)
    return value


def flat_scalar(value):
    """A 0-d device array as a 1-element one (kernels index it with [0])."""
    return value.reshape(1) if value.ndim == 0 else value


def empty(shape, dtype):
    return cuda().device_array(tuple(int(s) for s in shape), dtype=np.dtype(dtype))


def contiguous(value):
    """``value`` itself when C-contiguous, else a C-contiguous copy made on the device."""
    if value.is_c_contiguous():
        return value
    return _copy(value)


def _copy(value):
    out = empty(value.shape, value.dtype)
    launch(_copy_kernel(value.ndim, value.dtype.name), out.size, flat_scalar(out), flat_scalar(value))
    return out


@functools.cache
def _copy_kernel(ndim: int, dtype: str):
    meta = [_Meta(dtype, (None,) * ndim)]
    return ew_kernels.elementwise_kernel([(ops.Identity(), (0,))], meta, [0], [dtype], ndim)


def _metas(node) -> list:
    return [_Meta(t.dtype, t.shape) for t in node.inputs]


# elementwise programs and reductions --------------------------------------------------------------------

def _program_launcher(node, program, results: list[int]):
    metas = _metas(node)
    rank = max((len(m.shape) for m in metas), default=0)
    out_dtypes = [o.dtype for o in node.outputs]
    kernel = ew_kernels.elementwise_kernel(program, metas, results, out_dtypes, rank)

    def run(args):
        arrays = [on_device(a) for a in args]
        shape = np.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        outs = [empty(shape, dtype) for dtype in out_dtypes]
        launch(kernel, int(np.prod(shape, dtype=np.int64)), *[flat_scalar(o) for o in outs],
                          *[flat_scalar(a) for a in arrays])
        return outs
    return run


@launcher(Fused)
def _fused(node, context):
    op = node.op
    if op.reduce is None:
        return _program_launcher(node, op.program, [len(op.program) - 1])
    return _reduction_launcher(node, context, op.program, op.reduce)


@launcher(FusedGroup)
def _fused_group(node, context):
    return _program_launcher(node, node.op.program, list(node.op.results))


@launcher(ops.Unary, ops.Binary, ops.Where, ops.FullLike, ops.BroadcastLike)
def _elementwise(node, context):
    return _program_launcher(node, [(node.op, tuple(range(len(node.inputs))))], [0])


class _Reduction:
    """The two kernels of one reduction: a thread an output, or a block an output where each output reduces
    many elements (kinds ew_kernels.BLOCK_KINDS); compiled when first needed."""

    def __init__(self, context, program, metas, kind: str, axes: tuple, keepdims: bool, rank: int, dtype: str):
        self.context = context
        self.spec = (program, metas, kind, axes, keepdims, rank, dtype)
        self.kernels: dict[bool, object] = {}

    def __call__(self, result, space: tuple, arrays) -> None:
        kind, axes = self.spec[2], self.spec[3]
        count = int(np.prod([space[d] for d in axes], dtype=np.int64))
        by_block = kind in ew_kernels.BLOCK_KINDS and count >= 2 * threads_per_block()
        if by_block not in self.kernels:
            make = ew_kernels.block_reduction_kernel if by_block else ew_kernels.reduction_kernel
            self.kernels[by_block] = make(*self.spec)
            self.context.add_kernel(self.kernels[by_block])
        flat = [flat_scalar(a) for a in arrays]
        if by_block:
            launch_blocks(self.kernels[True], result.size, count, space, flat_scalar(result), *flat)
        else:
            launch(self.kernels[False], result.size, space, flat_scalar(result), *flat)


def _reduction_launcher(node, context, program, reduce_op):
    metas = _metas(node)
    rank = max((len(m.shape) for m in metas), default=0)
    axes = tuple(reduce_op.axis)
    reduce = _Reduction(context, program, metas, reduce_op.reduction, axes, reduce_op.keepdims, rank,
                        node.outputs[0].dtype)

    def run(args):
        arrays = [on_device(a) for a in args]
        space = tuple(int(s) for s in np.broadcast_shapes(*[a.shape for a in arrays]))
        shape = tuple(1 if d in axes else s for d, s in enumerate(space)) if reduce_op.keepdims else \
            tuple(s for d, s in enumerate(space) if d not in axes)
        result = empty(shape, node.outputs[0].dtype)
        reduce(result, space, arrays)
        return [result]
    return run


@launcher(Sum, Prod, Max, Min, Any, All)
def _reduction(node, context):
    return _reduction_launcher(node, context, [(ops.Identity(), (0,))], node.op)


@launcher(Argmax, Argmin)
def _arg_reduction(node, context):
    op = node.op
    axis = op.axis % node.inputs[0].ndim
    kind = "argmax" if isinstance(op, Argmax) else "argmin"
    return _reduction_launcher(node, context, [(ops.Identity(), (0,))], _Reduce(kind, (axis,), op.keepdims))


class _Reduce:
    """A reduction's kind, axes and keepdims, as the reduction kernels read them off a reduction op."""

    def __init__(self, reduction: str, axis: tuple, keepdims: bool):
        self.reduction, self.axis, self.keepdims = reduction, axis, keepdims


@launcher(ops.SumToLike)
def _sum_to_like(node, context):
    g_meta = _Meta(node.inputs[0].dtype, node.inputs[0].shape)
    reductions: dict[tuple, _Reduction] = {}

    def run(args):
        g, ref = on_device(args[0]), args[1]
        lead = g.ndim - len(ref.shape)
        axes = tuple(range(lead)) + tuple(lead + j for j, d in enumerate(ref.shape)
                                          if d == 1 and g.shape[lead + j] != 1)
        if not axes:
            return [g]
        if axes not in reductions:
            reductions[axes] = _Reduction(context, [(ops.Identity(), (0,))], [g_meta], "sum", axes, True,
                                          g.ndim, node.out.dtype)
        summed = empty(tuple(1 if d in axes else s for d, s in enumerate(g.shape)), node.out.dtype)
        reductions[axes](summed, tuple(g.shape), [g])
        return [summed.reshape(*ref.shape) if ref.shape else summed.reshape(1).reshape(())]
    return run


# views, shapes and the shape arithmetic ---------------------------------------------------------------

@launcher(ops.Identity, ops.StopGradient)
def _identity(node, context):
    return lambda args: [args[0]]


@launcher(ops.Shape)
def _shape(node, context):
    return lambda args: [np.array(args[0].shape, dtype=node.out.dtype)]


@launcher(ops.ExpandDims, ops.Reshape, ops.ReshapeLike, ops.Squeeze, ops.Flatten)
def _reshape(node, context):
    """A new shape of the same elements: a view of a C-contiguous array (a copy first otherwise)."""
    op = node.op

    def run(args):
        if all(is_host(a) for a in args):
            return [np.asarray(op.perform(args))]
        x = contiguous(on_device(args[0]))
        if isinstance(op, ops.ReshapeLike):
            shape = tuple(args[1].shape)
        else:  # (the op's own shape rule, on a stand-in of x's shape: no memory is touched)
            shape = op.perform([np.empty(x.shape, dtype=np.bool_), *[_host(a) for a in args[1:]]]).shape
        return [x.reshape(*shape) if shape else x.reshape(1).reshape(())]
    return run


@launcher(ops.Subtensor)
def _subtensor(node, context):
    from symkeras.graph.ops.shape import _index_tuple

    index = _index_tuple(node.op.spec)
    new_axes = any(i is None for i in index)

    def run(args):
        (x,) = args
        if is_host(x):
            return [np.asarray(x[index])]
        if not np.empty(x.shape, dtype=np.bool_)[index].shape:
            # one element: a device array indexed by integers gives a host scalar, a slice a view
            at = tuple(slice(i % n, i % n + 1) for i, n in zip(index, x.shape))
            return [contiguous(x[at]).reshape(1).reshape(())]
        if not new_axes:
            return [x[index]]
        view = contiguous(x[tuple(i for i in index if i is not None)])
        return [view.reshape(*np.empty(x.shape, dtype=np.bool_)[index].shape)]
    return run


def _host(value) -> np.ndarray:
    return value if is_host(value) else value.copy_to_host()


@launcher(ops.Allreduce)
def _allreduce(node, context):
    """The inputs fused and reduced on the host, as on the CPU backends (mpi4py's MPI is not CUDA-aware
    here), the results copied back up."""
    def run(args):
        results = node.op.perform([_host(a) for a in args])
        return [on_device(r) for r in (results if node.op.count > 1 else (results,))]
    return run


# the rest: matrix products, softmax, random draws --------------------------------------------------------

LAUNCHERS.update(arrays.LAUNCHERS)
LAUNCHERS.update(conv.LAUNCHERS)
LAUNCHERS.update(misc.LAUNCHERS)
LAUNCHERS[ops.Loop] = loop.loop_launcher
LAUNCHERS[ops.Einsum] = linalg.einsum_launcher
LAUNCHERS[ops.Softmax] = nn.softmax_launcher
LAUNCHERS[ops.LogSoftmax] = nn.softmax_launcher
for _random_op in random.RANDOM_OPS:
    LAUNCHERS[_random_op] = random.random_launcher
