"""Keras 2 layers: ``from symkeras.layers import Dense, Dropout, Activation, Input``."""

from symkeras.engine.base_layer import Layer  # noqa: F401
from symkeras.engine.input_layer import Input, InputLayer  # noqa: F401
from symkeras.layers.advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU  # noqa: F401
from symkeras.layers.convolutional import (  # noqa: F401
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Conv3D,
    Conv3DTranspose,
    Convolution1D,
    Convolution2D,
    Convolution2DTranspose,
    Convolution3D,
    Convolution3DTranspose,
    Deconv2D,
    Deconv3D,
    Deconvolution2D,
    Deconvolution3D,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
    SeparableConvolution1D,
    SeparableConvolution2D,
)
from symkeras.layers.core import (  # noqa: F401
    Activation,
    ActivityRegularization,
    Dense,
    Dropout,
    Flatten,
    Lambda,
    Masking,
    Permute,
    RepeatVector,
    Reshape,
    SpatialDropout1D,
    SpatialDropout2D,
    SpatialDropout3D,
)
from symkeras.layers.embeddings import Embedding  # noqa: F401
from symkeras.layers.merge import (  # noqa: F401
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from symkeras.layers.noise import AlphaDropout, GaussianDropout, GaussianNoise  # noqa: F401
from symkeras.layers.normalization import BatchNormalization  # noqa: F401
from symkeras.layers.pooling import (  # noqa: F401
    AveragePooling1D,
    AveragePooling2D,
    AveragePooling3D,
    AvgPool1D,
    AvgPool2D,
    AvgPool3D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalAvgPool3D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPool3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
    MaxPool1D,
    MaxPool2D,
    MaxPool3D,
    MaxPooling1D,
    MaxPooling2D,
    MaxPooling3D,
)
from symkeras.layers.recurrent import GRU, LSTM, RNN, SimpleRNN  # noqa: F401
from symkeras.layers.recurrent_cells import GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells  # noqa: F401
from symkeras.layers.spatial import (  # noqa: F401
    Cropping1D,
    Cropping2D,
    Cropping3D,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)
from symkeras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper  # noqa: F401
from symkeras.utils.generic_utils import deserialize_object


def deserialize(config, custom_objects=None, safe_mode=None):
    """A layer (or model) from its {"class_name", "config"}.

    Args:
        config: the layer's serialized form.
        custom_objects: names of custom classes and functions the config refers to.
        safe_mode: refuse to deserialize stored bytecode (Lambda functions).  None: the setting of the
            enclosing load (``load_model(..., safe_mode=...)``), else True.

    Raises:
        ValueError: for an unknown class, or stored code in safe mode (naming the layer).
    """
    from symkeras import models
    from symkeras.saving.safe_mode import resolve, safe_mode_scope

    objects = {name: obj for name, obj in globals().items() if isinstance(obj, type)}
    objects.update(Sequential=models.Sequential, Model=models.Model, Functional=models.Model)
    with safe_mode_scope(resolve(safe_mode)):
        return deserialize_object(config, objects, custom_objects, kind="layer")


def serialize(layer) -> dict:
    """A layer's (or model's) ``{"class_name", "config"}``, as ``deserialize`` reads it."""
    return {"class_name": layer.__class__.__name__, "config": layer.get_config()}
