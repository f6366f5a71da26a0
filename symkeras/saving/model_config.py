"""A model's architecture as JSON or a config dict (Keras 2's ``to_json``, ``model_from_json``,
``model_from_config``), weights not included."""

from __future__ import annotations

import json

from symkeras.saving.hdf5 import BACKEND, KERAS_VERSION, _json_default


def model_to_json(model, **kwargs) -> str:
    """``{"class_name", "config", "keras_version", "backend"}`` as JSON; ``kwargs`` go to ``json.dumps``."""
    config = {"class_name": type(model).__name__, "config": model.get_config(), "keras_version": KERAS_VERSION,
              "backend": BACKEND}
    return json.dumps(config, default=_json_default, **kwargs)


def model_from_config(config, custom_objects=None, safe_mode=True):
    """The (untrained) model of ``{"class_name", "config"}``.

    Raises:
        TypeError: ``config`` is not a dict (Keras 2's check).
        ValueError: an unknown class, or code stored in a Lambda layer while ``safe_mode`` is on.
    """
    from symkeras.layers import deserialize

    if not isinstance(config, dict):
        raise TypeError(f"`model_from_config` expects a dictionary, not a {type(config).__name__}; to load a "
                        f"Sequential from a list of layer configs use `Sequential.from_config(config)`.")
    return deserialize(config, custom_objects=custom_objects, safe_mode=safe_mode)


def model_from_json(json_string, custom_objects=None, safe_mode=True):
    """The (untrained) model of ``model.to_json()``'s text; ``safe_mode`` as in ``load_model``."""
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as error:
        raise ValueError(f"model_from_json: the text is not JSON ({error}).") from None
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)
