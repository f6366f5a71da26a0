"""Variables' values live in storages, not in the IR.

A variable tensor is identity, dtype and shape.  Its value is held by one
storage at a time, its *home*: the host storage (NumPy arrays in this
process, used by the CPU backends) unless a backend with memory of its own
(a GPU's) moved it there.  ``K.get_value``/``K.set_value``, layers' weights,
saving and the optimizers' state all go through ``get_value``/``set_values``
here, whatever the home is.

Storages hold their variables weakly: a value goes away with its variable.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable

import numpy as np

from symkeras.graph import basic, shapes
from symkeras.graph.basic import Tensor

_epoch = [0]


def epoch() -> int:
    """Changes whenever a variable gets a new buffer or moves between storages (programs keep what they
    looked up until then)."""
    return _epoch[0]


def bump() -> None:
    """Note that buffers changed (storages call it from ``write`` and ``release``)."""
    _epoch[0] += 1


class Storage:
    """Where a backend keeps the values of the variables it computes with.

    Subclasses implement ``read`` (a host copy), ``write`` (from a host
    array), ``holds`` and ``release`` (forget a variable handed to another
    storage, returning its value); ``write`` and ``release`` call ``bump()``.
    """

    name = "storage"

    def read(self, var: Tensor) -> np.ndarray:
        raise NotImplementedError

    def write(self, var: Tensor, array: np.ndarray) -> None:
        raise NotImplementedError

    def holds(self, var: Tensor) -> bool:
        raise NotImplementedError

    def release(self, var: Tensor) -> np.ndarray:
        raise NotImplementedError


class HostStorage(Storage):
    """NumPy arrays in this process: the storage of the CPU backends.

    ``array(var)`` is the live buffer a CPU program computes in (updates are
    written into it in place); a program may keep the buffers it looked up
    until ``epoch()`` changes.
    """

    name = "host"

    def __init__(self):
        self._arrays: weakref.WeakKeyDictionary[Tensor, np.ndarray] = weakref.WeakKeyDictionary()

    def array(self, var: Tensor) -> np.ndarray:
        """The buffer holding ``var``'s value (not a copy)."""
        try:
            return self._arrays[var]
        except KeyError:
            raise KeyError(f"Variable '{var.name}' has no value in the {self.name} storage "
                           "(give it one with K.set_value).") from None

    def read(self, var: Tensor) -> np.ndarray:
        return np.array(self.array(var), copy=True)

    def write(self, var: Tensor, array: np.ndarray) -> None:
        """Give ``var`` a new buffer holding ``array`` (C-ordered, of the variable's dtype)."""
        self._arrays[var] = np.array(array, dtype=var.dtype, copy=True, order="C")
        bump()

    def adopt(self, var: Tensor, array: np.ndarray) -> None:
        """Give ``var`` the buffer ``array`` itself, not a copy: a fresh C-ordered array of the variable's
        dtype that nothing else holds (a new variable's value, just converted)."""
        assert array.dtype == var.dtype and array.flags.c_contiguous and array.flags.owndata
        self._arrays[var] = array
        bump()

    def holds(self, var: Tensor) -> bool:
        return var in self._arrays

    def release(self, var: Tensor) -> np.ndarray:
        bump()
        return self._arrays.pop(var)


#: the host storage of this process
HOST = HostStorage()
_homes: weakref.WeakKeyDictionary[Tensor, Storage] = weakref.WeakKeyDictionary()


def _check_variable(var, what: str) -> Tensor:
    if not isinstance(var, Tensor) or var.kind != "variable":
        raise TypeError(f"{what} needs a variable; got {var!r}.")
    return var


def home(var: Tensor) -> Storage:
    """The storage holding ``var``'s value now."""
    return _homes.get(var, HOST)


def move(var: Tensor, storage: Storage) -> None:
    """Hand ``var``'s value over to ``storage`` (it becomes the variable's home)."""
    current = home(var)
    if current is storage:
        return
    value = current.release(var)
    storage.write(var, value)
    bump()
    if storage is HOST:
        _homes.pop(var, None)
    else:
        _homes[var] = storage


def variable(value, dtype=None, name=None) -> Tensor:
    """A new variable holding ``value`` (dtype defaults to floatx); its value goes to the host storage."""
    array = basic.checked_array(value, basic.dtypes.normalize(dtype), f"variable '{name}'")
    var = basic.variable(array.shape, dtype=array.dtype, name=name)
    HOST.adopt(var, array)  # (checked_array made the copy: a second one would touch every page again)
    return var


def get_value(var: Tensor) -> np.ndarray:
    """A host copy of ``var``'s value, wherever it lives."""
    _check_variable(var, "get_value")
    return home(var).read(var)


def _checked(var: Tensor, value) -> np.ndarray:
    _check_variable(var, "set_value")
    array = basic.checked_array(value, var.dtype, f"variable '{var.name}'")
    if array.shape != var.shape:
        raise ValueError(f"Cannot assign a value of shape {shapes.fmt(array.shape)} to variable "
                         f"'{var.name}' of shape {shapes.fmt(var.shape)}; no variable was changed.")
    return array


def set_value(var: Tensor, value) -> None:
    """Assign ``var`` (shape must match; the dtype is converted)."""
    set_values([(var, value)])


def set_values(pairs: Iterable[tuple[Tensor, object]]) -> None:
    """Assign several variables: every value is checked before any is assigned."""
    staged = [(var, _checked(var, value)) for var, value in pairs]
    for var, array in staged:
        home(var).write(var, array)
