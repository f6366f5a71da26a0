"""Sequence classification with three stacked LSTMs (the seeds' stacked LSTM example): the first two
return their whole output sequences, the last only its final step.

    python examples/stacked_lstm.py [--quick]
"""

import numpy as np
from _common import quick

from symkeras.layers import LSTM, Dense
from symkeras.models import Sequential

data_dim, timesteps, classes = 16, 8, 10
samples, epochs = (64, 2) if quick() else (1000, 5)
np.random.seed(0)  # (the weights' initial draw: the same run every time)
rng = np.random.default_rng(0)
x_train = rng.random((samples, timesteps, data_dim)).astype("float32")
y_train = np.eye(classes, dtype="float32")[rng.integers(0, classes, samples)]

model = Sequential()
model.add(LSTM(32, return_sequences=True, input_shape=(timesteps, data_dim)))
model.add(LSTM(32, return_sequences=True))
model.add(LSTM(32))
model.add(Dense(10, activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=64, epochs=epochs, verbose=0)
print(f"loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}")
