"""Keras 2's ``keras.preprocessing.sequence``: padding sequences to one length, skip-gram pairs for word
embeddings, and windows over a time series as a ``Sequence`` of batches."""

from __future__ import annotations

import random

import numpy as np

from symkeras.utils.data_utils import Sequence

__all__ = ["pad_sequences", "make_sampling_table", "skipgrams", "TimeseriesGenerator"]


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Sequences of different lengths as one array of ``maxlen`` steps each.

    Args:
        sequences: a list of sequences (lists or arrays whose first axis is the steps; the steps' own
            shape must be the same in all).
        maxlen: the length of the result (the longest sequence's unless given).
        dtype: the result's dtype (a string dtype pads with a string ``value``).
        padding: ``'pre'`` or ``'post'``: where the padding goes.
        truncating: ``'pre'`` or ``'post'``: which end of a longer sequence is cut.
        value: the padding value.

    Returns:
        An array of shape ``(len(sequences), maxlen) + step shape``.

    Raises:
        ValueError: ``sequences`` is not a list of sequences, ``padding``/``truncating`` is not one of the
            above, a sequence's steps have another shape, or a string dtype is padded with a non-string.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    lengths, step_shape, found = [], (), False
    for k, seq in enumerate(sequences):
        try:
            lengths.append(len(seq))
        except TypeError:
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {seq!r} "
                             f"(at position {k}).") from None
        if not found and len(seq):
            step_shape, found = np.asarray(seq).shape[1:], True
    if maxlen is None:
        maxlen = max(lengths, default=0)
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype), np.object_)
    if isinstance(value, str) and not is_text:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
                         "You should set `dtype=object` for variable length strings.")
    out = np.full((len(lengths), maxlen) + step_shape, value, dtype=dtype)
    for k, seq in enumerate(sequences):
        if not len(seq) or maxlen == 0:
            continue
        kept = np.asarray(seq[-maxlen:] if truncating == "pre" else seq[:maxlen], dtype=dtype)
        if kept.shape[1:] != step_shape:
            raise ValueError(f"Shape of sample {kept.shape[1:]} of sequence at position {k} is different from "
                             f"expected shape {step_shape}")
        if padding == "post":
            out[k, :len(kept)] = kept
        else:
            out[k, maxlen - len(kept):] = kept
    return out


def make_sampling_table(size, sampling_factor=1e-5):
    """The probability of keeping the word of each frequency rank (0 = most frequent) when making
    skip-grams, as word2vec subsamples frequent words: ``min(1, sqrt(f))`` with ``f = sampling_factor *
    rank-th inverse frequency``, the frequencies taken to follow Zipf's law (the rank-th word's inverse
    frequency ~ rank (ln rank + gamma) + 1/2 - 1/(12 rank), with Euler's gamma rounded to 0.577 as Keras 2
    rounds it).

    Args:
        size: the number of words (ranks).
        sampling_factor: word2vec's sampling factor.

    Returns:
        An array of ``size`` probabilities.
    """
    rank = np.arange(size, dtype=np.float64)
    if size:
        rank[0] = 1.0
    inverse_frequency = rank * (np.log(rank) + 0.577) + 0.5 - 1.0 / (12.0 * rank)
    scaled = sampling_factor * inverse_frequency
    return np.minimum(1.0, scaled / np.sqrt(scaled))


def skipgrams(sequence, vocabulary_size, window_size=4, negative_samples=1.0, shuffle=True, categorical=False,
              sampling_table=None, seed=None):
    """Skip-gram pairs of a sequence of word indices: (word, a word within ``window_size`` of it) labelled
    1, and (word, a random word) labelled 0.  Index 0 is not a word (it is skipped).

    Args:
        sequence: word indices (ranks in the vocabulary).
        vocabulary_size: the number of indices (the random words are drawn from 1 to this minus 1).
        window_size: how far a neighbour may be.
        negative_samples: random pairs per true pair (0 for none).
        shuffle: shuffle the pairs (and their labels alike).
        categorical: labels as ``[0, 1]`` / ``[1, 0]`` instead of 1 / 0.
        sampling_table: the probability of keeping each word as a pair's first (``make_sampling_table``).
        seed: the shuffle's seed.

    Returns:
        ``(couples, labels)``: lists of ``[word, context]`` and of labels.
    """
    couples, labels = [], []
    positive, negative = ([0, 1], [1, 0]) if categorical else (1, 0)
    for i, word in enumerate(sequence):
        if not word:
            continue
        if sampling_table is not None and sampling_table[word] < random.random():
            continue
        for j in range(max(0, i - window_size), min(len(sequence), i + window_size + 1)):
            if j != i and sequence[j]:
                couples.append([word, sequence[j]])
                labels.append(positive)
    if negative_samples > 0 and couples:
        count = int(len(labels) * negative_samples)
        words = [c[0] for c in couples]
        random.shuffle(words)
        couples += [[words[k % len(words)], random.randint(1, vocabulary_size - 1)] for k in range(count)]
        labels += [negative] * count
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(10e6))
        random.seed(seed)
        random.shuffle(couples)
        random.seed(seed)
        random.shuffle(labels)
    return couples, labels


class TimeseriesGenerator(Sequence):
    """Batches of windows over a time series: sample ``row`` is ``data[row - length:row:sampling_rate]``
    and its target ``targets[row]``, for rows from ``start_index + length`` to ``end_index`` every
    ``stride``-th.

    Args:
        data: the series (indexable along its first axis: an array, a list).
        targets: one target per step of ``data``.
        length: steps of history a sample spans.
        sampling_rate: take every this-th step of the history.
        stride: steps between consecutive samples.
        start_index, end_index: the first and last rows a sample may end before (``end_index`` is the last
            step's, ``len(data) - 1``, unless given).
        shuffle: draw each batch's rows at random instead of in order.
        reverse: samples in reverse time order.
        batch_size: samples a batch (the last may be smaller).

    Raises:
        ValueError: ``data`` and ``targets`` differ in length, or no row is left between the indices.
    """

    def __init__(self, data, targets, length, sampling_rate=1, stride=1, start_index=0, end_index=None,
                 shuffle=False, reverse=False, batch_size=128):
        if len(data) != len(targets):
            raise ValueError(f"Data and targets have to be of same length. Data length is {len(data)} while "
                             f"target length is {len(targets)}")
        self.data, self.targets = data, targets
        self.length, self.sampling_rate, self.stride = length, sampling_rate, stride
        self.start_index = start_index + length
        self.end_index = len(data) - 1 if end_index is None else end_index
        self.shuffle, self.reverse, self.batch_size = shuffle, reverse, batch_size
        if self.start_index > self.end_index:
            raise ValueError(f"`start_index+length={self.start_index} > end_index={self.end_index}` is disallowed, "
                             "as no part of the sequence would be left to be used as current step.")

    def __len__(self):
        span = self.batch_size * self.stride
        return (self.end_index - self.start_index + span) // span

    def __getitem__(self, index):
        if self.shuffle:
            rows = np.random.randint(self.start_index, self.end_index + 1, size=self.batch_size)
        else:
            first = self.start_index + self.batch_size * self.stride * index
            rows = np.arange(first, min(first + self.batch_size * self.stride, self.end_index + 1), self.stride)
        samples = np.array([self.data[row - self.length:row:self.sampling_rate] for row in rows])
        targets = np.array([self.targets[row] for row in rows])
        return (samples[:, ::-1, ...], targets) if self.reverse else (samples, targets)
