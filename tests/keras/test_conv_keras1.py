"""Keras 1 spellings of the convolution family still found in tutorials, each with a DeprecationWarning
naming the Keras 2 form; and the backend functions in Keras 2's signatures."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.layers import Convolution1D, Convolution2D, Embedding, MaxPooling2D


def test_convolution2d_with_keras1_arguments():
    with pytest.warns(DeprecationWarning) as record:
        layer = Convolution2D(64, 3, 3, border_mode="same", subsample=(2, 2), dim_ordering="th")
    messages = " | ".join(str(w.message) for w in record)
    assert "kernel_size=(n, n)" in messages and "use `padding`" in messages and "use `strides`" in messages
    assert "use `data_format`" in messages
    assert (layer.filters, layer.kernel_size, layer.padding, layer.strides, layer.data_format) == \
        (64, (3, 3), "same", (2, 2), "channels_first")


def test_convolution1d_and_pooling_with_keras1_arguments():
    with pytest.warns(DeprecationWarning) as record:
        conv = Convolution1D(nb_filter=8, filter_length=3, border_mode="valid", subsample_length=2)
    messages = " | ".join(str(w.message) for w in record)
    for old, new in (("nb_filter", "filters"), ("filter_length", "kernel_size"), ("border_mode", "padding"),
                     ("subsample_length", "strides")):
        assert f"`{old}` is deprecated; use `{new}`" in messages
    assert (conv.filters, conv.kernel_size, conv.strides, conv.padding) == (8, (3,), (2,), "valid")
    with pytest.warns(DeprecationWarning, match="use `padding`"):
        pool = MaxPooling2D((2, 2), border_mode="same")
    assert pool.padding == "same" and pool.pool_size == (2, 2)


def test_embedding_dropout_is_dropped_with_a_warning_naming_spatial_dropout():
    with pytest.warns(DeprecationWarning, match="SpatialDropout1D"):
        layer = Embedding(100, 8, dropout=0.2, input_length=5)
    assert layer.get_config()["input_length"] == 5 and "dropout" not in layer.get_config()


@pytest.mark.usefixtures("backend")
def test_backend_convolution_functions(backend, rng):
    x = rng.normal(size=(2, 5, 6, 3)).astype("float32")
    kernel = rng.normal(size=(3, 3, 3, 4)).astype("float32")
    xt = K.placeholder((None, 5, 6, 3))
    y = K.conv2d(xt, K.constant(kernel), strides=(2, 2), padding="same")
    assert K.int_shape(y) == (None, 3, 3, 4)
    # channels_first gives the transposed result
    first = K.conv2d(K.permute_dimensions(xt, (0, 3, 1, 2)), K.constant(kernel), strides=(2, 2), padding="same",
                     data_format="channels_first")
    # the transposed convolution with the same kernel (rows, cols, output 3, input 4) maps back to x's shape
    back = K.conv2d_transpose(y, K.constant(kernel), output_shape=(2, 5, 6, 3), strides=(2, 2), padding="same")
    assert K.int_shape(back) == (None, 5, 6, 3)
    pooled = K.pool2d(xt, (2, 2), padding="valid", pool_mode="avg")
    assert K.int_shape(pooled) == (None, 4, 5, 3)  # Keras 2's K.pool2d strides default to (1, 1)
    resized = K.resize_images(xt, 2, 3, "channels_last")
    assert K.int_shape(resized) == (None, 10, 18, 3)
    # <conv(x), g> = <x, conv_transpose(g)>: the transposed convolution is the adjoint
    g = rng.normal(size=(2, 3, 3, 4)).astype("float32")
    got_y, got_first, got_pool, got_resized = K.function([xt], [y, first, pooled, resized])([x])
    gt = K.placeholder((None, 3, 3, 4))
    adjoint = K.function([gt], [K.conv2d_transpose(gt, K.constant(kernel), (2, 5, 6, 3), (2, 2), "same")])([g])[0]
    np.testing.assert_allclose(np.sum(got_y * g), np.sum(x * adjoint), rtol=1e-4)
    np.testing.assert_allclose(got_first, got_y.transpose(0, 3, 1, 2), rtol=1e-5, atol=1e-6)
    windows = np.stack([x[:, i:i + 4, j:j + 5] for i in range(2) for j in range(2)])
    np.testing.assert_allclose(got_pool, windows.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(got_resized, x.repeat(2, axis=1).repeat(3, axis=2))
    depthwise = K.depthwise_conv2d(xt, K.constant(rng.normal(size=(2, 2, 3, 2)).astype("float32")))
    separable = K.separable_conv2d(xt, K.constant(rng.normal(size=(2, 2, 3, 2)).astype("float32")),
                                   K.constant(rng.normal(size=(1, 1, 6, 5)).astype("float32")))
    assert K.int_shape(depthwise) == (None, 4, 5, 6) and K.int_shape(separable) == (None, 4, 5, 5)
    with pytest.raises(ValueError, match="conv2d expects an input of rank 4"):
        K.conv2d(K.placeholder((None, 5, 3)), K.constant(kernel))
