"""``HDF5Matrix``: a dataset of an HDF5 file used in place of a NumPy array (read a slice at a time)."""

from __future__ import annotations

import numpy as np


class HDF5Matrix:
    """Rows ``start:end`` of dataset ``dataset`` of the HDF5 file ``datapath``, indexed like an array
    (integers, slices, increasing index lists), each read passed through ``normalizer`` when given.

    Keras's training loops read it batch by batch; shuffle with ``shuffle="batch"`` there (HDF5 reads
    want increasing indices).  Files stay open, one handle per path, shared by the matrices on it.

    Raises:
        KeyError: the file has no such dataset.
        IndexError: an index past ``end``.
    """

    refs: dict = {}

    def __init__(self, datapath, dataset, start=0, end=None, normalizer=None):
        import h5py

        if datapath not in self.refs:
            self.refs[datapath] = h5py.File(datapath, "r")
        self.data = self.refs[datapath][dataset]
        self.start = start
        self.end = self.data.shape[0] if end is None else end
        self.normalizer = normalizer
        first = self.data[0:1] if normalizer is None else normalizer(self.data[0:1])
        self._base_shape, self._base_dtype = first.shape[1:], first.dtype

    def __len__(self):
        return self.end - self.start

    def _index(self, key):
        if isinstance(key, slice):
            if key.step not in (None, 1):
                raise IndexError(f"HDF5Matrix: slices with a step are not supported (got {key})")
            start = 0 if key.start is None else key.start
            stop = self.shape[0] if key.stop is None else key.stop
            if stop + self.start > self.end:
                raise IndexError(f"HDF5Matrix: rows up to {stop} asked for, it has {len(self)}")
            return slice(start + self.start, stop + self.start)
        if isinstance(key, (int, np.integer)):
            if not 0 <= key < len(self):
                raise IndexError(f"HDF5Matrix: row {key} asked for, it has {len(self)}")
            return int(key) + self.start
        keys = np.asarray(key)
        if keys.size and (keys.max() >= len(self) or keys.min() < 0):
            raise IndexError(f"HDF5Matrix: rows up to {keys.max()} asked for, it has {len(self)}")
        return (keys + self.start).tolist()

    def __getitem__(self, key):
        rows = self.data[self._index(key)]
        return rows if self.normalizer is None else self.normalizer(rows)

    def __array__(self, dtype=None, copy=None):
        rows = self[:]
        return np.asarray(rows, dtype=dtype)

    @property
    def shape(self):
        return (self.end - self.start,) + self._base_shape

    @property
    def dtype(self):
        return self._base_dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))
