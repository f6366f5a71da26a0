"""The same stacked LSTMs made stateful (the seeds' stateful example): each batch's last states start the
next batch, so the batch size is fixed and the samples are not shuffled.

    python examples/stateful_lstm.py [--quick]
"""

import numpy as np
from _common import quick

from symkeras.layers import LSTM, Dense
from symkeras.models import Sequential

data_dim, timesteps, classes, batch_size = 16, 8, 10, 32
batches, epochs = (2, 2) if quick() else (10, 5)
np.random.seed(0)  # (the weights' initial draw: the same run every time)
rng = np.random.default_rng(0)
x_train = rng.random((batch_size * batches, timesteps, data_dim)).astype("float32")
y_train = np.eye(classes, dtype="float32")[rng.integers(0, classes, batch_size * batches)]

model = Sequential()
model.add(LSTM(32, return_sequences=True, stateful=True, batch_input_shape=(batch_size, timesteps, data_dim)))
model.add(LSTM(32, return_sequences=True, stateful=True))
model.add(LSTM(32, stateful=True))
model.add(Dense(10, activation="softmax"))
model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
states = model.layers[0].states[0]
print(f"loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}; "
      f"first layer's carried state {tuple(states.shape)}")
model.reset_states()
