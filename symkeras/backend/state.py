"""Session-wide state of the backend: name counters and the learning phase."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from symkeras.graph.basic import Tensor, placeholder

_uids: dict[str, int] = defaultdict(int)
_learning_phase: dict[str, object] = {"tensor": None, "fixed": None}


def get_uid(prefix: str = "") -> int:
    """1, 2, 3, ... per prefix (gives layer names such as dense_1)."""
    _uids[prefix] += 1
    return _uids[prefix]


def reset_uids() -> None:
    _uids.clear()


def learning_phase():
    """The learning phase: a uint8 scalar placeholder (0 = test, 1 = train) that defaults to 0.

    After ``set_learning_phase(value)`` it is that Python int instead.
    """
    if _learning_phase["fixed"] is not None:
        return _learning_phase["fixed"]
    if _learning_phase["tensor"] is None:
        _learning_phase["tensor"] = placeholder((), dtype="uint8", name="keras_learning_phase",
                                                default=np.uint8(0))
        _learning_phase["tensor"].tag["learning_phase"] = True  # (found in graphs after clear_session too)
    return _learning_phase["tensor"]


def set_learning_phase(value: int) -> None:
    if value not in (0, 1):
        raise ValueError(f"Expected learning phase to be 0 or 1; got {value!r}.")
    _learning_phase["fixed"] = int(value)


def clear_session() -> None:
    """Forget name counters and the learning phase (a fresh symbolic session)."""
    reset_uids()
    _learning_phase["tensor"] = None
    _learning_phase["fixed"] = None


def is_learning_phase(x) -> bool:
    return isinstance(x, Tensor) and x is _learning_phase["tensor"]
