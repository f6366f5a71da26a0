"""Linear regression with one Dense unit, written with Keras 1's spellings (the seeds' regression
example: ``output_dim``, ``init``, ``nb_epoch``); the weight reaches ~3, the bias ~2.

    python examples/linear_regression.py [--quick]
"""

import warnings

import numpy as np
from _common import quick

from symkeras.layers import Dense
from symkeras.models import Sequential

warnings.simplefilter("ignore", DeprecationWarning)  # (Keras 1's names work, with a warning each)
np.random.seed(0)  # (the weights' initial draw: the same run every time)
rng = np.random.default_rng(3)
x = np.linspace(-1, 1, 200).astype("float32")
y = 3 * x + 2 + rng.normal(0, 0.05, 200).astype("float32")

model = Sequential()
model.add(Dense(output_dim=1, input_dim=1, init="uniform"))
model.compile(loss="mse", optimizer="sgd")
model.fit(x, y, nb_epoch=40 if quick() else 100, batch_size=10, verbose=0)
w, b = model.layers[0].get_weights()
print(f"w = {w[0, 0]:.3f}, b = {b[0]:.3f}")
