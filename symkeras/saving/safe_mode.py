"""Safe mode: loading a model file never runs code stored in it unless the caller opts in.

Keras 3's rule: ``load_model(..., safe_mode=True)`` (the default), ``model_from_json``,
``model_from_config`` and ``layers.deserialize`` refuse to turn stored bytecode (a Lambda layer's
function or output shape) back into a function.  ``safe_mode=False``, or
``symkeras.config.enable_unsafe_deserialization()`` for the whole process, allows it.  A direct
``Lambda.from_config(config)`` outside any of those (cloning a model you built, say) is your own
config and is allowed, as in Keras 3.

The setting travels through nested deserialization (a Sequential's layers, a functional model's) in a
thread-local scope.
"""

from __future__ import annotations

import contextlib
import threading

from symkeras import config

_local = threading.local()


def in_safe_mode() -> bool | None:
    """True or False inside a load or deserialize call; None outside any (then nothing was asked)."""
    if config.unsafe_deserialization_enabled():
        return False
    return getattr(_local, "safe_mode", None)


def resolve(safe_mode: bool | None) -> bool:
    """The safe mode of an entry point called with ``safe_mode``: its own value, else the enclosing
    call's, else on (files from elsewhere are untrusted)."""
    if config.unsafe_deserialization_enabled():
        return False
    if safe_mode is not None:
        return bool(safe_mode)
    inherited = in_safe_mode()
    return True if inherited is None else inherited


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool):
    """Deserialize with ``safe_mode`` in force (restored afterwards, also on errors)."""
    saved = getattr(_local, "safe_mode", None)
    _local.safe_mode = bool(safe_mode)
    try:
        yield
    finally:
        _local.safe_mode = saved


def refuse_code(layer_name: str, what: str) -> None:
    """Raise the error of safe mode for ``layer_name``'s stored ``what`` (e.g. "function")."""
    raise ValueError(
        f"Lambda layer {layer_name!r}: its {what} is stored as Python bytecode, and deserializing it would "
        f"run code from the file. This is refused by default (safe mode). If you trust the file's source, "
        f"pass safe_mode=False to the loading function (load_model, model_from_json, model_from_config, "
        f"layers.deserialize), or call symkeras.config.enable_unsafe_deserialization().")
