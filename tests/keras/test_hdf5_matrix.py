"""HDF5Matrix: an HDF5 dataset indexed as an array, and fit/evaluate/predict reading from it."""

import h5py
import numpy as np
import pytest

from symkeras.layers import Dense
from symkeras.models import Sequential
from symkeras.utils import HDF5Matrix


@pytest.fixture
def data_file(tmp_path, rng):
    path = str(tmp_path / "data.h5")
    with h5py.File(path, "w") as f:
        f["x"] = rng.normal(size=(40, 3)).astype("float32")
        f["y"] = (f["x"][:, :1] * 2.0).astype("float32")
    yield path
    HDF5Matrix.refs.pop(path).close()


def test_indexing_reads_the_rows_of_its_range(data_file):
    full = h5py.File(data_file, "r")["x"][:]
    part = HDF5Matrix(data_file, "x", start=10, end=30, normalizer=lambda v: v * 10)
    assert len(part) == 20 and part.shape == (20, 3) and part.ndim == 2 and part.dtype == np.float32
    np.testing.assert_allclose(part[0], full[10] * 10)
    np.testing.assert_allclose(part[2:5], full[12:15] * 10)
    np.testing.assert_allclose(part[np.array([1, 4, 7])], full[[11, 14, 17]] * 10)
    np.testing.assert_allclose(np.asarray(part), full[10:30] * 10)
    with pytest.raises(IndexError, match="row 20 asked for, it has 20"):
        part[20]
    with pytest.raises(IndexError, match="rows up to 25 asked for"):
        part[:25]
    with pytest.raises(KeyError):
        HDF5Matrix(data_file, "missing")


def test_a_model_trains_and_predicts_from_hdf5_matrices(data_file):
    x_train, y_train = HDF5Matrix(data_file, "x", end=30), HDF5Matrix(data_file, "y", end=30)
    x_test = HDF5Matrix(data_file, "x", start=30)
    model = Sequential([Dense(1, input_dim=3)])
    model.compile("sgd", "mse")
    history = model.fit(x_train, y_train, batch_size=8, epochs=3, shuffle="batch", verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x_test).shape == (10, 1)
    assert np.isfinite(model.evaluate(x_train, y_train, verbose=0))
