"""VGG16: 13 convolutions in five blocks and a classifier of three dense layers (138,357,544 parameters
with the top)."""

from __future__ import annotations

from symkeras.applications import imagenet_utils
from symkeras.applications._vgg import build_vgg

WEIGHT_FILES = (("vgg16_weights_tf_dim_ordering_tf_kernels.h5", "64373286793e3c8b2b4e3219cbf3544b"),
                ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", "6d6bbae143d832006294945121d1f1fc"))


def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
          classes=1000):
    """The VGG16 model.

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
    return build_vgg("vgg16", (2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape, pooling, classes,
                     WEIGHT_FILES)


def preprocess_input(x, data_format=None):
    """RGB images (0-255) as VGG16 wants them: BGR, ImageNet's channel means subtracted."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


decode_predictions = imagenet_utils.decode_predictions
