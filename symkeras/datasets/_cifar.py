"""The CIFAR batches: pickled dicts of uint8 rows (3 x 32 x 32 a row) and labels, read as data only."""

from __future__ import annotations

import os

import numpy as np

from symkeras import config
from symkeras.datasets._safe_load import load_pickle
from symkeras.utils.files import get_file


def load_batch(fpath, label_key="labels"):
    """``(data, labels)`` of one batch file: data uint8 (n, 3, 32, 32).

    Raises:
        ValueError: the file holds anything but data.
    """
    with open(fpath, "rb") as fh:
        batch = load_pickle(fh, encoding="bytes")
    batch = {(k.decode("utf8") if isinstance(k, bytes) else k): v for k, v in batch.items()}
    data = np.asarray(batch["data"], dtype=np.uint8)
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]


def folder(path, dirname, origin, file_hash, cache_dir):
    """The folder of batches: ``path`` when given, else Keras's cache (the archive fetched and unpacked)."""
    if path is not None:
        return os.fspath(path)
    return get_file(dirname, origin=origin, untar=True, file_hash=file_hash, cache_dir=cache_dir)


def images(batches) -> np.ndarray:
    """Batches of (n, 3, 32, 32) rows as one array in the configured image data format."""
    x = np.concatenate(batches) if batches else np.empty((0, 3, 32, 32), np.uint8)
    return x.transpose(0, 2, 3, 1) if config.image_data_format() == "channels_last" else x


def labels(values) -> np.ndarray:
    y = np.asarray(values, dtype=np.uint8) if not isinstance(values, np.ndarray) else values.astype(np.uint8)
    return y.reshape(len(y), 1)
