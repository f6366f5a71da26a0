"""Ctrl-C held back while a batch of writes happens, so an update is applied whole or not at all."""

from __future__ import annotations

import contextlib
import signal
import threading


@contextlib.contextmanager
def deferred_interrupts():
    """Within the block, SIGINT is noted instead of raised; KeyboardInterrupt follows the block.

    Only in the main thread with Python's default SIGINT handler in place (elsewhere the block runs as is:
    signals reach the main thread only, and a handler of the user's own is left alone).
    """
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt
