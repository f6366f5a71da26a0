"""What imdb and reuters do to their word-index sequences: the start mark, the index offset, the length
limit, the vocabulary limit and the out-of-vocabulary mark, as Keras 2 does them."""

from __future__ import annotations

import json

import numpy as np


def marked(sequences, start_char, index_from) -> list:
    """Each sequence's indices moved up by ``index_from``, after ``start_char`` (when not None)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in seq] for seq in sequences]
    if index_from:
        return [[w + index_from for w in seq] for seq in sequences]
    return [list(seq) for seq in sequences]


def shorter_than(maxlen, sequences, labels) -> tuple[list, list]:
    """The sequences shorter than ``maxlen`` (strictly), and their labels."""
    kept = [(seq, label) for seq, label in zip(sequences, labels) if len(seq) < maxlen]
    return [s for s, _ in kept], [label for _, label in kept]


def in_vocabulary(sequences, num_words, skip_top, oov_char) -> list:
    """Indices outside ``[skip_top, num_words)`` replaced by ``oov_char`` (dropped when it is None);
    ``num_words`` None keeps every index."""
    if not num_words:
        num_words = max((max(seq) for seq in sequences if len(seq)), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in seq] for seq in sequences]
    return [[w for w in seq if skip_top <= w < num_words] for seq in sequences]


def as_object_array(sequences) -> np.ndarray:
    """Lists of indices as a 1-D object array (as Keras 2 returns them)."""
    out = np.empty(len(sequences), dtype=object)
    out[:] = sequences
    return out


def word_index(path) -> dict:
    with open(path) as fh:
        return json.load(fh)


def check_arguments(kwargs) -> None:
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {str(kwargs)}.")
