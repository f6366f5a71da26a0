"""Sequence classification with an Embedding and an LSTM (the seeds' LSTM example), on word-index
sequences padded to one length.

    python examples/embedding_lstm.py [--quick]
"""

import numpy as np
from _common import quick

from symkeras.layers import LSTM, Dense, Dropout, Embedding
from symkeras.models import Sequential
from symkeras.preprocessing.sequence import pad_sequences

max_features, maxlen, samples, epochs = (200, 20, 64, 2) if quick() else (1024, 80, 512, 5)
np.random.seed(0)  # (the weights' initial draw: the same run every time)
rng = np.random.default_rng(0)
texts = [list(rng.integers(1, max_features, size=rng.integers(5, maxlen + 10))) for _ in range(samples)]
x_train = pad_sequences(texts, maxlen=maxlen)
y_train = np.array([np.mean(t) > max_features / 2 for t in texts], dtype="float32")

model = Sequential()
model.add(Embedding(max_features, output_dim=64 if quick() else 256))
model.add(LSTM(32 if quick() else 128))
model.add(Dropout(0.5))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
history = model.fit(x_train, y_train, batch_size=16, epochs=epochs, verbose=0)
print(f"padded to {x_train.shape}; loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}")
