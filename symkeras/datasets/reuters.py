"""Reuters newswires: 11,228 word-index sequences labelled with 46 topics."""

from __future__ import annotations

import numpy as np

from symkeras.datasets import _sequences as seqs
from symkeras.datasets._files import ORIGIN, locate
from symkeras.datasets._safe_load import load_npz

FILE_HASH = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_HASH = "4d44cc38712099c9e383dc6e5f11a921"


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
              start_char=1, oov_char=2, index_from=3, cache_dir=None, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of lists of word indices and int topics, the
    last ``test_split`` of the shuffled newswires the test set (see ``imdb.load_data`` for the rest).

    Raises:
        TypeError: an unknown keyword argument.
    """
    if "nb_words" in kwargs:  # Keras 1's name
        num_words = kwargs.pop("nb_words")
    seqs.check_arguments(kwargs)
    arrays = load_npz(locate(path, ORIGIN + "reuters.npz", FILE_HASH, cache_dir))
    x, labels = arrays["x"], arrays["y"]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    xs, labels = seqs.marked(x[order], start_char, index_from), labels[order]
    if maxlen:
        xs, labels = seqs.shorter_than(maxlen, xs, labels)
    xs = seqs.in_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    labels = np.asarray(labels)
    return (seqs.as_object_array(xs[:cut]), np.array(labels[:cut])), (seqs.as_object_array(xs[cut:]),
                                                                      np.array(labels[cut:]))


def get_word_index(path="reuters_word_index.json"):
    """The word -> rank (1 = most frequent) of the newswires' vocabulary (before ``index_from``)."""
    return seqs.word_index(locate(path, ORIGIN + "reuters_word_index.json", WORD_INDEX_HASH))
