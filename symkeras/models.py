"""``from symkeras.models import Sequential, Model``."""

from symkeras.engine.sequential import Sequential  # noqa: F401
from symkeras.engine.training import Model  # noqa: F401
