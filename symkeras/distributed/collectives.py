"""The MPI layer of symkeras.distributed: the communicator, and collectives that never wait forever.

Every collective is started non-blocking and waited on with a deadline (``SYMKERAS_MPI_TIMEOUT``
seconds, 600 unless set): a rank that stopped without an error (its process gone, or a loop that ran
fewer steps than the others) leaves the others waiting, and when the deadline passes they say so and
stop the whole run (MPI_Abort) instead of hanging.  A rank that raises stops the run at once (see
``runtime.install_abort_on_error``).  mpi4py is imported only here, when ``init()`` runs.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

#: the communicator of the run (a duplicate of COMM_WORLD, so symkeras's messages never meet the user's)
_state: dict = {"comm": None, "local": None, "MPI": None}

DEFAULT_TIMEOUT = 600.0


class DistributedError(RuntimeError):
    """A distributed run cannot go on: the ranks disagree (their models differ), or one stopped."""


def mpi():
    """The ``mpi4py.MPI`` module.

    Raises:
        ImportError: mpi4py or an MPI library is not installed (``pip install 'symkeras[mpi]'``).
    """
    if _state["MPI"] is None:
        try:
            from mpi4py import MPI
        except ImportError as error:
            raise ImportError("symkeras.distributed needs mpi4py and an MPI runtime: pip install 'symkeras[mpi]' "
                              f"(or mpi4py built against the system's MPI). ({error})") from error
        _state["MPI"] = MPI
    return _state["MPI"]


def init(comm=None) -> None:
    """Start (or join) the run: every later call uses ``comm`` (COMM_WORLD unless given)."""
    MPI = mpi()
    base = MPI.COMM_WORLD if comm is None else comm
    _state["comm"] = base.Dup()
    _state["local"] = _state["comm"].Split_type(MPI.COMM_TYPE_SHARED, key=_state["comm"].Get_rank())


def initialized() -> bool:
    return _state["comm"] is not None


def comm():
    """The run's communicator.

    Raises:
        ValueError: ``init()`` has not been called.
    """
    if _state["comm"] is None:
        raise ValueError("symkeras.distributed has not been initialized; call symkeras.distributed.init() first.")
    return _state["comm"]


def local_comm():
    comm()
    return _state["local"]


def shutdown() -> None:
    """Leave the run (the communicators are freed; ``init()`` may start another)."""
    for key in ("local", "comm"):
        if _state[key] is not None:
            _state[key].Free()
            _state[key] = None


def timeout() -> float:
    """Seconds a collective waits for the other ranks (``SYMKERAS_MPI_TIMEOUT``, 600 unless set)."""
    value = os.environ.get("SYMKERAS_MPI_TIMEOUT")
    try:
        return float(value) if value else DEFAULT_TIMEOUT
    except ValueError:
        raise ValueError(f"SYMKERAS_MPI_TIMEOUT must be a number of seconds, got {value!r}") from None


def abort(message: str, code: int = 1) -> None:
    """Write ``message`` to stderr and stop every rank of the run (MPI_Abort), with exit status ``code``."""
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
    if _state["comm"] is not None:
        _state["comm"].Abort(code)
    os._exit(code)


def wait(request, what: str) -> None:
    """Wait for ``request``; after ``timeout()`` seconds stop the run with a message naming ``what``."""
    if request.Test():
        return
    limit = timeout()
    deadline = time.monotonic() + limit
    spins = 0
    while not request.Test():
        spins += 1
        if spins > 2000:  # a long wait: give the core to whoever computes
            time.sleep(0.0001)
        if spins % 64 == 0 and time.monotonic() > deadline:
            c = _state["comm"]
            abort(f"symkeras.distributed: rank {c.Get_rank()} of {c.Get_size()} waited {limit:g} s in {what} "
                  "for the other ranks: one of them stopped or runs different steps (SYMKERAS_MPI_TIMEOUT "
                  "sets the limit); stopping all ranks.")


def _half_sum(inbuf, inoutbuf, datatype):
    a = np.frombuffer(inbuf, dtype=np.float16)
    b = np.frombuffer(inoutbuf, dtype=np.float16)
    b[:] = (a.astype(np.float32) + b.astype(np.float32)).astype(np.float16)


_HALF_SUM: list = []


def _half_sum_op():
    if not _HALF_SUM:
        _HALF_SUM.append(mpi().Op.Create(_half_sum, commute=True))
    return _HALF_SUM[0]


#: the allreduces of training steps so far in this process: calls, bytes sent (each rank's buffer), seconds
#: in them (the wait for slower ranks included)
_stats = {"calls": 0, "bytes": 0, "seconds": 0.0}


def allreduce_stats(reset: bool = False) -> dict:
    """``{"calls", "bytes", "seconds"}`` of the gradient allreduces since the process started (or the last
    reset), to tell what communication costs a step."""
    out = dict(_stats)
    if reset:
        _stats.update(calls=0, bytes=0, seconds=0.0)
    return out


def allreduce_in_place(buffer: np.ndarray, average: bool, fp16: bool) -> None:
    """Sum (then divide by the number of ranks, when ``average``) the 1-D ``buffer`` across the ranks, in
    place; ``fp16`` sends it as float16.  A process that never called ``init()`` is a run of one rank."""
    if _state["comm"] is None or _state["comm"].Get_size() == 1:
        return
    start = time.perf_counter()
    reduce_in_place(buffer, average, fp16)
    _stats["calls"] += 1
    _stats["bytes"] += buffer.size * (2 if fp16 else buffer.itemsize)
    _stats["seconds"] += time.perf_counter() - start


def reduce_in_place(buffer: np.ndarray, average: bool, fp16: bool) -> None:
    """``allreduce_in_place`` in a run of several ranks, not counted in ``allreduce_stats``."""
    MPI, c = mpi(), comm()
    if fp16 and buffer.dtype != np.float16:
        half = buffer.astype(np.float16)
        wait(c.Iallreduce(MPI.IN_PLACE, [half.view(np.int16), MPI.INT16_T], op=_half_sum_op()),
             f"an allreduce of {half.nbytes} bytes")
        buffer[...] = half
    else:
        wait(c.Iallreduce(MPI.IN_PLACE, buffer, op=MPI.SUM), f"an allreduce of {buffer.nbytes} bytes")
    if average:
        buffer /= c.Get_size()
