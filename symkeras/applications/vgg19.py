"""VGG19: 16 convolutions in five blocks and a classifier of three dense layers (143,667,240 parameters
with the top); its inputs are prepared and its predictions named as VGG16's."""

from __future__ import annotations

from symkeras.applications._vgg import build_vgg
from symkeras.applications.vgg16 import VGG16, decode_predictions, preprocess_input  # noqa: F401

WEIGHT_FILES = (("vgg19_weights_tf_dim_ordering_tf_kernels.h5", "cbe5617147190e668d6c5d5026f83318"),
                ("vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5", "253f8cb515780f3b799900260a226db6"))


def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,  # noqa: N802
          classes=1000):
    return build_vgg("vgg19", (2, 2, 4, 4, 4), include_top, weights, input_tensor, input_shape, pooling, classes,
                     WEIGHT_FILES)


VGG19.__doc__ = VGG16.__doc__.replace("VGG16", "VGG19")
