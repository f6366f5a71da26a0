"""Saving and loading models and weights in Keras 2's HDF5 layout."""

from symkeras.saving.hdf5 import load_model, load_weights, save_model, save_weights  # noqa: F401
