"""Multi-class softmax classification with an MLP (the seeds' first Sequential example): two hidden layers
with dropout, SGD with Nesterov momentum.

    python examples/mlp_softmax.py [--quick]
"""

import numpy as np
from _common import quick

import symkeras as keras
from symkeras.layers import Dense, Dropout
from symkeras.models import Sequential
from symkeras.optimizers import SGD

samples, epochs = (200, 5) if quick() else (1000, 20)
np.random.seed(0)  # (the weights' initial draw: the same run every time)
rng = np.random.default_rng(0)
x_train = rng.random((samples, 20)).astype("float32")
labels = ((x_train - 0.5) @ np.random.default_rng(1).normal(size=(20, 10))).argmax(axis=1)
y_train = keras.utils.to_categorical(labels, num_classes=10)
x_test, y_test = x_train[: samples // 5], y_train[: samples // 5]

model = Sequential()
model.add(Dense(64, activation="relu", input_dim=20))
model.add(Dropout(0.5))
model.add(Dense(64, activation="relu"))
model.add(Dropout(0.5))
model.add(Dense(10, activation="softmax"))
sgd = SGD(learning_rate=0.01, decay=1e-6, momentum=0.9, nesterov=True)
model.compile(loss="categorical_crossentropy", optimizer=sgd, metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=epochs, batch_size=128, verbose=0)
loss, accuracy = model.evaluate(x_test, y_test, batch_size=128, verbose=0)
print(f"loss {history.history['loss'][0]:.4f} -> {history.history['loss'][-1]:.4f}; test accuracy {accuracy:.3f}")
