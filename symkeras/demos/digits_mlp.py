"""`make demo`: a Keras 2 MLP trained on scikit-learn's bundled handwritten digits (8x8 images).

    python -m symkeras.demos.digits_mlp
"""

from __future__ import annotations

import numpy as np

from symkeras.layers import Dense, Dropout
from symkeras.models import Sequential
from symkeras.optimizers import RMSprop
from symkeras.utils import to_categorical


def load_digits_split(test_fraction=0.2, seed=0):
    """(x_train, y_train), (x_test, y_test): pixels scaled to [0, 1], labels one-hot."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    y = to_categorical(digits.target, 10)
    order = np.random.default_rng(seed).permutation(len(x))
    split = int(len(x) * (1 - test_fraction))
    train, test = order[:split], order[split:]
    return (x[train], y[train]), (x[test], y[test])


def build_model():
    model = Sequential()
    model.add(Dense(128, activation="relu", input_shape=(64,)))
    model.add(Dropout(0.2))
    model.add(Dense(64, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=RMSprop(learning_rate=0.002), metrics=["accuracy"])
    return model


def run(epochs=20, verbose=1, seed=0):
    """Train, print the summary, the progress and the test accuracy; returns the test accuracy."""
    np.random.seed(seed)
    (x_train, y_train), (x_test, y_test) = load_digits_split(seed=seed)
    model = build_model()
    model.summary()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, verbose=verbose, validation_split=0.1)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {accuracy:.4f} ({len(x_test)} held-out digits)")
    return accuracy


if __name__ == "__main__":
    run()
