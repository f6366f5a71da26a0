"""A two-class classifier of people from their height, weight and age (the seeds' perceptron example):
synthetic data whose label depends on all three with noise, standardized, then a small MLP.

    python examples/height_weight_age.py [--quick]
"""

import numpy as np
from _common import quick

from symkeras.layers import Activation, Dense
from symkeras.models import Sequential

rng = np.random.default_rng(4)
n = 1000
height, weight, age = rng.normal(170, 10, n), rng.normal(70, 12, n), rng.uniform(18, 70, n)
score = (weight - 0.9 * (height - 100)) / 8 + (age - 44) / 15
label = (score + rng.normal(0, 0.8, n) > 0).astype("float32")
x = np.stack([height, weight, age], 1).astype("float32")
x = (x - x.mean(0)) / x.std(0)

np.random.seed(5)
model = Sequential([Dense(16, input_shape=(3,)), Activation("relu"), Dense(1), Activation("sigmoid")])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(x[:800], label[:800], epochs=10 if quick() else 30, batch_size=32, verbose=0)
_, accuracy = model.evaluate(x[800:], label[800:], verbose=0)
print(f"test accuracy {accuracy:.3f} (the noise caps it near {np.mean((score > 0) == label):.2f})")
