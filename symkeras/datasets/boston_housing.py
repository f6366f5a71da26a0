"""The Boston housing prices: 506 samples of 13 features and the median value, in $1000s."""

from __future__ import annotations

import numpy as np

from symkeras.datasets._files import ORIGIN, locate
from symkeras.datasets._safe_load import load_npz

FILE_HASH = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113, cache_dir=None):
    """``(x_train, y_train), (x_test, y_test)``: float64 features (n, 13) and prices (n,), shuffled by
    ``seed``, the last ``test_split`` of them the test set.

    Raises:
        ValueError: test_split outside [0, 1).
    """
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), got {test_split}")
    arrays = load_npz(locate(path, ORIGIN + "boston_housing.npz", FILE_HASH, cache_dir))
    x, y = arrays["x"], arrays["y"]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
