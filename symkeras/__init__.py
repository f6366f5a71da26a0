"""symkeras: the Keras 2 API on a symbolic graph compiler."""

__version__ = "0.1.0"
