"""CIFAR-100: 50,000 training and 10,000 test colour images, 32 x 32, in 100 fine or 20 coarse classes."""

from __future__ import annotations

import os

from symkeras.datasets import _cifar

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
FILE_HASH = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine", path=None, cache_dir=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 32, 32, 3) (channels_first: (n, 3, 32, 32))
    and uint8 labels (n, 1).

    Args:
        label_mode: ``'fine'`` (100 classes) or ``'coarse'`` (20).
        path: the unpacked ``cifar-100-python`` folder (Keras's cache unless given).
        cache_dir: the cache (Keras's unless given).

    Raises:
        ValueError: another label_mode.
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    where = _cifar.folder(path, "cifar-100-python", ORIGIN, FILE_HASH, cache_dir)
    x_train, y_train = _cifar.load_batch(os.path.join(where, "train"), label_key=label_mode + "_labels")
    x_test, y_test = _cifar.load_batch(os.path.join(where, "test"), label_key=label_mode + "_labels")
    return ((_cifar.images([x_train]), _cifar.labels(y_train)), (_cifar.images([x_test]), _cifar.labels(y_test)))
