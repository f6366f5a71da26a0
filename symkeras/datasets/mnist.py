"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28 x 28 grey, labels 0-9."""

from __future__ import annotations

from symkeras.datasets._files import ORIGIN, locate
from symkeras.datasets._safe_load import load_npz

FILE_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz", cache_dir=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 28, 28) and uint8 labels (n,).

    Args:
        path: the file's name in the cache (``~/.keras/datasets/``), or an absolute path of a copy.
        cache_dir: the cache (Keras's unless given).
    """
    arrays = load_npz(locate(path, ORIGIN + "mnist.npz", FILE_HASH, cache_dir))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
