"""Sequence and the enqueuers that feed fit_generator & co. from background workers.

A ``Sequence`` (indexable batches) is read in order by a pool of threads, or
of processes with ``use_multiprocessing=True``; a plain generator is drawn
from by worker threads under a lock (a generator cannot be shared between
processes: with ``use_multiprocessing=True`` it stays in threads, with a
warning that says to use a Sequence).
"""

from __future__ import annotations

import collections
import multiprocessing
import queue
import threading
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np


class Sequence:
    """Base class for data sets of batches: define ``__getitem__(index)`` and ``__len__()`` (batches per epoch).

    ``on_epoch_end`` runs after every epoch (shuffle there).  Safe with several
    workers and with multiprocessing, since every batch is fetched by index.
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index).")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__().")

    def on_epoch_end(self):
        pass

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


_PROCESS_SEQUENCE = None


def _init_process(sequence):
    global _PROCESS_SEQUENCE
    _PROCESS_SEQUENCE = sequence


def _fetch_in_process(index):
    return _PROCESS_SEQUENCE[index]


class OrderedEnqueuer:
    """Yields a Sequence's batches in order (shuffled per epoch if asked), fetched ahead by workers."""

    def __init__(self, sequence, use_multiprocessing=False, shuffle=False):
        self.sequence = sequence
        self.use_multiprocessing = use_multiprocessing
        self.shuffle = shuffle
        self._stop = threading.Event()
        self._executor = None

    def start(self, workers=1, max_queue_size=10):
        self.workers = max(1, workers)
        self.max_queue_size = max(1, max_queue_size)
        if self.use_multiprocessing:
            context = multiprocessing.get_context("fork")
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_init_process,
                                                 initargs=(self.sequence,))
            self._fetch = _fetch_in_process
        else:
            self._executor = ThreadPoolExecutor(self.workers)
            self._fetch = self.sequence.__getitem__

    def get(self):
        """Batches forever; ``on_epoch_end`` runs as the last batch of each pass is handed out."""
        while not self._stop.is_set():
            order = list(range(len(self.sequence)))
            if self.shuffle:
                np.random.shuffle(order)
            pending, submitted = collections.deque(), 0
            while submitted < len(order) or pending:
                while submitted < len(order) and len(pending) < self.max_queue_size:
                    pending.append(self._executor.submit(self._fetch, order[submitted]))
                    submitted += 1
                batch = pending.popleft().result()
                if submitted == len(order) and not pending:
                    self._end_epoch()
                yield batch

    def _end_epoch(self) -> None:
        self.sequence.on_epoch_end()
        if self.use_multiprocessing:  # the workers hold a copy of the sequence: give them the updated one
            self._executor.shutdown(wait=True)
            self.start(self.workers, self.max_queue_size)

    def is_running(self):
        return self._executor is not None and not self._stop.is_set()

    def stop(self, timeout=None):
        self._stop.set()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


class GeneratorEnqueuer:
    """Draws from a generator in worker threads into a queue of at most ``max_queue_size`` items."""

    def __init__(self, generator, use_multiprocessing=False, wait_time=None, seed=None):
        if use_multiprocessing:
            warnings.warn("use_multiprocessing=True with a plain generator: a generator cannot be shared between "
                          "processes, so it is read by threads. Use a symkeras.utils.Sequence for process workers.",
                          UserWarning, stacklevel=3)
        self.generator = generator
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self.queue = None

    def start(self, workers=1, max_queue_size=10):
        self.queue = queue.Queue(max(1, max_queue_size))

        def work():
            while not self._stop.is_set():
                try:
                    with self._lock:
                        item = next(self.generator)
                except StopIteration:
                    self._put(("done", None))
                    return
                except Exception as error:  # handed to the consumer, raised there
                    self._put(("error", error))
                    return
                self._put(("item", item))

        for _ in range(max(1, workers)):
            thread = threading.Thread(target=work, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _put(self, entry):
        while not self._stop.is_set():
            try:
                self.queue.put(entry, timeout=0.05)
                return
            except queue.Full:
                continue

    def get(self):
        finished = 0
        while not self._stop.is_set():
            kind, value = self.queue.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                finished += 1
                if finished >= len(self._threads):
                    return

    def is_running(self):
        return not self._stop.is_set()

    def stop(self, timeout=None):
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []


def iterate_batches(data, workers=1, use_multiprocessing=False, max_queue_size=10, shuffle=False):
    """(enqueuer or None, iterator of batches) for a Sequence or a generator; workers=0 reads in this thread."""
    if isinstance(data, Sequence):
        if workers > 0:
            enqueuer = OrderedEnqueuer(data, use_multiprocessing=use_multiprocessing, shuffle=shuffle)
            enqueuer.start(workers=workers, max_queue_size=max_queue_size)
            return enqueuer, enqueuer.get()

        def in_order():
            while True:
                order = list(range(len(data)))
                if shuffle:
                    np.random.shuffle(order)
                for position, index in enumerate(order):
                    batch = data[index]
                    if position == len(order) - 1:
                        data.on_epoch_end()
                    yield batch

        return None, in_order()
    if workers > 0:
        enqueuer = GeneratorEnqueuer(data, use_multiprocessing=use_multiprocessing)
        enqueuer.start(workers=workers, max_queue_size=max_queue_size)
        return enqueuer, enqueuer.get()
    return None, iter(data)


from symkeras.utils.files import get_file, hash_file, validate_file  # noqa: E402, F401  (Keras 2 has them here)
