"""CIFAR-10: 50,000 training and 10,000 test colour images, 32 x 32, in 10 classes."""

from __future__ import annotations

import os

from symkeras.datasets import _cifar

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
FILE_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data(path=None, cache_dir=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 32, 32, 3) (channels_first: (n, 3, 32, 32))
    and uint8 labels (n, 1).

    Args:
        path: the unpacked ``cifar-10-batches-py`` folder (Keras's cache unless given).
        cache_dir: the cache (Keras's unless given).
    """
    where = _cifar.folder(path, "cifar-10-batches-py", ORIGIN, FILE_HASH, cache_dir)
    train = [_cifar.load_batch(os.path.join(where, f"data_batch_{i}")) for i in range(1, 6)]
    x_test, y_test = _cifar.load_batch(os.path.join(where, "test_batch"))
    y_train = [label for _, ys in train for label in ys]
    return ((_cifar.images([x for x, _ in train]), _cifar.labels(y_train)),
            (_cifar.images([x_test]), _cifar.labels(y_test)))
