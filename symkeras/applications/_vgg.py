"""The VGG architectures (Simonyan and Zisserman, 2014): blocks of 3x3 convolutions, each ending in a 2x2
max pooling, then a classifier of two 4096-unit layers; the layer names are Keras's, so its weight files
load."""

from __future__ import annotations

import os

from symkeras import config
from symkeras.applications.imagenet_utils import obtain_input_shape
from symkeras.utils.files import get_file

WEIGHTS_ROOT = "https://storage.googleapis.com/tensorflow/keras-applications/"


def build_vgg(name, convs_per_block, include_top, weights, input_tensor, input_shape, pooling, classes,
              weight_files):
    """A VGG model with ``convs_per_block`` convolutions in each of its five blocks (64, 128, 256, 512 and
    512 filters); ``weight_files``: ((file, hash) with the top, (file, hash) without), under WEIGHTS_ROOT.

    Raises:
        ValueError: weights neither None, 'imagenet' nor an existing file; ImageNet's weights with other
            than 1000 classes; an input shape the model cannot take.
    """
    from symkeras import layers
    from symkeras.engine.training import Model
    from symkeras.utils.layer_utils import get_source_inputs

    if not (weights in (None, "imagenet") or os.path.exists(weights)):
        raise ValueError("The `weights` argument should be either `None` (random initialization), `imagenet` "
                         "(pre-training on ImageNet), or the path to the weights file to be loaded.  Received: "
                         f"weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights` as `"imagenet"` with `include_top` as true, `classes` should be '
                         f"1000.  Received: classes={classes}")
    data_format = config.image_data_format()
    input_shape = obtain_input_shape(input_shape, 224, 32, data_format, include_top, weights)
    if input_tensor is None:
        inputs = image = layers.Input(shape=input_shape)
    else:
        image = input_tensor if hasattr(input_tensor, "_keras_history") else layers.Input(tensor=input_tensor,
                                                                                         shape=input_shape)
        inputs = get_source_inputs(image)
    x = image
    for block, (filters, count) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), start=1):
        for k in range(1, count + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{k}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D()(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D()(x)
    model = Model(inputs, x, name=name)
    if weights == "imagenet":
        file, file_hash = weight_files[0] if include_top else weight_files[1]
        weights = get_file(file, WEIGHTS_ROOT + f"{name}/{file}", cache_subdir="models", file_hash=file_hash)
    if weights is not None:
        model.load_weights(weights)
    return model
