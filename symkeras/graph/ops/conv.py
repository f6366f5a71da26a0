"""N-d convolution (1-3 spatial dimensions) and the two ops of its gradient.

Layouts are channels_last throughout (the backend functions transpose
channels_first data around these ops):

- input ``(N, S1..Sd, C)``, kernel ``(K1..Kd, C / groups, F)`` (Keras's kernel
  layout), output ``(N, O1..Od, F)``;
- ``groups`` splits the channels: output channels ``g*F/groups ...`` read only
  input channels ``g*C/groups ...`` (depthwise convolution is ``groups == C``).

``padding`` is ``"valid"``, ``"same"`` (TensorFlow's convention: the extra
pad goes after), ``"causal"`` (1-D: all the pad before) or explicit
``((lo, hi), ...)`` pairs.  ``ConvInputGrad`` (the input's gradient, and the
transposed convolution) and ``ConvKernelGrad`` (the kernel's gradient) are
each other's gradients with ``Conv``, so every order of derivative is again a
convolution-family op.
"""

from __future__ import annotations

import numpy as np

from symkeras.graph import dtypes, shapes
from symkeras.graph.basic import Op, Tensor, as_tensor

PADDINGS = ("valid", "same", "causal")


def _ints(values, rank: int, what: str) -> tuple:
    values = (values,) * rank if isinstance(values, int) else tuple(values)
    if len(values) != rank or any(int(v) < 1 for v in values):
        raise ValueError(f"{what} must be {rank} positive integer(s); got {values}.")
    return tuple(int(v) for v in values)


def _padding(padding, rank: int):
    if isinstance(padding, str):
        padding = padding.lower()
        if padding not in PADDINGS:
            raise ValueError(f"Unknown padding {padding!r}; expected one of {PADDINGS} or explicit (lo, hi) pairs.")
        if padding == "causal" and rank != 1:
            raise ValueError("Causal padding is only defined for 1-D convolutions.")
        return padding
    pairs = tuple((int(lo), int(hi)) for lo, hi in padding)
    if len(pairs) != rank or any(lo < 0 or hi < 0 for lo, hi in pairs):
        raise ValueError(f"Explicit padding must be {rank} non-negative (lo, hi) pairs; got {padding}.")
    return pairs


def effective_size(k: int, dilation: int) -> int:
    """The extent of a dilated kernel: ``(k - 1) * dilation + 1``."""
    return (k - 1) * dilation + 1


def output_size(size, k: int, stride: int, dilation: int, padding, axis: int):
    """The output length along one spatial axis (None when ``size`` is)."""
    if size is None:
        return None
    eff = effective_size(k, dilation)
    if padding in ("same", "causal"):
        return -(-size // stride)
    lo, hi = (0, 0) if padding == "valid" else padding[axis]
    span = size + lo + hi - eff
    return span // stride + 1 if span >= 0 else 0


def pads_for(size: int, k: int, stride: int, dilation: int, padding, axis: int) -> tuple[int, int]:
    """The (before, after) zero padding along one spatial axis for an input of length ``size``."""
    eff = effective_size(k, dilation)
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return eff - 1, 0
    if padding == "same":
        total = max((-(-size // stride) - 1) * stride + eff - size, 0)
        return total // 2, total - total // 2
    return padding[axis]


class _ConvFamily(Op):
    """What Conv, ConvInputGrad and ConvKernelGrad share: the geometry of one convolution."""

    __props__ = ("kernel_size", "strides", "dilation", "padding", "groups")

    def __init__(self, kernel_size, strides=1, dilation=1, padding="valid", groups=1):
        kernel_size = (kernel_size,) if isinstance(kernel_size, int) else tuple(kernel_size)
        if not 1 <= len(kernel_size) <= 3:
            raise ValueError(f"Convolutions have 1 to 3 spatial dimensions; got kernel_size {kernel_size}.")
        rank = len(kernel_size)
        self.kernel_size = _ints(kernel_size, rank, "kernel_size")
        self.strides = _ints(strides, rank, "strides")
        self.dilation = _ints(dilation, rank, "dilation_rate")
        self.padding = _padding(padding, rank)
        self.groups = int(groups)
        if self.groups < 1:
            raise ValueError(f"groups must be a positive integer; got {groups}.")

    @property
    def rank(self) -> int:
        return len(self.kernel_size)

    def __str__(self) -> str:
        text = f"{self.name}{{{'x'.join(map(str, self.kernel_size))}"
        if any(s != 1 for s in self.strides):
            text += f", strides={self.strides}"
        if any(d != 1 for d in self.dilation):
            text += f", dilation={self.dilation}"
        text += f", {self.padding}" if isinstance(self.padding, str) else f", pads={self.padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + "}"

    def geometry(self, in_spatial) -> tuple[tuple, tuple]:
        """(output spatial sizes, (lo, hi) pads) for concrete input spatial sizes."""
        out = tuple(output_size(s, k, st, d, self.padding, a)
                    for a, (s, k, st, d) in enumerate(zip(in_spatial, self.kernel_size, self.strides, self.dilation)))
        pads = tuple(pads_for(s, k, st, d, self.padding, a)
                     for a, (s, k, st, d) in enumerate(zip(in_spatial, self.kernel_size, self.strides, self.dilation)))
        return out, pads

    def size_source(self, inputs, out, axis):
        """The batch axis is the first operand's (so gradients between such tensors need no reduction)."""
        return (0, 0) if axis == 0 and out.ndim == self.rank + 2 and inputs[0].ndim == self.rank + 2 else None

    def _check_operands(self, x_channels, w: Tensor, what: str) -> None:
        rank = self.rank
        if w.ndim != rank + 2 or tuple(w.shape[:rank]) != self.kernel_size:
            raise ValueError(f"{what}: the kernel must have shape {self.kernel_size} + (channels / groups, filters); "
                             f"got {shapes.fmt(w.shape)}.")
        cg, f = w.shape[rank], w.shape[rank + 1]
        if f is not None and f % self.groups:
            raise ValueError(f"{what}: {f} filters do not split into {self.groups} groups.")
        if x_channels is not None and cg is not None and x_channels != cg * self.groups:
            raise ValueError(f"{what}: the input has {x_channels} channels, the kernel expects "
                             f"{cg} x {self.groups} groups = {cg * self.groups}.")

    # the reference: one step per kernel offset, vectorized over samples, positions and channels -----------
    def _slabs(self, in_spatial, out_spatial, pads):
        """For each kernel offset: the slices of the padded input it reads for every output position."""
        for offset in np.ndindex(*self.kernel_size):
            yield offset, tuple(slice(k * d, k * d + (o - 1) * s + 1, s) if o > 0 else slice(0, 0)
                                for k, d, o, s in zip(offset, self.dilation, out_spatial, self.strides))

    def _padded_shape(self, x_shape, pads, out_spatial):
        # the pad after may be longer than the input needs for the last position: keep what the slabs read
        spatial = [max(s + lo + hi, (o - 1) * st + effective_size(k, d) if o > 0 else 0)
                   for s, (lo, hi), o, st, k, d in zip(x_shape[1:-1], pads, out_spatial, self.strides,
                                                      self.kernel_size, self.dilation)]
        return (x_shape[0], *spatial, x_shape[-1])


def _per_group(a, b):
    """``out[m, g, n] = sum_k a[m, g, k] * b[g, k, n]``: one matrix product per group (BLAS's, where
    ``np.einsum`` would loop element by element)."""
    return np.matmul(a.transpose(1, 0, 2), b).transpose(1, 0, 2)


class Conv(_ConvFamily):
    """``conv(x, kernel)``: cross-correlation of channels_last ``x`` with ``kernel`` (Keras's convolution)."""

    nin = 2

    def infer(self, inputs):
        x, w = inputs
        if x.ndim != self.rank + 2:
            raise ValueError(f"A {self.rank}-D convolution needs an input of rank {self.rank + 2} "
                             f"(batch, {self.rank} spatial, channels); got shape {shapes.fmt(x.shape)}.")
        self._check_operands(x.shape[-1], w, "Convolution")
        out, _ = self.geometry(x.shape[1:-1])
        for a, (size, o) in enumerate(zip(x.shape[1:-1], out)):
            if o is not None and o < 1:
                raise ValueError(f"Convolution: the kernel ({self.kernel_size[a]}, dilation {self.dilation[a]}) is "
                                 f"larger than the padded input along spatial axis {a} (size {size}, {self.padding}).")
        return dtypes.upcast(x.dtype, w.dtype), (x.shape[0], *out, w.shape[-1])

    def perform(self, inputs, rng=None):
        x, w = inputs
        out_spatial, pads = self.geometry(x.shape[1:-1])
        if any(o < 1 for o in out_spatial):
            raise ValueError(f"Convolution: input of spatial shape {x.shape[1:-1]} is smaller than the kernel "
                             f"{self.kernel_size} ({self.padding}).")
        padded = np.zeros(self._padded_shape(x.shape, pads, out_spatial), dtype=x.dtype)
        padded[(slice(None),) + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, x.shape[1:-1]))] = x
        f = w.shape[-1]
        out = np.zeros((x.shape[0], *out_spatial, self.groups, f // self.groups), dtype=np.result_type(x, w))
        rows = out.reshape(-1, self.groups, f // self.groups)
        for offset, slab in self._slabs(x.shape[1:-1], out_spatial, pads):
            patch = padded[(slice(None),) + slab].reshape(-1, self.groups, x.shape[-1] // self.groups)
            kernel = w[offset].reshape(w.shape[-2], self.groups, f // self.groups)
            rows += _per_group(patch, kernel.transpose(1, 0, 2))
        return out.reshape(out.shape[:-2] + (f,))

    def grad(self, inputs, out, gz):
        x, w = inputs
        geometry = self.props()
        gx = ConvInputGrad(**geometry)(gz, w, x) if dtypes.is_float(x.dtype) else None
        gw = ConvKernelGrad(**geometry)(x, gz) if dtypes.is_float(w.dtype) else None
        return [gx, gw]


class ConvInputGrad(_ConvFamily):
    """The gradient of ``Conv`` w.r.t. its input: ``(gz, kernel[, like])`` -> an input-shaped tensor.

    With the reference ``like`` (the convolution's input, read for its shape
    only) the result takes its shape; without it this is the transposed
    convolution, whose spatial sizes follow Keras's ``deconv_output_length``
    (valid: ``n * stride + max(extent - stride, 0)``, same: ``n * stride``;
    with ``output_padding``: ``(n - 1) * stride + extent - 2 * pad + output_padding``).
    """

    __props__ = _ConvFamily.__props__ + ("output_padding",)
    shape_from = 2

    def __init__(self, kernel_size, strides=1, dilation=1, padding="valid", groups=1, output_padding=None):
        super().__init__(kernel_size, strides, dilation, padding, groups)
        self.output_padding = None if output_padding is None else tuple(int(p) for p in output_padding)

    def make_node(self, *inputs):
        if len(inputs) not in (2, 3):
            raise TypeError(f"{self} takes (gz, kernel) or (gz, kernel, like); got {len(inputs)} inputs.")
        return super().make_node(*inputs)

    def transposed_size(self, n, axis: int):
        """The spatial size of the transposed convolution of an input of length ``n`` (Keras's rule)."""
        if n is None:
            return None
        extent = effective_size(self.kernel_size[axis], self.dilation[axis])
        s = self.strides[axis]
        if self.padding not in ("valid", "same"):
            raise ValueError(f"A transposed convolution takes 'valid' or 'same' padding; got {self.padding!r}.")
        if self.output_padding is None:
            return n * s + max(extent - s, 0) if self.padding == "valid" else n * s
        pad = extent // 2 if self.padding == "same" else 0
        return (n - 1) * s + extent - 2 * pad + self.output_padding[axis]

    def infer(self, inputs):
        gz, w = inputs[:2]
        if gz.ndim != self.rank + 2:
            raise ValueError(f"A {self.rank}-D transposed convolution needs an input of rank {self.rank + 2}; "
                             f"got shape {shapes.fmt(gz.shape)}.")
        self._check_operands(None, w, "Transposed convolution")
        if w.shape[-1] is not None and gz.shape[-1] is not None and gz.shape[-1] != w.shape[-1]:
            raise ValueError(f"Transposed convolution: the input has {gz.shape[-1]} channels, the kernel's "
                             f"last axis {w.shape[-1]}.")
        dtype = dtypes.upcast(gz.dtype, w.dtype)
        channels = None if w.shape[-2] is None else w.shape[-2] * self.groups
        if len(inputs) == 3:
            like = inputs[2]
            return dtype, (gz.shape[0], *like.shape[1:-1], channels)
        spatial = tuple(self.transposed_size(n, a) for a, n in enumerate(gz.shape[1:-1]))
        return dtype, (gz.shape[0], *spatial, channels)

    def out_spatial(self, gz_shape, like_shape=None) -> tuple:
        if like_shape is not None:
            return tuple(like_shape[1:-1])
        return tuple(self.transposed_size(n, a) for a, n in enumerate(gz_shape[1:-1]))

    def perform(self, inputs, rng=None):
        gz, w = inputs[:2]
        x_spatial = self.out_spatial(gz.shape, inputs[2].shape if len(inputs) == 3 else None)
        out_spatial, pads = self.geometry(x_spatial)
        if tuple(gz.shape[1:-1]) != out_spatial:
            raise ValueError(f"Transposed convolution: an input of spatial shape {gz.shape[1:-1]} does not come from "
                             f"a convolution of spatial shape {x_spatial} (that gives {out_spatial}).")
        channels = w.shape[-2] * self.groups
        x_shape = (gz.shape[0], *x_spatial, channels)
        padded = np.zeros(self._padded_shape(x_shape, pads, out_spatial), dtype=np.result_type(gz, w))
        f = w.shape[-1]
        grads = gz.reshape(-1, self.groups, f // self.groups)
        for offset, slab in self._slabs(x_spatial, out_spatial, pads):
            kernel = w[offset].reshape(w.shape[-2], self.groups, f // self.groups)
            contribution = _per_group(grads, kernel.transpose(1, 2, 0))
            padded[(slice(None),) + slab] += contribution.reshape(gz.shape[:-1] + (channels,))
        crop = tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, x_spatial))
        return padded[(slice(None),) + crop]

    def grad(self, inputs, out, gz):
        g, w = inputs[:2]
        geometry = {k: getattr(self, k) for k in _ConvFamily.__props__}
        # ConvInputGrad is the adjoint of Conv in its input: linear in g and in w
        gg = Conv(**geometry)(gz, w) if dtypes.is_float(g.dtype) else None
        gw = ConvKernelGrad(**geometry)(gz, g) if dtypes.is_float(w.dtype) else None
        return [gg, gw] + [None] * (len(inputs) - 2)


class ConvKernelGrad(_ConvFamily):
    """The gradient of ``Conv`` w.r.t. its kernel: ``(x, gz)`` -> a kernel-shaped tensor."""

    nin = 2

    def infer(self, inputs):
        x, gz = inputs
        if x.ndim != self.rank + 2 or gz.ndim != self.rank + 2:
            raise ValueError(f"A {self.rank}-D convolution's kernel gradient needs rank-{self.rank + 2} operands; "
                             f"got {shapes.fmt(x.shape)} and {shapes.fmt(gz.shape)}.")
        channels = x.shape[-1]
        cg = None if channels is None else channels // self.groups
        return dtypes.upcast(x.dtype, gz.dtype), (*self.kernel_size, cg, gz.shape[-1])

    def perform(self, inputs, rng=None):
        x, gz = inputs
        out_spatial, pads = self.geometry(x.shape[1:-1])
        padded = np.zeros(self._padded_shape(x.shape, pads, out_spatial), dtype=x.dtype)
        padded[(slice(None),) + tuple(slice(lo, lo + s) for (lo, _), s in zip(pads, x.shape[1:-1]))] = x
        f, channels = gz.shape[-1], x.shape[-1]
        grads = gz.reshape(-1, self.groups, f // self.groups)
        out = np.zeros((*self.kernel_size, channels // self.groups, f), dtype=np.result_type(x, gz))
        for offset, slab in self._slabs(x.shape[1:-1], out_spatial, pads):
            patch = padded[(slice(None),) + slab].reshape(-1, self.groups, channels // self.groups)
            per_group = np.matmul(patch.transpose(1, 2, 0), grads.transpose(1, 0, 2))  # (g, c, f / g)
            out[offset] = per_group.transpose(1, 0, 2).reshape(channels // self.groups, f)
        return out

    def grad(self, inputs, out, gz):
        x, g = inputs
        geometry = self.props()
        # ConvKernelGrad(x, g) is bilinear: <ConvKernelGrad(x, g), V> = <g, Conv(x, V)>
        gx = ConvInputGrad(**geometry)(g, gz, x) if dtypes.is_float(x.dtype) else None
        gg = Conv(**geometry)(x, gz) if dtypes.is_float(g.dtype) else None
        return [gx, gg]


def conv(x, kernel, strides=1, dilation=1, padding="valid", groups=1) -> Tensor:
    """Channels_last N-d convolution of ``x`` (N, *spatial, C) with ``kernel`` (*kernel_size, C / groups, F)."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    rank = kernel.ndim - 2
    if rank < 1:
        raise ValueError(f"A convolution kernel has rank 3 to 5; got shape {shapes.fmt(kernel.shape)}.")
    if None in kernel.shape[:rank]:
        raise ValueError(f"A convolution kernel needs a static spatial shape; got {shapes.fmt(kernel.shape)}.")
    return Conv(kernel.shape[:rank], strides, dilation, padding, groups)(x, kernel)


def conv_transpose(x, kernel, strides=1, dilation=1, padding="valid", output_padding=None, like=None) -> Tensor:
    """The transposed convolution: ``kernel`` (*kernel_size, out channels, in channels); ``like`` fixes the
    output's shape (else it follows from the input's, as Keras's deconv_output_length)."""
    x, kernel = as_tensor(x), as_tensor(kernel)
    rank = kernel.ndim - 2
    op = ConvInputGrad(kernel.shape[:rank], strides, dilation, padding, 1, output_padding)
    return op(x, kernel) if like is None else op(x, kernel, like)

