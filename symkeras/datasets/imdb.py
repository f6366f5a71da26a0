"""IMDB movie reviews: 25,000 training and 25,000 test reviews as word-index sequences, labelled by
sentiment (1 positive)."""

from __future__ import annotations

import numpy as np

from symkeras.datasets import _sequences as seqs
from symkeras.datasets._files import ORIGIN, locate
from symkeras.datasets._safe_load import load_npz

FILE_HASH = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_HASH = "bfafd718b763782e994055a2d397834f"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3, cache_dir=None, **kwargs):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of lists of word indices (rank by frequency
    + ``index_from``; 1 the most frequent word) and int labels.

    Args:
        path: the file's name in the cache (``~/.keras/datasets/``), or an absolute path of a copy.
        num_words: keep the indices below this (others become ``oov_char``); all unless given.
        skip_top: the most frequent words left out as well (indices below it become ``oov_char``).
        maxlen: keep only reviews shorter than this.
        seed: the shuffle's seed (train and test shuffled apart).
        start_char: the index each review starts with (None: none).
        oov_char: the index of words left out (None: they are dropped).
        index_from: the offset added to the word ranks.
        cache_dir: the cache (Keras's unless given).

    Raises:
        ValueError: ``maxlen`` leaves no review.
        TypeError: an unknown keyword argument.
    """
    if "nb_words" in kwargs:  # Keras 1's name
        num_words = kwargs.pop("nb_words")
    seqs.check_arguments(kwargs)
    arrays = load_npz(locate(path, ORIGIN + "imdb.npz", FILE_HASH, cache_dir))
    rng = np.random.RandomState(seed)
    parts = []
    for key in ("train", "test"):
        x, y = arrays[f"x_{key}"], arrays[f"y_{key}"]
        order = np.arange(len(x))
        rng.shuffle(order)
        parts.append((seqs.marked(x[order], start_char, index_from), y[order]))
    if maxlen:
        parts = [seqs.shorter_than(maxlen, x, y) for x, y in parts]
        if not parts[0][0] or not parts[1][0]:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. "
                             "Increase maxlen.")
    xs = seqs.in_vocabulary(parts[0][0] + parts[1][0], num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(parts[0][1]), np.asarray(parts[1][1])])
    cut = len(parts[0][0])
    return (seqs.as_object_array(xs[:cut]), labels[:cut]), (seqs.as_object_array(xs[cut:]), labels[cut:])


def get_word_index(path="imdb_word_index.json"):
    """The word -> rank (1 = most frequent) of the reviews' vocabulary (before ``index_from``)."""
    return seqs.word_index(locate(path, ORIGIN + "imdb_word_index.json", WORD_INDEX_HASH))
