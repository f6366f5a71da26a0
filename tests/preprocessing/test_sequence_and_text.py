"""keras.preprocessing.sequence and .text against Keras 2 (fixtures written by tf-keras 2.21: see
tests/fixtures/make_keras2_preprocessing_fixtures.py), and their errors."""

import json
import os

import numpy as np
import pytest
from fixtures.keras2_preprocessing_cases import CASES, TEXTS

import symkeras as keras
from symkeras.preprocessing import sequence, text

with open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_preprocessing.json")) as fh:
    KERAS2 = json.load(fh)


def _jsonable(value):
    return json.loads(json.dumps(value))


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras2(name):
    assert _jsonable(CASES[name](sequence, text)) == KERAS2[name]


def test_the_modules_are_where_keras_2_has_them():
    assert keras.preprocessing.sequence.pad_sequences is sequence.pad_sequences
    assert keras.preprocessing.text.Tokenizer is text.Tokenizer


def test_pad_sequences_errors_name_what_is_wrong():
    with pytest.raises(ValueError, match='Padding type "middle" not understood'):
        sequence.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match='Truncating type "x" not understood'):
        sequence.pad_sequences([[1]], truncating="x")
    with pytest.raises(ValueError, match=r"Shape of sample \(3,\) of sequence at position 1 is different from "
                                         r"expected shape \(2,\)"):
        sequence.pad_sequences([np.ones((2, 2)), np.ones((2, 3))])
    with pytest.raises(ValueError, match="Found non-iterable: 5"):
        sequence.pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="dtype=object"):
        sequence.pad_sequences([["a"]], value="_")


def test_skipgrams_with_negatives_pair_every_true_pair_with_a_random_one():
    couples, labels = sequence.skipgrams([1, 2, 3, 4], 10, window_size=1, negative_samples=2.0, seed=3)
    positives = [tuple(c) for c, label in zip(couples, labels) if label == 1]
    negatives = [c for c, label in zip(couples, labels) if label == 0]
    assert sorted(positives) == [(1, 2), (2, 1), (2, 3), (3, 2), (3, 4), (4, 3)]
    assert len(negatives) == 12 and all(c[0] in (1, 2, 3, 4) and 1 <= c[1] < 10 for c in negatives)
    # the same seed shuffles the same way
    assert sequence.skipgrams([1, 2, 3, 4], 10, window_size=1, negative_samples=0, seed=5) == \
        sequence.skipgrams([1, 2, 3, 4], 10, window_size=1, negative_samples=0, seed=5)
    table = np.zeros(5)
    assert sequence.skipgrams([1, 2, 3, 4], 5, sampling_table=table) == ([], [])


def test_timeseries_generator_trains_a_model_and_checks_its_arguments():
    from symkeras.layers import Dense, Flatten
    from symkeras.models import Sequential

    series = np.linspace(0, 1, 40).astype("float32").reshape(40, 1)
    windows = sequence.TimeseriesGenerator(series, series, length=5, batch_size=8)
    x, y = windows[0]
    assert len(windows) == 5 and x.shape == (8, 5, 1) and y.shape == (8, 1)
    np.testing.assert_array_equal(x[1, :, 0], series[1:6, 0]) and np.testing.assert_array_equal(y[1], series[6])
    model = Sequential([Flatten(input_shape=(5, 1)), Dense(1)])
    model.compile("sgd", "mse")
    history = model.fit_generator(windows, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="Data length is 3 while target length is 2"):
        sequence.TimeseriesGenerator(np.zeros(3), np.zeros(2), length=1)
    with pytest.raises(ValueError, match=r"`start_index\+length=5 > end_index=2` is disallowed"):
        sequence.TimeseriesGenerator(np.zeros(3), np.zeros(3), length=5)


def test_a_tokenizer_round_trips_through_json():
    tok = text.Tokenizer(num_words=5, oov_token="?")
    tok.fit_on_texts(TEXTS)
    again = text.tokenizer_from_json(tok.to_json())
    assert again.word_index == tok.word_index and again.index_word == tok.index_word
    assert again.texts_to_sequences(TEXTS) == tok.texts_to_sequences(TEXTS)
    np.testing.assert_array_equal(again.texts_to_matrix(TEXTS, "tfidf"), tok.texts_to_matrix(TEXTS, "tfidf"))
    with pytest.raises(ValueError, match="Not a tokenizer's JSON"):
        text.tokenizer_from_json('{"config": {}}')


def test_tokenizer_errors():
    with pytest.raises(ValueError, match="Specify a dimension"):
        text.Tokenizer().sequences_to_matrix([[1]])
    with pytest.raises(ValueError, match="Fit the Tokenizer on some data before using tfidf mode"):
        text.Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="tfidf")
    with pytest.raises(ValueError, match="Unknown vectorization mode: words"):
        text.Tokenizer(num_words=3).sequences_to_matrix([[1]], mode="words")
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        text.Tokenizer(numwords=3)


def test_one_hot_hashes_into_the_index_range():
    indices = text.one_hot("the cat sat on the mat", 7)
    assert len(indices) == 6 and all(1 <= i < 7 for i in indices) and indices[0] == indices[4]
