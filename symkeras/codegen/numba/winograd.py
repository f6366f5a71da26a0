"""Winograd's minimal filtering for 3x3 convolutions of stride 1: F(2x2, 3x3), and F(3x3, 2x2) for the kernel's
gradient (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks", 2015).

The output is computed in 2x2 tiles.  Each 4x4 input tile ``d`` and each 3x3 filter ``g`` are transformed,
per channel (``V = B^T d B``, ``U = G g G^T``); the 16 transformed positions ``e`` are 16 matrix products
over the channels (``M[e] = V[e] @ U[e]``: tiles x channels times channels x filters, BLAS); each tile's
2x2 outputs are ``A^T M A``.  That is 16 multiplications per tile, channel and filter where im2col + GEMM
does 36: 2.25x fewer, in products whose inner size is the channel count.  With few channels (an image's
1 or 3) the transforms dominate, and they cost about what im2col's patch copies do (B3's first
convolution: forward 3.4 against 3.1 ms, kernel gradient 2.4 against 2.9); every 3x3 stride-1
convolution takes this path, so all of a network's share their kernels (fewer to compile).

- The input's gradient is the same computation on the output's gradient, the filters rotated by 180
  degrees and their channels and filters swapped, the pads ``2 - lo``.
- The kernel's gradient is the identity read the other way: per tile, the 4x4 input tile and the 2x2
  tile of the output's gradient are transformed (``B^T d B``, ``A dy A^T``), 16 products over the tiles
  (channels x tiles times tiles x filters) sum them, and ``G^T S G`` is the 3x3 gradient.

The tiles (over every sample) are shared out in blocks over Numba's threads, each block's buffers sized
to stay in cache (``BLOCK``).  Positions outside the input (padding, the last tile of an odd size) read
zero and write nothing.  Sizes are read at run time, as the im2col kernels read theirs.
"""

from __future__ import annotations

from fractions import Fraction

from symkeras.codegen.numba.emitter import int_max, int_min

#: elements of a block's transformed tiles (V and M: 16 positions x (channels + filters) per tile)
BLOCK = 1 << 18

_BT = ((1, 0, -1, 0), (0, 1, 1, 0), (0, -1, 1, 0), (0, 1, 0, -1))  # input tile: B^T d B
_G = ((1, 0, 0), (Fraction(1, 2), Fraction(1, 2), Fraction(1, 2)), (Fraction(1, 2), Fraction(-1, 2), Fraction(1, 2)),
      (0, 0, 1))  # filter: G g G^T
_AT = ((1, 1, 1, 0), (0, 1, -1, -1))  # output tile: A^T M A
_A = tuple(zip(*_AT))  # the output gradient's 2x2 tile: A dy A^T
_GT = tuple(zip(*_G))  # the kernel's gradient: G^T S G


def applies(op) -> bool:
    """Whether the convolution ``op`` (Conv, ConvInputGrad or ConvKernelGrad) runs as Winograd: 2-D, 3x3,
    stride and dilation 1, one group."""
    return (op.rank == 2 and tuple(op.kernel_size) == (3, 3) and tuple(op.strides) == (1, 1)
            and tuple(op.dilation) == (1, 1) and op.groups == 1 and op.padding != "causal"
            and getattr(op, "output_padding", None) in (None, (0, 0)))


def _combination(coefficients, terms) -> str:
    """Source of ``sum(c * t)``: halves as ``half * (...)`` (the compute dtype's 0.5, no float64 math)."""
    whole, halves = [], []
    for c, t in zip(coefficients, terms):
        if c == 0:
            continue
        sign = "-" if c < 0 else "+"
        (whole if abs(c) == 1 else halves).append(f"{sign} {t}")
        if abs(c) not in (1, Fraction(1, 2)):
            raise ValueError(f"Winograd coefficient {c} is not +-1 or +-1/2")

    def joined(parts):
        text = " ".join(parts)
        return text[2:] if text.startswith("+ ") else "-" + text[2:]

    if halves and whole:
        return f"{joined(whole)} + half * ({joined(halves)})"
    return f"half * ({joined(halves)})" if halves else joined(whole)


def transform(em, left, right, terms, prefix: str) -> list[list[str]]:
    """Emit ``Y = left @ X @ right^T`` for the grid of sources ``terms`` (X); returns Y's variables."""
    rows = [[f"{prefix}r{i}_{j}" for j in range(len(terms[0]))] for i in range(len(left))]
    for i, coefficients in enumerate(left):
        for j in range(len(terms[0])):
            em.line(f"{rows[i][j]} = {_combination(coefficients, [terms[k][j] for k in range(len(terms))])}")
    out = [[f"{prefix}{i}_{j}" for j in range(len(right))] for i in range(len(left))]
    for i in range(len(left)):
        for j, coefficients in enumerate(right):
            em.line(f"{out[i][j]} = {_combination(coefficients, rows[i])}")
    return out


def assign(em, values, target) -> None:
    """``target(i, j) = values[i][j]`` for each element of the grid ``values``, row by row."""
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            em.line(f"{target(i, j)} = {value}")


def tile_sizes(em, out_sizes) -> None:
    """``tw`` tiles a row, ``per`` a sample, ``tiles`` in all, and ``block``: tiles a buffer holds."""
    em.line(f"tw = (({out_sizes[1]}) + 1) // 2")
    em.line(f"per = ((({out_sizes[0]}) + 1) // 2) * tw")
    em.line("tiles = batch * per")


def block_size(em, parts: int, widths: str) -> None:
    """``parts`` and ``block``, odd: the 16 planes of a block's buffers then lie at distinct offsets modulo
    4 KB, not in one set of the L1 cache (B7's 32- and 64-channel convolutions ran 2-3x slower so)."""
    em.line(f"parts = {parts}")
    em.line(f"block = {int_max('1', int_min('-(-tiles // parts)', f'{BLOCK} // (16 * ({widths}))'))} | 1")


def open_blocks(em) -> None:
    """The part's blocks of tiles: ``first`` tile and ``rows`` of them."""
    em.open("for first in range(t * block, tiles, parts * block):")
    em.line(f"rows = {int_min('block', 'tiles - first')}")


def tile_origin(em, lo) -> None:
    """Tile ``first + q``: sample ``n``, output origin ``oy, ox``, input origin ``y0, x0``."""
    em.line("n = (first + q) // per")
    em.line("rest = first + q - n * per")
    em.line("oy = (rest // tw) * 2")
    em.line("ox = (rest - (rest // tw) * tw) * 2")
    em.line(f"y0 = oy - ({lo[0]})")
    em.line(f"x0 = ox - ({lo[1]})")


def input_tile(em, src: str, sizes, channels: str) -> None:
    """``V[:, q, :]``: the transformed 4x4 tile of ``src`` at ``y0, x0`` (zero outside)."""
    em.open("for i in range(4):")
    em.open("for j in range(4):")
    em.open(f"if 0 <= y0 + i < {sizes[0]} and 0 <= x0 + j < {sizes[1]}:")
    em.open(f"for c in range({channels}):")
    em.line(f"d[i, j, c] = {src}[n, y0 + i, x0 + j, c]")
    em.close(2)
    em.open("else:")
    em.open(f"for c in range({channels}):")
    em.line("d[i, j, c] = 0")
    em.close(4)
    em.open(f"for c in range({channels}):")
    v = transform(em, _BT, _BT, [[f"d[{i}, {j}, c]" for j in range(4)] for i in range(4)], "b")
    assign(em, v, lambda i, j: f"V[{4 * i + j}, q, c]")
    em.close()


def filter_transform(em, element, channels: str, filters: str) -> None:
    """``u[e, c, f]``: ``G g G^T`` of every filter, ``element(k0, k1)`` the source of g's element."""
    em.line(f"u = np.empty((16, {channels}, {filters}), COMPUTE)")
    em.line("half = COMPUTE(0.5)")
    em.open(f"for c in range({channels}):")
    em.open(f"for f in range({filters}):")
    for k0 in range(3):
        for k1 in range(3):
            em.line(f"g{k0}{k1} = COMPUTE({element(k0, k1)})")
    v = transform(em, _G, _G, [[f"g{k0}{k1}" for k1 in range(3)] for k0 in range(3)], "w")
    assign(em, v, lambda i, j: f"u[{4 * i + j}, c, f]")
    em.close(2)


def _buffers(compute: str, shapes: list[tuple[str, tuple[str, ...]]]) -> list[tuple[str, str, tuple]]:
    return [(name, f"np.empty(({', '.join(shape)}), COMPUTE)", (compute, len(shape), "C", False))
            for name, shape in shapes]


def forward_buffers(channels: str, filters: str, compute: str) -> list[tuple[str, str, tuple]]:
    """A part's buffers for ``forward`` as (name, allocation, type): a block's transformed tiles and
    products, one input tile, one tile's outputs."""
    return _buffers(compute, [("V", ("16", "block", channels)), ("M", ("16", "block", filters)),
                              ("d", ("4", "4", channels)), ("Y", ("4", filters))])


def kernel_grad_buffers(channels: str, filters: str, compute: str) -> list[tuple[str, str, tuple]]:
    """A part's buffers for ``kernel_grad`` as (name, allocation, type): a block's transformed tiles of
    both operands, one input tile, one product."""
    return _buffers(compute, [("V", ("16", "block", channels)), ("W", ("16", "block", filters)),
                              ("d", ("4", "4", channels)), ("product", (channels, filters))])


def forward(em, out: str, src: str, src_sizes, out_sizes, lo, channels: str, filters: str, finish) -> None:
    """The part's body of a forward-form convolution into ``out`` (batch, o0, o1, filters): blocks of
    tiles, transformed, multiplied by ``u`` (16 products), transformed back; ``finish(value)`` is the
    source of the element to store (an epilogue), emitting what lines it needs.  Its buffers: see
    ``forward_buffers``."""
    open_blocks(em)
    em.open("for q in range(rows):")
    tile_origin(em, lo)
    input_tile(em, src, src_sizes, channels)
    em.close()
    em.open("for e in range(16):")
    em.line("missing[t] |= gemm_into(V[e, :rows], u[e], M[e, :rows])")
    em.close()
    em.open("for q in range(rows):")
    tile_origin(em, lo)
    em.open(f"for f in range({filters}):")
    y = transform(em, _AT, _AT, [[f"M[{4 * i + j}, q, f]" for j in range(4)] for i in range(4)], "a")
    assign(em, y, lambda i, j: f"Y[{2 * i + j}, f]")
    em.close()
    # the tile's 2x2 outputs stored apart from their transform: one copy of the epilogue, and the loop
    # over the filters has no branch (a tile past an odd size skips its outside outputs)
    em.open("for k in range(4):")
    em.line("yy = oy + k // 2")
    em.line("xx = ox + k % 2")
    em.open(f"if yy < {out_sizes[0]} and xx < {out_sizes[1]}:")
    em.open(f"for f in range({filters}):")
    em.line(f"{out}[n, yy, xx, f] = {finish('Y[k, f]')}")
    em.close(4)


def kernel_grad(em, x: str, gz: str, x_sizes, gz_sizes, lo, channels: str, filters: str) -> None:
    """The part's body of the kernel's gradient: its 16 transformed sums added into ``totals[t]`` (its
    buffers: ``kernel_grad_buffers``)."""
    open_blocks(em)
    em.open("for q in range(rows):")
    tile_origin(em, lo)
    input_tile(em, x, x_sizes, channels)
    # the gradient's 2x2 tile, its row or column past an odd size read as zero (clamped, then masked)
    em.line(f"ox1 = ox + 1 if ox + 1 < {gz_sizes[1]} else ox")
    em.line(f"oy1 = oy + 1 if oy + 1 < {gz_sizes[0]} else oy")
    em.line("mx = COMPUTE(1.0) if ox1 > ox else COMPUTE(0.0)")
    em.line("my = COMPUTE(1.0) if oy1 > oy else COMPUTE(0.0)")
    em.open(f"for f in range({filters}):")
    terms = [[f"{gz}[n, oy, ox, f]", f"{gz}[n, oy, ox1, f] * mx"],
             [f"{gz}[n, oy1, ox, f] * my", f"{gz}[n, oy1, ox1, f] * (mx * my)"]]
    v = transform(em, _A, _A, terms, "z")
    assign(em, v, lambda i, j: f"W[{4 * i + j}, q, f]")
    em.close(2)
    em.open("for e in range(16):")
    em.line("missing[t] |= gemm_into(V[e, :rows].T, W[e, :rows], product)")
    em.open(f"for c in range({channels}):")
    em.open(f"for f in range({filters}):")
    em.line("totals[t, e, c, f] += product[c, f]")
    em.close(4)


def kernel_from_sums(em, channels: str, filters: str) -> None:
    """``total`` (3, 3, channels, filters): ``G^T S G`` of the parts' summed ``totals``."""
    em.line("half = COMPUTE(0.5)")
    em.line(f"total = np.empty((3, 3, {channels}, {filters}), COMPUTE)")
    em.open(f"for c in range({channels}):")
    em.open(f"for f in range({filters}):")
    for e in range(16):
        em.line(f"s{e} = totals[0, {e}, c, f]")
    em.open("for p in range(1, parts):")
    for e in range(16):
        em.line(f"s{e} += totals[p, {e}, c, f]")
    em.close()
    k = transform(em, _GT, _GT, [[f"s{4 * i + j}" for j in range(4)] for i in range(4)], "k")
    assign(em, k, lambda k0, k1: f"total[{k0}, {k1}, c, f]")
    em.close(2)
