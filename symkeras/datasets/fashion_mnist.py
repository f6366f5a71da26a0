"""Fashion-MNIST: 60,000 training and 10,000 test images of clothes, 28 x 28 grey, labels 0-9."""

from __future__ import annotations

import gzip
import os

import numpy as np

from symkeras.datasets._files import ORIGIN
from symkeras.utils.files import get_file

FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz")


def _idx(path, offset):
    with gzip.open(path, "rb") as fh:
        return np.frombuffer(fh.read(), np.uint8, offset=offset)


def load_data(path=None, cache_dir=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 28, 28) and uint8 labels (n,).

    Args:
        path: a folder holding the four .gz files in the IDX format (Keras's cache,
            ``~/.keras/datasets/fashion-mnist``, unless given).
        cache_dir: the cache (Keras's unless given).
    """
    if path is not None:
        paths = [os.path.join(path, name) for name in FILES]
    else:
        paths = [get_file(name, origin=ORIGIN + name, cache_dir=cache_dir,
                          cache_subdir=os.path.join("datasets", "fashion-mnist")) for name in FILES]
    y_train, y_test = _idx(paths[0], 8), _idx(paths[2], 8)
    x_train = _idx(paths[1], 16).reshape(len(y_train), 28, 28)
    x_test = _idx(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
