"""Binary classification with an MLP and RMSprop (the seeds' second Sequential example).

    python examples/mlp_binary.py [--quick]
"""

import numpy as np
from _common import quick

from symkeras.layers import Dense, Dropout
from symkeras.models import Sequential

samples, epochs = (200, 5) if quick() else (1000, 20)
np.random.seed(0)  # (the weights' initial draw: the same run every time)
rng = np.random.default_rng(0)
x_train = rng.random((samples, 20)).astype("float32")
y_train = (x_train[:, :10].sum(axis=1) > 5).astype("float32")

model = Sequential()
model.add(Dense(64, input_dim=20, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(64, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0)
loss, accuracy = model.evaluate(x_train, y_train, batch_size=128, verbose=0)
print(f"loss {history.history['loss'][0]:.4f} -> {loss:.4f}; training accuracy {accuracy:.3f}")
