"""fit_generator / evaluate_generator / predict_generator with plain generators and Sequences."""

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.layers import Dense
from symkeras.models import Sequential
from symkeras.optimizers import SGD
from symkeras.utils import Sequence


def _data(n=48):
    rng = np.random.default_rng(0)
    x = rng.random((n, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]], "float32")).astype("float32")
    return x, y


def _model(lr=0.1):
    np.random.seed(0)
    model = Sequential([Dense(1, input_dim=3)])
    model.compile(optimizer=SGD(learning_rate=lr), loss="mse", metrics=["mae"])
    return model


def _batches(x, y, batch_size):
    while True:
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]


class Batches(Sequence):
    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_fit_generator_matches_fit_on_the_same_batches():
    x, y = _data()
    by_arrays, by_generator = _model(), _model()
    by_arrays.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    history = by_generator.fit_generator(_batches(x, y, 16), steps_per_epoch=3, epochs=3, verbose=0, workers=1)
    for a, b in zip(by_arrays.get_weights(), by_generator.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5)
    assert list(history.history) == ["loss", "mae"] and len(history.history["loss"]) == 3


@pytest.mark.parametrize("workers, use_multiprocessing", [(0, False), (2, False), (2, True)])
def test_sequence_with_workers_trains_evaluates_and_predicts(workers, use_multiprocessing):
    x, y = _data()
    sequence = Batches(x, y, 16)
    model = _model(lr=0.0)  # no change: every evaluation sees the same weights
    history = model.fit_generator(sequence, epochs=2, verbose=0, workers=workers,
                                  use_multiprocessing=use_multiprocessing, shuffle=False,
                                  validation_data=Batches(x, y, 8))
    expected = model.evaluate(x, y, batch_size=16, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"], [expected[0]] * 2, rtol=1e-5)
    np.testing.assert_allclose(model.evaluate_generator(sequence, workers=workers,
                                                        use_multiprocessing=use_multiprocessing), expected, rtol=1e-5)
    predicted = model.predict_generator(sequence, workers=workers, use_multiprocessing=use_multiprocessing)
    np.testing.assert_allclose(predicted, model.predict(x), rtol=1e-6)
    if not use_multiprocessing:
        assert sequence.epochs_ended >= 2


def test_keras1_generator_arguments_still_work():
    x, y = _data()

    class WithBatchSize:
        batch_size = 16

        def __init__(self):
            self.batches = _batches(x, y, 16)

        def __next__(self):
            return next(self.batches)

        def __iter__(self):
            return self

    model = _model()
    with pytest.warns(DeprecationWarning) as caught:
        history = model.fit_generator(WithBatchSize(), samples_per_epoch=48, nb_epoch=2, verbose=0,
                                      validation_data=WithBatchSize(), nb_val_samples=2)
    messages = {str(w.message) for w in caught}
    assert "fit_generator: the argument `samples_per_epoch` is deprecated; use `steps_per_epoch` instead." in messages
    assert "fit_generator: the argument `nb_epoch` is deprecated; use `epochs` instead." in messages
    assert "fit_generator: the argument `nb_val_samples` is deprecated; use `validation_steps` instead." in messages
    assert "val_loss" in history.history
    assert history.epoch == [0, 1]
    assert int(K.get_value(model.optimizer.iterations)) == 2 * 3  # 48 samples = 3 batches of 16 per epoch


def test_malformed_generator_output_and_missing_steps_are_clear_errors():
    model = _model()
    x, y = _data()

    def triples_of_four():
        while True:
            yield x, y, None, None

    before = model.get_weights()
    with pytest.raises(ValueError, match="Output of generator should be a tuple `\\(x, y, sample_weight\\)` or "
                                         "`\\(x, y\\)`"):
        model.fit_generator(triples_of_four(), steps_per_epoch=2, verbose=0)
    with pytest.raises(ValueError, match="`steps_per_epoch=None` is only valid for a generator based on the "
                                         "`symkeras.utils.Sequence` class"):
        model.fit_generator(_batches(x, y, 16), verbose=0)
    with pytest.raises(TypeError, match="fit_generator: unrecognized keyword arguments: \\['bogus'\\]"):
        model.fit_generator(_batches(x, y, 16), steps_per_epoch=1, bogus=1)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_generator_exceptions_reach_the_caller():
    model = _model()

    def broken():
        yield _data()
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        model.fit_generator(broken(), steps_per_epoch=3, verbose=0, workers=1)
