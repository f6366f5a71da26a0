"""Sequence classification with 1-D convolutions (the seeds' Conv1D example).

    python examples/conv1d_sequence.py [--quick]
"""

import numpy as np
from _common import quick

from symkeras.layers import Conv1D, Dense, Dropout, GlobalAveragePooling1D, MaxPooling1D
from symkeras.models import Sequential

seq_length, features, samples, epochs = (32, 10, 64, 5) if quick() else (64, 100, 256, 10)
np.random.seed(0)  # (the weights' initial draw: the same run every time)
rng = np.random.default_rng(0)
x_train = rng.random((samples, seq_length, features)).astype("float32")
y_train = (x_train[:, : seq_length // 2, 0].mean(axis=1) > 0.5).astype("float32")

model = Sequential()
model.add(Conv1D(64, 3, activation="relu", input_shape=(seq_length, features)))
model.add(Conv1D(64, 3, activation="relu"))
model.add(MaxPooling1D(3))
model.add(Conv1D(128, 3, activation="relu"))
model.add(Conv1D(128, 3, activation="relu"))
model.add(GlobalAveragePooling1D())
model.add(Dropout(0.5))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=16, epochs=epochs, verbose=0)
print(f"loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}")
