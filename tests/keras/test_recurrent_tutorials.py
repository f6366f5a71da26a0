"""The seeds' sequence examples, with only the import line changed (small data and few epochs)."""

import numpy as np

import symkeras as keras
from symkeras.layers import LSTM, Dense, Dropout, Embedding
from symkeras.models import Sequential


def test_the_three_ways_to_give_an_lstm_its_input_shape():
    shapes = []
    for make in (lambda: LSTM(32, input_shape=(10, 64)), lambda: LSTM(32, batch_input_shape=(None, 10, 64)),
                 lambda: LSTM(32, input_length=10, input_dim=64)):
        model = Sequential()
        model.add(make())
        shapes.append((model.input_shape, model.output_shape))
    assert shapes == [((None, 10, 64), (None, 32))] * 3


def test_embedding_then_lstm_sequence_classification():
    np.random.seed(0)
    max_features = 50
    x_train = np.random.randint(1, max_features, size=(64, 12))
    y_train = (x_train[:, :3].mean(axis=1) > max_features / 2).astype("float32")
    model = Sequential()
    model.add(Embedding(max_features, output_dim=16))
    model.add(LSTM(16))
    model.add(Dropout(0.5))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=16, epochs=4, verbose=0)
    score = model.evaluate(x_train, y_train, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(score) == 2 and 0.0 <= score[1] <= 1.0


def test_stacked_lstm_sequence_classification():
    np.random.seed(1)
    data_dim, timesteps, num_classes = 16, 8, 10
    model = Sequential()
    model.add(LSTM(32, return_sequences=True, input_shape=(timesteps, data_dim)))  # returns (batch, 8, 32)
    model.add(LSTM(32, return_sequences=True))
    model.add(LSTM(32))  # returns (batch, 32)
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    x_train = np.random.random((200, timesteps, data_dim))
    y_train = keras.utils.to_categorical(np.random.randint(num_classes, size=(200, 1)), num_classes)
    x_val = np.random.random((40, timesteps, data_dim))
    y_val = keras.utils.to_categorical(np.random.randint(num_classes, size=(40, 1)), num_classes)
    history = model.fit(x_train, y_train, batch_size=64, epochs=3, validation_data=(x_val, y_val), verbose=0)
    assert [len(history.history[k]) for k in ("loss", "val_loss", "accuracy", "val_accuracy")] == [3] * 4
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x_val).shape == (40, 10)


def test_stateful_stacked_lstm_carries_states_across_batches():
    np.random.seed(2)
    data_dim, timesteps, num_classes, batch_size = 16, 8, 10, 32
    model = Sequential()
    model.add(LSTM(32, return_sequences=True, stateful=True, batch_input_shape=(batch_size, timesteps, data_dim)))
    model.add(LSTM(32, return_sequences=True, stateful=True))
    model.add(LSTM(32, stateful=True))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    x_train = np.random.random((batch_size * 4, timesteps, data_dim))
    y_train = np.random.random((batch_size * 4, num_classes))
    x_val = np.random.random((batch_size * 2, timesteps, data_dim))
    y_val = np.random.random((batch_size * 2, num_classes))
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=2, shuffle=False,
                        validation_data=(x_val, y_val), verbose=0)
    assert len(history.history["val_loss"]) == 2
    # the states carry over: the same batch twice gives different outputs, unless the states are reset
    model.reset_states()
    first = model.predict(x_val[:batch_size], batch_size=batch_size)
    again = model.predict(x_val[:batch_size], batch_size=batch_size)
    model.reset_states()
    after_reset = model.predict(x_val[:batch_size], batch_size=batch_size)
    assert np.abs(first - again).max() > 1e-6
    np.testing.assert_array_equal(first, after_reset)
