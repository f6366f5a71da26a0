"""Serializing objects as {"class_name", "config"} and finding them again by name, as Keras 2 does."""

from __future__ import annotations

import contextlib
import inspect
import warnings

_CUSTOM_OBJECTS: dict[str, object] = {}


@contextlib.contextmanager
def custom_object_scope(*scopes):
    """``with custom_object_scope({"MyLayer": MyLayer}): load_model(...)``."""
    saved = dict(_CUSTOM_OBJECTS)
    for scope in scopes:
        _CUSTOM_OBJECTS.update(scope)
    try:
        yield _CUSTOM_OBJECTS
    finally:
        _CUSTOM_OBJECTS.clear()
        _CUSTOM_OBJECTS.update(saved)


class CustomObjectScope:
    """``with CustomObjectScope({"MyLayer": MyLayer}):``: the names of custom classes and functions known
    to deserialization (``load_model``, ``model_from_json``) inside the block (Keras 2's class form of
    ``custom_object_scope``)."""

    def __init__(self, *scopes):
        self.scopes = scopes
        self._context = None

    def __enter__(self):
        self._context = custom_object_scope(*self.scopes)
        return self._context.__enter__()

    def __exit__(self, *exc):
        return self._context.__exit__(*exc)


def serialize_keras_object(instance):
    """``{"class_name", "config"}`` of an object with ``get_config``, or a function's name (Keras 2's name
    of ``serialize_object``)."""
    return serialize_object(instance)


def deserialize_keras_object(identifier, module_objects=None, custom_objects=None, printable_module_name="object"):
    """The object named by ``identifier`` (a name, or a ``{"class_name", "config"}``), looked up in
    ``custom_objects``, the custom-object scope and ``module_objects``.

    Raises:
        ValueError: an unknown name.
    """
    return deserialize_object(identifier, module_objects or {}, custom_objects, kind=printable_module_name)


def get_custom_objects() -> dict:
    """The global registry of custom objects (a dict users may update)."""
    return _CUSTOM_OBJECTS


def serialize_object(instance):
    """``{"class_name": ..., "config": ...}`` of an object with get_config, or a function's name."""
    if instance is None:
        return None
    if hasattr(instance, "get_config"):
        return {"class_name": instance.__class__.__name__, "config": instance.get_config()}
    if hasattr(instance, "__name__"):
        return instance.__name__
    raise ValueError(f"Cannot serialize {instance!r}: it has neither get_config nor a name.")


def deserialize_object(identifier, module_objects: dict, custom_objects=None, kind: str = "object"):
    """The object named by ``identifier`` (a name or a {"class_name", "config"} dict)."""
    custom_objects = custom_objects or {}
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(f"Improper config format for a {kind}: {identifier!r}.")
        name = identifier["class_name"]
        cls = custom_objects.get(name) or _CUSTOM_OBJECTS.get(name) or module_objects.get(name)
        if cls is None:
            raise ValueError(f"Unknown {kind}: {name}")
        config = identifier["config"]
        if hasattr(cls, "from_config"):
            parameters = inspect.signature(cls.from_config).parameters
            if "custom_objects" in parameters:
                return cls.from_config(config, custom_objects={**_CUSTOM_OBJECTS, **custom_objects})
            return cls.from_config(config)
        return cls(**config)
    if isinstance(identifier, str):
        found = custom_objects.get(identifier) or _CUSTOM_OBJECTS.get(identifier) or module_objects.get(identifier)
        if found is None:
            raise ValueError(f"Unknown {kind}: {identifier}")
        return found
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def get_instance(identifier, deserialize, kind: str):
    """An object from a name (a class or factory, called with no arguments), a config dict, or itself if
    callable; None stays None.  Serves initializers, regularizers and constraints."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        found = deserialize(identifier)
        return found() if isinstance(found, type) or inspect.isfunction(found) else found
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret {kind} identifier: {identifier!r}")


def renamed_argument(kwargs: dict, old: str, new: str, owner: str, convert=None) -> None:
    """Move a Keras 1 keyword ``old`` to ``new`` in ``kwargs`` with a DeprecationWarning naming both."""
    if old not in kwargs:
        return
    value = kwargs.pop(old)
    warnings.warn(f"{owner}: the argument `{old}` is deprecated; use `{new}` instead.", DeprecationWarning,
                  stacklevel=3)
    if new in kwargs:
        raise TypeError(f"{owner} got both `{old}` and its modern spelling `{new}`.")
    kwargs[new] = convert(value) if convert else value


def to_list(x) -> list:
    """``x`` as a list (a tuple becomes a list; a single object a one-element list)."""
    if isinstance(x, list):
        return x
    if isinstance(x, tuple):
        return list(x)
    return [x]


def unpack_singleton(x):
    return x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x
