"""Where a data set's file is: the caller's absolute path, or Keras's cache (fetched when missing)."""

from __future__ import annotations

import os

from symkeras.utils.files import get_file

#: where Keras's data sets are published
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def locate(path, origin, file_hash, cache_dir=None, **options) -> str:
    """``path`` itself when it is absolute and exists (the caller's own file: not checked), else
    ``get_file(path, origin, file_hash=file_hash)`` in the cache (``cache_dir``, else Keras's)."""
    path = os.fspath(path)
    if os.path.isabs(path) and os.path.exists(path):
        return path
    return get_file(path, origin=origin, file_hash=file_hash, cache_dir=cache_dir, **options)
