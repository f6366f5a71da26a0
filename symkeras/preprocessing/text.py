"""Keras 2's ``keras.preprocessing.text``: splitting text into words, hashing words to indices, and the
``Tokenizer`` that numbers a vocabulary by frequency and turns texts into index sequences or matrices."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict, defaultdict

import numpy as np

__all__ = ["text_to_word_sequence", "one_hot", "hashing_trick", "Tokenizer", "tokenizer_from_json"]

#: the characters Keras 2 removes by default: punctuation, tabs and line breaks
FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'


def text_to_word_sequence(text, filters=FILTERS, lower=True, split=" "):
    """The words of ``text``: lower-cased (``lower``), each character of ``filters`` turned into ``split``,
    then split there (empty words dropped)."""
    if lower:
        text = text.lower()
    text = text.translate(str.maketrans({c: split for c in filters}))
    return [word for word in text.split(split) if word]


def _md5(word: str) -> int:
    return int(hashlib.md5(word.encode()).hexdigest(), 16)


def hashing_trick(text, n, hash_function=None, filters=FILTERS, lower=True, split=" "):
    """Each word of ``text`` as an index in ``[1, n)``: ``hash_function(word) % (n - 1) + 1``.

    Args:
        text: the text.
        n: the size of the index space (index 0 is never used).
        hash_function: None for Python's ``hash`` (which changes between processes unless
            PYTHONHASHSEED is set), ``'md5'`` for a stable one, or any function of a string to an int.

    Returns:
        A list of indices, one per word.
    """
    if hash_function is None:
        hash_function = hash
    elif hash_function == "md5":
        hash_function = _md5
    return [hash_function(word) % (n - 1) + 1 for word in text_to_word_sequence(text, filters, lower, split)]


def one_hot(text, n, filters=FILTERS, lower=True, split=" "):
    """``hashing_trick`` with Python's ``hash``: each word of ``text`` as an index in ``[1, n)``."""
    return hashing_trick(text, n, hash_function=hash, filters=filters, lower=lower, split=split)


class Tokenizer:
    """Numbers the words of texts by frequency (1 = the most frequent; ties in order of first appearance)
    and turns texts into sequences of those numbers, or into one row a text of counts, frequencies, 0/1
    or tf-idf weights.

    Args:
        num_words: keep only the ``num_words - 1`` most frequent words when converting (all are counted).
        filters, lower, split: how texts split into words (see ``text_to_word_sequence``).
        char_level: every character is a token.
        oov_token: a token (numbered 1) standing for words the tokenizer does not know or does not keep.
        document_count: texts seen so far.
    """

    def __init__(self, num_words=None, filters=FILTERS, lower=True, split=" ", char_level=False, oov_token=None,
                 document_count=0, **kwargs):
        if "nb_words" in kwargs:  # Keras 1's name
            num_words = kwargs.pop("nb_words")
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
        self.word_counts: OrderedDict = OrderedDict()
        self.word_docs: defaultdict = defaultdict(int)
        self.filters, self.split, self.lower = filters, split, lower
        self.num_words, self.document_count = num_words, document_count
        self.char_level, self.oov_token = char_level, oov_token
        self.index_docs: defaultdict = defaultdict(int)
        self.word_index: dict = {}
        self.index_word: dict = {}

    def _tokens(self, text) -> list:
        if self.char_level or isinstance(text, list):
            if self.lower:
                return [t.lower() for t in text] if isinstance(text, list) else text.lower()
            return text
        return text_to_word_sequence(text, self.filters, self.lower, self.split)

    def fit_on_texts(self, texts):
        """Count the words of ``texts`` (strings, or lists of tokens) and number them by frequency."""
        for text in texts:
            self.document_count += 1
            tokens = self._tokens(text)
            for token in tokens:
                self.word_counts[token] = self.word_counts.get(token, 0) + 1
            for token in set(tokens):
                self.word_docs[token] += 1
        by_count = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)  # (stable)
        vocabulary = ([] if self.oov_token is None else [self.oov_token]) + [word for word, _ in by_count]
        self.word_index = {word: k for k, word in enumerate(vocabulary, start=1)}
        self.index_word = {k: word for word, k in self.word_index.items()}
        for word, count in self.word_docs.items():
            self.index_docs[self.word_index[word]] = count

    def fit_on_sequences(self, sequences):
        """Count, for tf-idf, the documents each index appears in (sequences of indices, not texts)."""
        for seq in sequences:
            self.document_count += 1
            for index in set(seq):
                self.index_docs[index] += 1

    def _kept(self, index) -> bool:
        return not self.num_words or index < self.num_words

    def texts_to_sequences(self, texts):
        """Each text as a list of word indices (unknown or dropped words: the oov token's index, or left out)."""
        return list(self.texts_to_sequences_generator(texts))

    def texts_to_sequences_generator(self, texts):
        """``texts_to_sequences`` one text at a time."""
        oov = self.word_index.get(self.oov_token)
        for text in texts:
            indices = []
            for token in self._tokens(text):
                index = self.word_index.get(token)
                if index is not None and self._kept(index):
                    indices.append(index)
                elif self.oov_token is not None and oov is not None:
                    indices.append(oov)
            yield indices

    def sequences_to_texts(self, sequences):
        """Each sequence of indices as a text (its words joined by spaces)."""
        return list(self.sequences_to_texts_generator(sequences))

    def sequences_to_texts_generator(self, sequences):
        """``sequences_to_texts`` one sequence at a time."""
        oov = self.word_index.get(self.oov_token)
        for seq in sequences:
            words = []
            for index in seq:
                word = self.index_word.get(index)
                if word is not None and self._kept(index):
                    words.append(word)
                elif self.oov_token is not None and oov is not None:
                    words.append(self.index_word[oov])
            yield " ".join(words)

    def texts_to_matrix(self, texts, mode="binary"):
        """``sequences_to_matrix`` of the texts' sequences."""
        return self.sequences_to_matrix(self.texts_to_sequences(texts), mode=mode)

    def sequences_to_matrix(self, sequences, mode="binary"):
        """One row a sequence, one column a word index (``num_words``, or the vocabulary's size + 1).

        Args:
            sequences: lists of word indices.
            mode: ``'binary'`` (1 where the word occurs), ``'count'``, ``'freq'`` (count / length) or
                ``'tfidf'`` ((1 + ln count) ln(1 + documents / (1 + documents with the word))).

        Raises:
            ValueError: the tokenizer has neither ``num_words`` nor a vocabulary, tf-idf before any fit, or
                an unknown mode.
        """
        if mode not in ("binary", "count", "freq", "tfidf"):
            raise ValueError(f"Unknown vectorization mode: {mode}")
        width = self.num_words
        if not width:
            if not self.word_index:
                raise ValueError("Specify a dimension (`num_words` argument), or fit on some text data first.")
            width = len(self.word_index) + 1
        if mode == "tfidf" and not self.document_count:
            raise ValueError("Fit the Tokenizer on some data before using tfidf mode.")
        out = np.zeros((len(sequences), width))
        for row, seq in enumerate(sequences):
            if not len(seq):
                continue
            counts: dict = {}
            for index in seq:
                if index < width:
                    counts[index] = counts.get(index, 0) + 1
            for index, count in counts.items():
                if mode == "count":
                    out[row, index] = count
                elif mode == "freq":
                    out[row, index] = count / len(seq)
                elif mode == "binary":
                    out[row, index] = 1
                else:
                    idf = np.log(1 + self.document_count / (1 + self.index_docs.get(index, 0)))
                    out[row, index] = (1 + np.log(count)) * idf
        return out

    def get_config(self) -> dict:
        """The settings and counts (Keras 2's layout: the tables as JSON strings)."""
        return {"num_words": self.num_words, "filters": self.filters, "lower": self.lower, "split": self.split,
                "char_level": self.char_level, "oov_token": self.oov_token, "document_count": self.document_count,
                "word_counts": json.dumps(self.word_counts), "word_docs": json.dumps(self.word_docs),
                "index_docs": json.dumps(self.index_docs), "index_word": json.dumps(self.index_word),
                "word_index": json.dumps(self.word_index)}

    def to_json(self, **kwargs) -> str:
        """The tokenizer as JSON (``tokenizer_from_json`` reads it back); ``kwargs`` go to ``json.dumps``."""
        return json.dumps({"class_name": self.__class__.__name__, "config": self.get_config()}, **kwargs)


def tokenizer_from_json(json_string):
    """A ``Tokenizer`` from ``Tokenizer.to_json()``'s text (Keras 2's too).

    Raises:
        ValueError: the text is not a tokenizer's JSON.
    """
    try:
        config = dict(json.loads(json_string)["config"])
        tables = {key: json.loads(config.pop(key))
                  for key in ("word_counts", "word_docs", "index_docs", "index_word", "word_index")}
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"Not a tokenizer's JSON: {error}") from None
    tokenizer = Tokenizer(**config)
    tokenizer.word_counts = OrderedDict(tables["word_counts"])
    tokenizer.word_docs = defaultdict(int, tables["word_docs"])
    tokenizer.index_docs = defaultdict(int, {int(k): v for k, v in tables["index_docs"].items()})
    tokenizer.index_word = {int(k): v for k, v in tables["index_word"].items()}
    tokenizer.word_index = dict(tables["word_index"])
    return tokenizer
