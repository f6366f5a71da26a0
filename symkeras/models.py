"""``from symkeras.models import Sequential, Model, load_model, model_from_json, clone_model``."""

from symkeras.engine.cloning import clone_model  # noqa: F401
from symkeras.engine.sequential import Sequential  # noqa: F401
from symkeras.engine.training import Model  # noqa: F401
from symkeras.saving.hdf5 import load_model, save_model  # noqa: F401
from symkeras.saving.model_config import model_from_config, model_from_json  # noqa: F401
