"""Ops that show values while a graph runs: ``K.print_tensor``."""

from __future__ import annotations

import sys

import numpy as np

from symkeras.graph.basic import Op


def show(message: str, value) -> None:
    """Write ``message`` and the array's value to stdout (one line per print, flushed)."""
    sys.stdout.write(f"{message}{np.array2string(np.asarray(value), separator=' ', threshold=1000)}\n")
    sys.stdout.flush()


class PrintTensor(Op):
    """The identity that prints ``message`` and its input's value each time it runs (Keras 2's
    ``K.print_tensor``).  A side effect: never merged, folded or removed while its output is used."""

    view_of = 0
    has_side_effects = True
    __props__ = ("message",)
    nin = 1

    def __init__(self, message: str = ""):
        self.message = str(message)

    def infer(self, inputs):
        (x,) = inputs
        return x.dtype, x.shape

    def perform(self, inputs, rng=None):
        show(self.message, inputs[0])
        return inputs[0]

    def grad(self, inputs, out, gz):
        return [gz]


def print_tensor(x, message: str = ""):
    """``x``, printed with ``message`` whenever a compiled function computes it."""
    return PrintTensor(message)(x)
