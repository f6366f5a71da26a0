"""The CUDA backend's storage: variables' values as device arrays, so that weights and optimizer state
stay on the GPU between steps; ``K.get_value``/``K.set_value`` and saving copy explicitly."""

from __future__ import annotations

import weakref

import numpy as np

from symkeras.graph.basic import Tensor
from symkeras.runtime import storage as storages


class DeviceStorage(storages.Storage):
    """Device arrays (numba.cuda) of the variables the CUDA programs compute with."""

    name = "cuda"

    def __init__(self):
        self._arrays: weakref.WeakKeyDictionary[Tensor, object] = weakref.WeakKeyDictionary()

    def array(self, var: Tensor):
        """The device array holding ``var``'s value (not a copy)."""
        try:
            return self._arrays[var]
        except KeyError:
            raise KeyError(f"Variable '{var.name}' has no value in the cuda storage.") from None

    def read(self, var: Tensor) -> np.ndarray:
        return self.array(var).copy_to_host()

    def write(self, var: Tensor, array: np.ndarray) -> None:
        from symkeras.codegen.cuda.device import cuda

        host = np.asarray(array, dtype=var.dtype, order="C")
        self._arrays[var] = cuda().to_device(host)
        storages.bump()

    def replace(self, var: Tensor, device_array) -> None:
        """Give ``var`` the buffer ``device_array`` itself (a program's fresh result).  The variable stays
        in this storage, and programs look its buffer up at every call, so nothing else needs to know
        (no ``bump``)."""
        self._arrays[var] = device_array

    def holds(self, var: Tensor) -> bool:
        return var in self._arrays

    def release(self, var: Tensor) -> np.ndarray:
        value = self.read(var)
        del self._arrays[var]
        storages.bump()
        return value


#: the device storage of this process
DEVICE = DeviceStorage()
