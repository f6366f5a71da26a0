"""Dtype names and promotion rules of the IR."""

from __future__ import annotations

import numpy as np

from symkeras import config

SUPPORTED = (
    "float16", "float32", "float64",
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
    "bool",
)


def normalize(dtype) -> str:
    """Canonical dtype name; ``None`` means ``floatx()``."""
    if dtype is None:
        return config.floatx()
    if dtype.__class__ is str and dtype in SUPPORTED:  # (the common case, taken without NumPy)
        return dtype
    try:
        name = np.dtype(dtype).name
    except TypeError as exc:
        raise TypeError(f"Unknown dtype {dtype!r}.") from exc
    if name not in SUPPORTED:
        raise TypeError(f"Unsupported dtype {name!r}; expected one of {SUPPORTED}.")
    return name


def is_float(dtype: str) -> bool:
    return dtype.startswith("float")


def is_int(dtype: str) -> bool:
    return dtype.startswith(("int", "uint"))


def is_bool(dtype: str) -> bool:
    return dtype == "bool"


def is_differentiable(dtype: str) -> bool:
    """Only float paths carry gradients."""
    return is_float(dtype)


def upcast(*dtypes: str) -> str:
    """NumPy's promotion of several dtypes."""
    try:
        return _UPCASTS[dtypes]
    except (KeyError, TypeError):  # (not seen yet; or an unhashable dtype-like)
        pass
    name = np.result_type(*[np.dtype(d) for d in dtypes]).name
    if len(_UPCASTS) < 4096:
        try:
            _UPCASTS[dtypes] = name
        except TypeError:
            pass
    return name


#: upcast's results so far: graph building and every rewrite pass promote the same few pairs
_UPCASTS: dict = {}


def float_of(dtype: str) -> str:
    """The float type an op computing real results gives for ``dtype``."""
    return dtype if is_float(dtype) else config.floatx()
