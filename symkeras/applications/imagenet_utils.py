"""What the ImageNet models share: their input shapes, the Caffe-style input preprocessing, and the
ImageNet class names of their predictions."""

from __future__ import annotations

import json

import numpy as np

from symkeras import config
from symkeras.utils.files import get_file

CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_HASH = "c2c37ea517e94d9795004a39431a14cb"
#: the ImageNet mean of each channel, in BGR order (the Caffe models' preprocessing)
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def preprocess_input(x, data_format=None, mode="caffe"):
    """Images (RGB, 0-255) as the ImageNet models want them: ``'caffe'``: BGR, each channel's ImageNet mean
    subtracted; ``'tf'``: scaled to [-1, 1]; ``'torch'``: scaled to [0, 1], normalized by ImageNet's mean
    and standard deviation.  Returns a new float array (x is not changed).

    Raises:
        ValueError: an unknown mode or data format.
    """
    data_format = data_format or config.image_data_format()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"Invalid data_format: {data_format}")
    x = np.array(x, dtype=x.dtype if np.issubdtype(np.asarray(x).dtype, np.floating) else config.floatx())
    channel_axis = -1 if data_format == "channels_last" else (0 if x.ndim == 3 else 1)
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
        x = x / 255.0
    elif mode == "caffe":
        x = np.flip(x, axis=channel_axis).copy()
        mean, std = np.array(CAFFE_MEAN_BGR), None
    else:
        raise ValueError(f"Invalid mode {mode!r}; expected 'caffe', 'tf' or 'torch'")
    shape = [1] * x.ndim
    shape[channel_axis] = 3
    x = x - mean.reshape(shape).astype(x.dtype)
    return x / std.reshape(shape).astype(x.dtype) if std is not None else x


def decode_predictions(preds, top=5, class_index=None):
    """The ``top`` ImageNet classes of each prediction: lists of ``(class_id, class_name, score)``, most
    likely first.

    Args:
        preds: predictions of shape (samples, 1000).
        top: how many classes each.
        class_index: the path of ImageNet's ``imagenet_class_index.json`` (Keras's cache,
            ``~/.keras/models/``, fetched when missing, unless given).

    Raises:
        ValueError: preds of another shape.
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
                         f"(samples, 1000)). Found array with shape: {preds.shape}")
    path = class_index or get_file("imagenet_class_index.json", CLASS_INDEX_PATH, cache_subdir="models",
                                   file_hash=CLASS_INDEX_HASH)
    with open(path) as fh:
        names = json.load(fh)
    results = []
    for pred in preds:
        best = np.argsort(pred, kind="stable")[-top:][::-1]
        results.append(sorted((tuple(names[str(i)]) + (pred[i],) for i in best), key=lambda r: r[2],
                              reverse=True))
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None):
    """The model's input shape: ``input_shape`` checked (3 axes; 3 channels for ImageNet's weights; at least
    ``min_size`` pixels a side; the default for a classifier with ImageNet's weights), or the default.

    Raises:
        ValueError: an input shape the model cannot take, saying which.
    """
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        default = (channels, default_size, default_size) if channels_first else (default_size, default_size, channels)
    else:
        default = (3, default_size, default_size) if channels_first else (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default:
            raise ValueError(f"When setting `include_top=True` and loading `imagenet` weights, `input_shape` should "
                             f"be {default}.  Received: input_shape={input_shape}")
        return default
    if input_shape:
        if len(input_shape) != 3:
            raise ValueError("`input_shape` must be a tuple of three integers.")
        channels = input_shape[0] if channels_first else input_shape[-1]
        sides = input_shape[1:] if channels_first else input_shape[:2]
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"The input must have 3 channels; Received `input_shape={input_shape}`")
        if any(side is not None and side < min_size for side in sides):
            raise ValueError(f"Input size must be at least {min_size}x{min_size}; Received: input_shape={input_shape}")
    else:
        input_shape = default if require_flatten else ((3, None, None) if channels_first else (None, None, 3))
    if require_flatten and None in input_shape:
        raise ValueError("If `include_top` is True, you should specify a static `input_shape`. Received: "
                         f"input_shape={input_shape}")
    return tuple(input_shape)
