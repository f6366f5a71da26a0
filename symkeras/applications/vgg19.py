"""VGG19: 16 convolutions in five blocks and a classifier of three dense layers (143,667,240 parameters
with the top)."""

from __future__ import annotations

from symkeras.applications import imagenet_utils
from symkeras.applications._vgg import build_vgg

WEIGHT_FILES = (("vgg19_weights_tf_dim_ordering_tf_kernels.h5", "cbe5617147190e668d6c5d5026f83318"),
                ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "253f8cb515780f3b799900260a226db6"))


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
          classes=1000):
    """The VGG19 model.

    Args:
        include_top: with the three dense layers (then the input is 224 x 224 for ImageNet's weights).
        weights: None (random initialization), ``'imagenet'`` (fetched through ``utils.get_file``), or the
            path of a weights file.
        input_tensor: a tensor (from ``Input``) to build the model on.
        input_shape: the image shape without the batch axis (at least 32 x 32).
        pooling: without the top, ``'avg'`` or ``'max'`` makes the output a vector per image.
        classes: the number of classes of the top.

    Returns:
        A ``Model``.

    Raises:
        ValueError: see ``build_vgg``.
    """
    return build_vgg("vgg19", (2, 2, 4, 4, 4), include_top, weights, input_tensor, input_shape, pooling, classes,
                     WEIGHT_FILES)


def preprocess_input(x, data_format=None):
    """RGB images (0-255) as VGG19 wants them: BGR, ImageNet's channel means subtracted."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
