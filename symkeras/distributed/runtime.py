"""Joining a distributed run: ``init``, the rank and size queries, and stopping every rank when one fails."""

from __future__ import annotations

import sys
import traceback

from symkeras.distributed import collectives


def init(comm=None) -> None:
    """Join the run started by ``mpiexec`` (or ``python -m symkeras.distributed.run``); call it once, first.

    A process started without mpiexec is a run of one rank.  With more than one rank, an exception that
    reaches the top of a rank stops every rank (MPI_Abort) after printing which rank failed and why, so
    that the others never wait for it.

    Args:
        comm: an mpi4py communicator to run on (COMM_WORLD unless given).

    Raises:
        ImportError: mpi4py is not installed (``pip install 'symkeras[mpi]'``).
    """
    collectives.init(comm)
    if size() > 1:
        install_abort_on_error()


def shutdown() -> None:
    """Leave the run (what ``init`` set up is freed)."""
    collectives.shutdown()


def is_initialized() -> bool:
    return collectives.initialized()


def size() -> int:
    """The number of ranks (processes) in the run."""
    return collectives.comm().Get_size()


def rank() -> int:
    """This process's rank, 0 to ``size() - 1``; rank 0 writes files and prints progress by convention."""
    return collectives.comm().Get_rank()


def local_rank() -> int:
    """This process's rank among the ranks on its machine (the GPU to use, say)."""
    return collectives.local_comm().Get_rank()


def local_size() -> int:
    """The number of ranks on this process's machine."""
    return collectives.local_comm().Get_size()


_installed: list = []


def install_abort_on_error() -> None:
    """Make an uncaught exception print ``rank R of N failed`` with its traceback, then stop all ranks."""
    if _installed:
        return
    previous = sys.excepthook

    def abort_on_error(kind, value, tb):
        if issubclass(kind, KeyboardInterrupt) or not collectives.initialized():
            previous(kind, value, tb)
            return
        text = "".join(traceback.format_exception(kind, value, tb))
        collectives.abort(f"{text}symkeras.distributed: rank {rank()} of {size()} failed with "
                          f"{kind.__name__}: {value} (stopping all ranks)")

    sys.excepthook = abort_on_error
    _installed.append(previous)
