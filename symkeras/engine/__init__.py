"""The engine: Layer, Node, InputLayer/Input, Network, Model (training) and Sequential."""

from symkeras.engine.base_layer import Layer, Node  # noqa: F401
from symkeras.engine.input_layer import Input, InputLayer  # noqa: F401
from symkeras.engine.network import Network  # noqa: F401
from symkeras.engine.training import Model  # noqa: F401
