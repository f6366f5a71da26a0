"""``from symkeras.models import Sequential, Model, load_model``."""

from symkeras.engine.sequential import Sequential  # noqa: F401
from symkeras.engine.training import Model  # noqa: F401
from symkeras.saving.hdf5 import load_model, save_model  # noqa: F401
