"""``python -m symkeras.distributed.run -np 2 train.py [args...]``: start a distributed run on this machine
(or on ``--hosts``) through the MPI runtime's own mpiexec, with no other tool.

Each rank gets ``cores / ranks`` threads for Numba and BLAS unless the environment sets them (ranks that
each take every core fight over them).  The exit status is mpiexec's: non-zero when any rank failed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

#: the thread counts a rank's libraries read
THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def find_mpiexec() -> str:
    """The mpiexec beside this Python (the ``mpich`` wheel's, in a virtual environment), else on PATH.

    Raises:
        FileNotFoundError: there is none (``pip install 'symkeras[mpi]'`` installs one).
    """
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(here, os.X_OK):
        return here
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise FileNotFoundError("No mpiexec found beside this Python or on PATH: pip install 'symkeras[mpi]' "
                                "(the mpich wheel), or install an MPI runtime.")
    return found


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        text = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in text or "OpenRTE" in text


def command(ranks: int, program: list[str], hosts: str | None = None, mpiexec: str | None = None) -> list[str]:
    """The mpiexec command line running ``program`` (a script and its arguments) on ``ranks`` ranks."""
    mpiexec = mpiexec or find_mpiexec()
    line = [mpiexec, "-n", str(ranks)]
    open_mpi = _is_open_mpi(mpiexec)
    if hosts:
        line += ["-H" if open_mpi else "-hosts", hosts]
    if open_mpi:
        line += ["--oversubscribe"] + (["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0
                                       else [])
    return line + [sys.executable, *program]


def environment(ranks: int, threads: int | None = None) -> dict:
    """This process's environment with each rank's thread counts set (unless already set)."""
    env = dict(os.environ)
    per_rank = threads or max(1, (os.cpu_count() or 1) // ranks)
    for name in THREAD_VARIABLES:
        env.setdefault(name, str(per_rank))
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m symkeras.distributed.run",
                                     description="Run a training script on several ranks through mpiexec.")
    parser.add_argument("-np", "-n", dest="ranks", type=int, required=True, help="number of ranks (processes)")
    parser.add_argument("-H", "--hosts", default=None, help="comma-separated hosts (default: this machine)")
    parser.add_argument("--threads-per-rank", type=int, default=None,
                        help="Numba/BLAS threads of each rank (default: cores // ranks)")
    parser.add_argument("program", nargs=argparse.REMAINDER, help="the script and its arguments")
    args = parser.parse_args(argv)
    if args.ranks < 1:
        parser.error(f"-np must be at least 1, got {args.ranks}")
    if not args.program:
        parser.error("give the script to run, e.g. train.py")
    try:
        line = command(args.ranks, args.program, args.hosts)
    except FileNotFoundError as error:
        print(f"symkeras.distributed.run: {error}", file=sys.stderr)
        return 127
    return subprocess.run(line, env=environment(args.ranks, args.threads_per_rank)).returncode


if __name__ == "__main__":
    sys.exit(main())
