"""Reading the data sets' files without running stored code: their pickles (CIFAR's batches, the object
arrays of imdb.npz and reuters.npz) are unpickled with only the few constructors plain data needs (NumPy
arrays and dtypes, lists, dicts); anything else in the file is an error, never a call."""

from __future__ import annotations

import io
import pickle
import zipfile

import numpy as np

#: the constructors a pickle of plain NumPy data refers to (modules as NumPy 1 and 2 name them)
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("builtins", "list"), ("builtins", "dict"),
            ("builtins", "bytes"), ("builtins", "int"), ("builtins", "float"), ("builtins", "str"),
            ("_codecs", "encode")}


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a data set's file holds only data")


def load_pickle(fh, encoding="bytes"):
    """The plain data pickled in the open file ``fh``.

    Raises:
        ValueError: the pickle refers to anything but NumPy arrays and Python's plain types.
    """
    try:
        return _DataUnpickler(fh, encoding=encoding).load()
    except pickle.UnpicklingError as error:
        raise ValueError(f"{getattr(fh, 'name', 'the file')}: {error}") from None


def load_npz(path) -> dict:
    """The arrays of an .npz file, object arrays included (read by ``load_pickle``)."""
    out = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            key = member[:-4] if member.endswith(".npy") else member
            with archive.open(member) as raw:
                fh = io.BytesIO(raw.read())
            version = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            if dtype.hasobject:
                array = load_pickle(fh, encoding="latin1")
                if not isinstance(array, np.ndarray):
                    raise ValueError(f"{path}: member {member} is not an array")
            else:
                fh.seek(0)
                array = np.lib.format.read_array(fh, allow_pickle=False)
            out[key] = array
    return out
