"""Bad input to the convolution family: a clear error naming the layer and the shapes or values, never a crash."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.layers import Conv1D, Conv2D, Dense, Embedding, Input, MaxPooling2D
from symkeras.models import Sequential


def test_a_kernel_larger_than_the_input_in_valid_mode():
    with pytest.raises(ValueError, match=r"conv2d_1.*kernel \(5, 5\).*larger than the input"):
        Sequential([Conv2D(2, 5, input_shape=(3, 3, 1))])
    with pytest.raises(ValueError, match=r"max_pooling2d_1.*pool \(4, 4\) is larger than the input"):
        Sequential([MaxPooling2D(4, input_shape=(3, 3, 1))])
    Sequential([Conv2D(2, 5, padding="same", input_shape=(3, 3, 1))])  # same padding: fine


def test_a_channels_mismatch_between_input_and_kernel():
    layer = Conv2D(4, 3)
    layer(Input(shape=(8, 8, 3)))
    with pytest.raises(ValueError, match=r"Layer conv2d_1: .*input has 5 channels, the kernel expects 3"):
        layer(Input(shape=(8, 8, 5)))


def test_an_input_of_the_wrong_rank():
    with pytest.raises(ValueError, match=r"conv2d_1 expects an input of rank 4 .*got shape \(None, 8, 3\)"):
        Conv2D(4, 3)(Input(shape=(8, 3)))
    with pytest.raises(ValueError, match=r"conv1d_1 expects an input of rank 3"):
        Conv1D(4, 3)(Input(shape=(8, 8, 3)))


def test_zero_or_negative_strides_and_dilation():
    with pytest.raises(ValueError, match=r"`strides` must be positive; got \(0, 1\)"):
        Conv2D(4, 3, strides=(0, 1))
    with pytest.raises(ValueError, match=r"`dilation_rate` must be positive; got \(-1,\)"):
        Conv1D(4, 3, dilation_rate=-1)
    with pytest.raises(ValueError, match="padding must be 'valid', 'same' or 'causal'"):
        Conv1D(4, 3, padding="full")
    with pytest.raises(ValueError, match="padding must be 'valid', 'same'; got 'causal'"):
        Conv2D(4, 3, padding="causal")


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("bad", [7, -1])
def test_an_embedding_index_outside_the_table(backend, bad):
    model = Sequential([Embedding(7, 3, input_length=4), Dense(1)])
    model.compile("sgd", "mse")
    good = np.array([[0, 1, 2, 6]])
    assert model.predict(good).shape == (1, 4, 1)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=rf"embedding_1 / Gather.*index {bad} is outside \[0, 7\)"):
        model.predict(np.array([[0, 1, bad, 2]]))
    with pytest.raises(ValueError, match=rf"index {bad} is outside \[0, 7\)"):
        model.train_on_batch(np.array([[0, bad, 2, 3]]), np.zeros((1, 4, 1)))
    for a, b in zip(before, model.get_weights()):  # a failing call changes no weight
        np.testing.assert_array_equal(a, b)
    assert K.get_value(model.optimizer.iterations) == 0
