"""Keras 2's convolution, pooling and resizing backend functions, in its signatures.

The graph ops work channels_last; ``data_format="channels_first"`` inputs
are transposed to it and the results back (the kernels' layouts are the
same in both formats, as in Keras).
"""

from __future__ import annotations

from symkeras.backend.math_ops import _data_format
from symkeras.graph import ops, shapes
from symkeras.graph.basic import Tensor
from symkeras.graph.ops.conv import Conv, ConvInputGrad, effective_size


def _t(x) -> Tensor:
    (x,) = ops.operands(x)
    return x


def _tuple(value, rank: int, what: str) -> tuple:
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank:
        raise ValueError(f"{what} must be an int or a tuple of {rank} ints; got {value!r}.")
    return tuple(int(v) for v in values)


def _channels_last(x: Tensor, data_format, rank: int, what: str) -> tuple[Tensor, bool]:
    """``x`` channels_last, and whether it was transposed (channels_first)."""
    if x.ndim != rank + 2:
        raise ValueError(f"{what} expects an input of rank {rank + 2} (batch, {rank} spatial dims, channels); "
                         f"got shape {shapes.fmt(x.shape)}.")
    if _data_format(data_format) == "channels_first":
        return ops.transpose(x, (0, *range(2, rank + 2), 1)), True
    return x, False


def _restore(y: Tensor, transposed: bool) -> Tensor:
    return ops.transpose(y, (0, y.ndim - 1, *range(1, y.ndim - 1))) if transposed else y


def _conv(x, kernel, rank, strides, padding, data_format, dilation_rate, groups=1, what="conv"):
    x, kernel = _t(x), _t(kernel)
    x, transposed = _channels_last(x, data_format, rank, what)
    if kernel.ndim != rank + 2:
        raise ValueError(f"{what} expects a kernel of rank {rank + 2}; got shape {shapes.fmt(kernel.shape)}.")
    op = Conv(kernel.shape[:rank], _tuple(strides, rank, "strides"), _tuple(dilation_rate, rank, "dilation_rate"),
              padding, groups)
    return _restore(op(x, kernel), transposed)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1) -> Tensor:
    """1-D convolution; ``padding`` may be ``"causal"`` (outputs never see later steps)."""
    return _conv(x, kernel, 1, strides, padding, data_format, dilation_rate, what="conv1d")


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)) -> Tensor:
    """2-D convolution: ``kernel`` is (rows, cols, in channels, filters)."""
    return _conv(x, kernel, 2, strides, padding, data_format, dilation_rate, what="conv2d")


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)) -> Tensor:
    """3-D convolution: ``kernel`` is (depth, rows, cols, in channels, filters)."""
    return _conv(x, kernel, 3, strides, padding, data_format, dilation_rate, what="conv3d")


def _depthwise_kernel(kernel: Tensor, rank: int) -> Tensor:
    """(*k, C, M) -> (*k, 1, C * M): a depthwise kernel as a grouped convolution's (output channel c * M + m)."""
    if kernel.ndim != rank + 2 or None in kernel.shape:
        raise ValueError(f"A depthwise kernel has static shape (*kernel_size, channels, depth_multiplier); "
                         f"got {shapes.fmt(kernel.shape)}.")
    channels, multiplier = kernel.shape[rank], kernel.shape[rank + 1]
    return ops.reshape(kernel, (*kernel.shape[:rank], 1, channels * multiplier)), channels


def _depthwise(x, depthwise_kernel, rank, strides, padding, data_format, dilation_rate, what):
    kernel, channels = _depthwise_kernel(_t(depthwise_kernel), rank)
    return _conv(x, kernel, rank, strides, padding, data_format, dilation_rate, groups=channels, what=what)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)) -> Tensor:
    """Each channel convolved with its own ``depth_multiplier`` filters: kernel (rows, cols, channels, multiplier)."""
    return _depthwise(x, depthwise_kernel, 2, strides, padding, data_format, dilation_rate, "depthwise_conv2d")


def _separable(x, depthwise_kernel, pointwise_kernel, rank, strides, padding, data_format, dilation_rate, what):
    depthwise = _depthwise(x, depthwise_kernel, rank, strides, padding, data_format, dilation_rate, what)
    return _conv(depthwise, pointwise_kernel, rank, 1, "valid", data_format, 1, what=what)


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                     dilation_rate=1) -> Tensor:
    """A depthwise 1-D convolution, then a pointwise (size-1) one."""
    return _separable(x, depthwise_kernel, pointwise_kernel, 1, strides, padding, data_format, dilation_rate,
                      "separable_conv1d")


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)) -> Tensor:
    """A depthwise 2-D convolution, then a pointwise (1 x 1) one."""
    return _separable(x, depthwise_kernel, pointwise_kernel, 2, strides, padding, data_format, dilation_rate,
                      "separable_conv2d")


def _conv_transpose(x, kernel, output_shape, rank, strides, padding, data_format, dilation_rate, what):
    x, kernel = _t(x), _t(kernel)
    x, transposed = _channels_last(x, data_format, rank, what)
    strides, dilation = _tuple(strides, rank, "strides"), _tuple(dilation_rate, rank, "dilation_rate")
    output_padding = None
    if output_shape is not None:
        target = tuple(output_shape)
        spatial = target[2:] if _data_format(data_format) == "channels_first" else target[1:-1]
        output_padding = []
        for a, (n, want) in enumerate(zip(x.shape[1:-1], spatial)):
            if want is None or isinstance(want, Tensor):
                output_padding = None
                break
            if n is None:
                raise ValueError(f"{what} with an output_shape needs the input's spatial sizes; got "
                                 f"{shapes.fmt(x.shape)}.")
            extent = effective_size(kernel.shape[a], dilation[a])
            pad = extent // 2 if padding == "same" else 0
            output_padding.append(int(want) - ((n - 1) * strides[a] + extent - 2 * pad))
    op = ConvInputGrad(kernel.shape[:rank], strides, dilation, padding, 1, output_padding)
    return _restore(op(x, kernel), transposed)


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)) -> Tensor:
    """The transposed 2-D convolution (the gradient of conv2d w.r.t. its input): kernel
    (rows, cols, output channels, input channels); ``output_shape`` fixes the output's size."""
    return _conv_transpose(x, kernel, output_shape, 2, strides, padding, data_format, dilation_rate,
                           "conv2d_transpose")


def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid", data_format=None) -> Tensor:
    """The transposed 3-D convolution: kernel (depth, rows, cols, output channels, input channels)."""
    return _conv_transpose(x, kernel, output_shape, 3, strides, padding, data_format, 1, "conv3d_transpose")


def _pool(x, pool_size, strides, padding, data_format, pool_mode, rank, what):
    x, transposed = _channels_last(_t(x), data_format, rank, what)
    return _restore(ops.pool(x, _tuple(pool_size, rank, "pool_size"), _tuple(strides, rank, "strides"), padding,
                             pool_mode), transposed)


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max") -> Tensor:
    """2-D max (``pool_mode="max"``) or average (``"avg"``) pooling."""
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 2, "pool2d")


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max") -> Tensor:
    """3-D max or average pooling."""
    return _pool(x, pool_size, strides, padding, data_format, pool_mode, 3, "pool3d")


def _resize(x, factors, data_format, what) -> Tensor:
    x = _t(x)
    first = _data_format(data_format) == "channels_first"
    for a, factor in enumerate(factors):
        factor = int(factor)
        if factor < 1:
            raise ValueError(f"{what}: resize factors are positive integers; got {factors}.")
        if factor > 1:
            x = ops.repeat_elements(x, factor, axis=a + (2 if first else 1))
    return x


def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest") -> Tensor:
    """Nearest-neighbour upsampling of the two spatial axes by integer factors."""
    if interpolation != "nearest":
        raise ValueError(f"resize_images supports interpolation='nearest'; got {interpolation!r}.")
    return _resize(x, (height_factor, width_factor), data_format, "resize_images")


def resize_volumes(x, depth_factor, height_factor, width_factor, data_format) -> Tensor:
    """Nearest-neighbour upsampling of the three spatial axes by integer factors."""
    return _resize(x, (depth_factor, height_factor, width_factor), data_format, "resize_volumes")
