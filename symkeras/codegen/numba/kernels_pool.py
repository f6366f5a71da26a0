"""Pooling kernels: direct loops over output positions and window offsets, the channels innermost."""

from __future__ import annotations

import numpy as np

from symkeras.codegen.numba.emitter import int_max, int_min
from symkeras.codegen.numba.loops import SHARED_WIDTH, SPLIT_ELEMENTS
from symkeras.codegen.numba.registry import kernel
from symkeras.codegen.numba.windows import Geometry
from symkeras.codegen.scalar import lit
from symkeras.graph import dtypes
from symkeras.graph.ops.pool import AvgPool, AvgPoolGrad, MaxPool, MaxPoolGrad, MaxPoolSelect


def _lowest(dtype: str) -> str:
    return lit(-np.inf if dtypes.is_float(dtype) else np.iinfo(dtype).min, dtype)


def _samples(em, node, batch: str, scratch: list[str]) -> None:
    """Open the loop over samples ``n``, with the per-channel ``scratch`` buffers of each sample; a large
    sample (see loops.SPLIT_ELEMENTS) shares the samples out over Numba's threads."""
    split = node.inputs[0].shape[0] is None and None not in node.inputs[0].shape[1:] and \
        int(np.prod(node.inputs[0].shape[1:])) >= SPLIT_ELEMENTS
    em.target.parallel = em.target.parallel or split
    em.open(f"for n in {'numba.prange' if split else 'range'}({batch}):")
    for line in scratch:
        em.line(line)


def _windows(em, node, geo: Geometry, batch: str, body, before=None, after=None, scratch=()) -> None:
    """For each sample ``n`` and output position ``p0..``: ``before()``, then ``body()`` at every input
    position ``i0..`` of the window (padding skipped), then ``after()``."""
    op = node.op
    rank = op.rank
    _samples(em, node, batch, list(scratch))
    for a in range(rank):
        em.open(f"for p{a} in range({geo.O[a]}):")
        em.line(f"b{a} = p{a} * {op.strides[a]} - {geo.lo[a]}")
    if before is not None:
        before()
    for a in range(rank):
        em.open(f"for k{a} in range({op.pool_size[a]}):")
        em.line(f"i{a} = b{a} + k{a}")
        em.open(f"if 0 <= i{a} < {geo.S[a]}:")
    body()
    em.close(2 * rank)
    if after is not None:
        after()
    em.close(rank + 1)


def _at(array: str, rank: int) -> str:
    """The element of ``array`` of sample ``n`` at input position ``i0..``, channel ``c``."""
    return f"{array}[n, {', '.join(f'i{a}' for a in range(rank))}, c]"


def _setup(em, op, x, channels_of) -> tuple[Geometry, str, str]:
    """The window geometry over ``x``'s spatial sizes, the batch size and the channel count (sources)."""
    rank = op.rank
    geo = Geometry.of_pool(em, op, [em.dim(x, 1 + a) for a in range(rank)])
    return geo, em.dim(x, 0), _channels(em, channels_of, rank + 1)


def _channels(em, t, axis: int) -> str:
    """The channel count: read from the array when it is at least SHARED_WIDTH, so that layers with
    different filter counts share their pooling kernels (a small literal count lets LLVM unroll the
    channel loop)."""
    static = t.shape[axis]
    return em.shared_dim(t, axis) if static is not None and static >= SHARED_WIDTH else em.dim(t, axis)


def _sizes(em, x) -> list[str]:
    """``x``'s sizes, its channel count as _channels gives it."""
    return [*em.dims(x)[:-1], _channels(em, x, x.ndim - 1)]


def _track_maxima(em, op, x: str, channels: str) -> None:
    """``best``/``at0..``: the first maximum of the window per channel and where it is."""
    rank = op.rank
    em.open(f"for c in range({channels}):")
    em.line(f"v = {_at(x, rank)}")
    em.open("if v > best[c]:")
    em.line("best[c] = v")
    for a in range(rank):
        em.line(f"at{a}[c] = i{a}")
    em.close(2)


def _reset_maxima(em, op, channels: str, dtype: str) -> None:
    em.open(f"for c in range({channels}):")
    em.line(f"best[c] = {_lowest(dtype)}")
    for a in range(op.rank):
        em.line(f"at{a}[c] = 0")
    em.close()


def _maxima_buffers(op, channels: str, dtype: str) -> list[str]:
    return [f"best = np.empty({channels}, np.{dtype})"] + \
        [f"at{a} = np.empty({channels}, np.int64)" for a in range(op.rank)]


def _out_position(rank: int) -> str:
    return ", ".join(f"p{a}" for a in range(rank))


@kernel(MaxPool)
def max_pool(em, node):
    (x,) = node.inputs
    op, rank = node.op, node.op.rank
    geo, batch, channels = _setup(em, op, x, x)
    out = em.name(node.out)
    em.line(f"{out} = np.empty({em.tuple_of([batch, *geo.O, channels])}, np.{x.dtype})")

    def reset():
        em.open(f"for c in range({channels}):")
        em.line(f"best[c] = {_lowest(x.dtype)}")
        em.close()

    def body():
        em.open(f"for c in range({channels}):")
        em.line(f"v = {_at(em.name(x), rank)}")
        em.line("if v > best[c]:")
        em.line("    best[c] = v")
        em.close()

    def store():
        em.open(f"for c in range({channels}):")
        em.line(f"{out}[n, {_out_position(rank)}, c] = best[c]")
        em.close()

    _windows(em, node, geo, batch, body, reset, store, [f"best = np.empty({channels}, np.{x.dtype})"])


@kernel(MaxPoolGrad)
def max_pool_grad(em, node):
    x, gz = node.inputs
    op, rank = node.op, node.op.rank
    if op.strides == op.pool_size:
        return _max_pool_grad_tiled(em, node)
    geo, batch, channels = _setup(em, op, x, x)
    out = em.name(node.out)
    em.filled(out, _sizes(em, x), "0", f"np.{node.out.dtype}")

    def route():
        em.open(f"for c in range({channels}):")
        em.line(f"{_routed(out, rank)} += {em.name(gz)}[n, {_out_position(rank)}, c]")
        em.close()

    _windows(em, node, geo, batch, lambda: _track_maxima(em, op, em.name(x), channels),
             lambda: _reset_maxima(em, op, channels, x.dtype), route, _maxima_buffers(op, channels, x.dtype))


def _max_pool_grad_tiled(em, node) -> None:
    """Windows that tile the input (strides == pool size): each input element is written once, ``gz`` at its
    window's first maximum and 0 elsewhere (no zero fill, no scatter); only a valid-padding remainder that no
    window covers is zeroed first."""
    x, gz = node.inputs
    op, rank = node.op, node.op.rank
    geo, batch, channels = _setup(em, op, x, x)
    out = em.name(node.out)
    covered = op.padding == "same" or all(s.isdigit() and int(s) % k == 0 for s, k in zip(geo.S, op.pool_size))
    if covered:
        em.line(f"{out} = np.empty({em.tuple_of(_sizes(em, x))}, np.{node.out.dtype})")
    else:
        em.filled(out, _sizes(em, x), "0", f"np.{node.out.dtype}")
    position = _out_position(rank)

    def windows(body):
        _samples(em, node, batch, [f"best = np.empty({channels}, np.{x.dtype})",
                                   f"at = np.empty({channels}, np.int64)"])
        for a in range(rank):
            em.open(f"for p{a} in range({geo.O[a]}):")
            em.line(f"b{a} = p{a} * {op.strides[a]} - {geo.lo[a]}")
        body()
        em.close(rank + 1)

    def offsets(body):
        """Every window offset ``k`` (flattened) at input position ``i0..`` inside the input."""
        em.line("k = -1")
        for a in range(rank):
            em.open(f"for k{a} in range({op.pool_size[a]}):")
            em.line(f"i{a} = b{a} + k{a}")
        em.line("k += 1")
        em.open(f"if {' and '.join(f'0 <= i{a} < {geo.S[a]}' for a in range(rank))}:")
        body()
        em.close(rank + 1)

    def window():
        em.open(f"for c in range({channels}):")
        em.line(f"best[c] = {_lowest(x.dtype)}")
        em.line("at[c] = 0")
        em.close()

        def track():
            em.open(f"for c in range({channels}):")
            em.line(f"v = {_at(em.name(x), rank)}")
            em.open("if v > best[c]:")
            em.line("best[c] = v")
            em.line("at[c] = k")
            em.close(2)

        def write():
            em.open(f"for c in range({channels}):")
            em.line(f"{_at(out, rank)} = {em.name(gz)}[n, {position}, c] if at[c] == k else 0")
            em.close()

        offsets(track)
        offsets(write)

    windows(window)


def _routed(array: str, rank: int) -> str:
    """The element of ``array`` at the window's maximum for channel ``c``."""
    return f"{array}[n, {', '.join(f'at{a}[c]' for a in range(rank))}, c]"


@kernel(MaxPoolSelect)
def max_pool_select(em, node):
    x, v = node.inputs
    op, rank = node.op, node.op.rank
    geo, batch, channels = _setup(em, op, x, x)
    out = em.name(node.out)
    em.line(f"{out} = np.empty({em.tuple_of([batch, *geo.O, channels])}, np.{node.out.dtype})")

    def pick():
        em.open(f"for c in range({channels}):")
        em.line(f"{out}[n, {_out_position(rank)}, c] = {_routed(em.name(v), rank)}")
        em.close()

    _windows(em, node, geo, batch, lambda: _track_maxima(em, op, em.name(x), channels),
             lambda: _reset_maxima(em, op, channels, x.dtype), pick, _maxima_buffers(op, channels, x.dtype))


def _count(em, op, geo: Geometry) -> None:
    """``count``: how many input positions the current window covers (padding excluded)."""
    em.line("count = 1")
    for a in range(op.rank):
        em.line(f"count *= {int_min(f'b{a} + {op.pool_size[a]}', str(geo.S[a]))} - {int_max(f'b{a}', '0')}")


@kernel(AvgPool)
def avg_pool(em, node):
    (x,) = node.inputs
    op, rank = node.op, node.op.rank
    geo, batch, channels = _setup(em, op, x, x)
    out = em.name(node.out)
    acc = "float64" if node.out.dtype == "float64" else "float32"
    em.line(f"{out} = np.empty({em.tuple_of([batch, *geo.O, channels])}, np.{node.out.dtype})")

    def reset():
        em.open(f"for c in range({channels}):")
        em.line("total[c] = 0")
        em.close()

    def body():
        em.open(f"for c in range({channels}):")
        em.line(f"total[c] += {_at(em.name(x), rank)}")
        em.close()

    def store():
        _count(em, op, geo)
        em.open(f"for c in range({channels}):")
        em.line(f"{out}[n, {_out_position(rank)}, c] = total[c] / count")
        em.close()

    _windows(em, node, geo, batch, body, reset, store, [f"total = np.empty({channels}, np.{acc})"])


@kernel(AvgPoolGrad)
def avg_pool_grad(em, node):
    gz, like = node.inputs
    op, rank = node.op, node.op.rank
    geo, batch, channels = _setup(em, op, like, gz)
    out = em.name(node.out)
    em.filled(out, [batch, *geo.S, channels], "0", f"np.{node.out.dtype}")

    def spread():
        _count(em, op, geo)
        em.open(f"for c in range({channels}):")
        em.line(f"share[c] = {em.name(gz)}[n, {_out_position(rank)}, c] / count")
        em.close()

    def body():
        em.open(f"for c in range({channels}):")
        em.line(f"{_at(out, rank)} += share[c]")
        em.close()

    _windows(em, node, geo, batch, body, spread, scratch=[f"share = np.empty({channels}, np.{node.out.dtype})"])
