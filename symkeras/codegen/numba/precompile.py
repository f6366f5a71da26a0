"""Compile a function's new kernels and its step on every core at once.

Numba compiles one function at a time in a process (0.2-0.5 s a kernel,
2-3 s for a training step).  Each kernel and each step lives in a module of
its own with ``cache=True``, so code compiled by another process is simply
loaded from Numba's cache.  This process and a few helper processes (this
file run as a script) share the jobs: each is claimed by creating a file
exclusively, so none is compiled twice.  The step calls its kernels through
their addresses, so it compiles without them.  The kernels' argument types
come from the linker (``Layout.kernel_signatures``), the step's from the
values of its first call; a type that could not be foreseen is simply left
to the first call's own compile.

Each finished job (compiled or failed) leaves a ``<index>.done`` file: this
process waits for the jobs, not for the helpers.  Helpers are kept for the
process's next compiles (``HelperPool``: each reads a compile per line of
its input and marks the claims folder when it is through its jobs); a
compile's folder is removed once every helper is through it or has exited.
``start_background`` runs a compile while this process goes on (the first
calls of a function run on the reference evaluator meanwhile: program.py).

``SYMKERAS_COMPILE_WORKERS`` sets the number of helper processes (0: none;
default: one less than the cores, at most 8).  This module imports only the
standard library and Numba, so a helper starts quickly; symkeras is imported
only by the jobs whose modules need it (the step, the BLAS kernels).
"""

from __future__ import annotations

import atexit
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

#: fewer new kernels than this are compiled in this process alone (a helper takes ~0.5 s to start)
MIN_KERNELS_FOR_HELPERS = 4
MAX_HELPERS = 8
#: how long this process waits for the helpers' jobs at most (then the step's own compile does the rest)
WAIT_SECONDS = 600
#: (helper processes, their claims folder) of earlier compiles, whose helpers may still be exiting
_LINGERING: list[tuple[list, str]] = []


def array_type(arg_type):
    """Numba's array type for a (dtype, ndim, layout, read-only) tuple."""
    import numpy as np
    from numba import from_dtype, types

    dtype, ndim, layout, readonly = arg_type
    return types.Array(from_dtype(np.dtype(dtype)), ndim, layout, readonly=readonly)


def numba_signature(arg_types):
    return tuple(array_type(a) for a in arg_types)


def is_cached(path: str, function: str = "kernel", listing: dict | None = None) -> bool:
    """Whether Numba's cache beside the module ``path`` already holds compiled code of its ``function``.

    ``listing`` (a dict, filled as it goes) keeps each ``__pycache__`` folder's file names, so that the
    jobs of one compile list their folder once instead of searching it per job.
    """
    directory, filename = os.path.split(path)
    prefix = f"{os.path.splitext(filename)[0]}.{function}-"
    if listing is None:
        return bool(glob.glob(os.path.join(directory, "__pycache__", f"{glob.escape(prefix)}*.nbi")))
    folder = os.path.join(directory, "__pycache__")
    if folder not in listing:
        try:
            listing[folder] = [name for name in os.listdir(folder) if name.endswith(".nbi")]
        except OSError:
            listing[folder] = []
    return any(name.startswith(prefix) for name in listing[folder])


def _module(name: str, path: str):
    if name in sys.modules:
        return sys.modules[name]
    directory = os.path.dirname(path)
    if directory not in sys.path:  # a step calling kernels through their dispatchers imports them by name
        sys.path.append(directory)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _claim(claims: str, index, suffix: str = "") -> bool:
    try:
        os.close(os.open(os.path.join(claims, f"{index}{suffix}"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except (FileExistsError, FileNotFoundError):  # (claimed; or the folder is gone: nothing left to do)
        return False
    return True


def _done_count(claims: str) -> int:
    return len(glob.glob(os.path.join(claims, "*.done")))


def _finished_with(proc, claims: str) -> bool:
    """Whether the helper ``proc`` has exited, or has gone through the jobs of ``claims`` (its mark)."""
    if proc.poll() is not None or not os.path.isdir(claims):  # (a folder is removed once all are through it)
        return True
    return os.path.exists(os.path.join(claims, f"helper-{proc.pid}.finished"))


def wait_for_jobs(count: int, claims: str, procs: list, timeout: float = WAIT_SECONDS) -> bool:
    """Return once ``count`` jobs are done, or once no helper is left to finish the rest (True), or after
    ``timeout`` seconds (False)."""
    deadline = time.monotonic() + timeout
    while _done_count(claims) < count:
        if all(_finished_with(proc, claims) for proc in procs) and _done_count(claims) < count:
            return True  # a helper died with a job claimed: the step's compile compiles what is missing
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def reap_helpers(timeout: float = 0.0) -> None:
    """Remove the claims folder of every earlier compile whose helpers have all exited or finished its
    jobs; with a ``timeout`` (at exit), first wait that long for each helper still at work, then kill it."""
    for entry in list(_LINGERING):
        procs, claims = entry
        for proc in procs:
            if timeout and not _finished_with(proc, claims):
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        if all(_finished_with(proc, claims) for proc in procs):
            shutil.rmtree(claims, ignore_errors=True)
            _LINGERING.remove(entry)


class HelperPool:
    """The helper processes of this process, kept between its compiles: starting one costs ~0.5 s of CPU
    (Python, NumPy, Numba, SciPy's BLAS), and a Keras model compiles its training, test and predict
    functions one after another.  A helper reads one compile's job file and claims folder per line of its
    standard input, marks the folder when it has gone through the jobs, and exits at the end of its input
    or after IDLE_SECONDS without work, or after HELPER_COMPILES compiles."""

    def __init__(self):
        self.procs: list = []
        #: helper -> the claims folder of the compile it was last given, and how many it was given
        self.given: dict = {}
        self.served: dict = {}
        self.lock = threading.Lock()

    def take(self, count: int, job_file: str, claims: str) -> list:
        """``count`` helpers set to work on the jobs of ``job_file``: idle ones first, then new ones."""
        with self.lock:
            return self._take(count, job_file, claims)

    def _take(self, count: int, job_file: str, claims: str) -> list:
        self.procs = [proc for proc in self.procs if proc.poll() is None]
        idle = [proc for proc in self.procs if self.served.get(proc, 0) < HELPER_COMPILES
                and (proc not in self.given or _finished_with(proc, self.given[proc]))]
        taken = []
        for proc in idle:
            if len(taken) == count:
                break
            try:
                proc.stdin.write(f"{job_file}\t{claims}\n")
                proc.stdin.flush()
            except OSError:  # (it has just exited: idle too long)
                continue
            taken.append(proc)
        while len(taken) < count:
            proc = subprocess.Popen(helper_command(job_file, claims), stdin=subprocess.PIPE, text=True,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.procs.append(proc)
            taken.append(proc)
        for proc in taken:
            self.given[proc] = claims
            self.served[proc] = self.served.get(proc, 0) + 1
        self.given = {proc: c for proc, c in self.given.items() if proc in self.procs}
        self.served = {proc: n for proc, n in self.served.items() if proc in self.procs}
        return taken

    def end_input(self) -> None:
        """Close every helper's input: each exits once through the compile it is at."""
        for proc in self.procs:
            try:
                proc.stdin.close()
            except OSError:
                pass

    def close(self, timeout: float = 5.0) -> None:
        """End every helper: the end of its input, then a kill after ``timeout`` seconds."""
        self.end_input()
        for proc in self.procs:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs, self.given, self.served = [], {}, {}


#: how long an idle helper waits for the next compile before it exits
IDLE_SECONDS = 60.0
#: a helper exits after this many compiles (Numba keeps all it compiled: a new one starts small)
HELPER_COMPILES = 32
POOL = HelperPool()


def _at_exit() -> None:
    POOL.end_input()  # (first: a kept helper waits for its input, not to exit)
    reap_helpers(5.0)
    POOL.close()


atexit.register(_at_exit)


def run_jobs(jobs: list[dict], claims: str, reverse: bool = False, until: float | None = None) -> int:
    """Compile every job this process manages to claim (none claimed after ``until``, a
    ``time.perf_counter()`` time, if given); returns how many it compiled."""
    done = 0
    order = range(len(jobs) - 1, -1, -1) if reverse else range(len(jobs))
    for i in order:
        if until is not None and time.perf_counter() >= until:
            break
        if not _claim(claims, i):
            continue
        job = jobs[i]
        try:
            sys.path.extend(p for p in job.get("sys_path", ()) if p not in sys.path)
            function = getattr(_module(job["name"], job["path"]), job.get("function", "kernel"))
            from symkeras.codegen.numba.compiling import optimization_level  # (symkeras is importable now)

            with optimization_level():
                for arg_types in job["signatures"]:
                    function.compile(numba_signature(arg_types))
            done += 1
        except Exception:  # noqa: BLE001  the step's own compile reports a real error with its context
            pass
        _claim(claims, i, ".done")
    return done


def helper_count(pending: int) -> int:
    configured = os.environ.get("SYMKERAS_COMPILE_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    if pending < MIN_KERNELS_FOR_HELPERS:
        return 0
    return max(0, min((os.cpu_count() or 1) - 1, MAX_HELPERS, pending // 2))


def helper_command(job_file: str, claims: str) -> list[str]:
    """This file run as a script, without importing the symkeras package (a helper must start fast)."""
    return [sys.executable, "-c", "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')",
            os.path.abspath(__file__), job_file, claims]


def uncached(jobs: list[dict]) -> list[dict]:
    """The jobs whose function Numba's cache does not hold yet."""
    listing: dict = {}
    return [j for j in jobs if j["signatures"] and not is_cached(j["path"], j.get("function", "kernel"), listing)]


def _hand_out(pending: list[dict], helpers: int) -> tuple[list, str]:
    """A claims folder with the job file of ``pending``, and ``helpers`` helpers of the pool set to it."""
    reap_helpers()
    claims = tempfile.mkdtemp(prefix="symkeras-claims-")
    job_file = os.path.join(claims, "jobs.json")
    with open(job_file, "w") as fh:
        json.dump(pending, fh)
    procs = POOL.take(helpers, job_file, claims)
    _LINGERING.append((procs, claims))
    return procs, claims


def compile_kernels(jobs: list[dict]) -> dict:
    """Compile the uncached functions of ``jobs`` with helper processes.

    A job is {name, path, signatures} of a module's ``kernel``, or of the
    function named by an optional ``function`` key, importable once the
    folders of ``sys_path`` are on the path.  This process takes them in
    order (put the longest first), the helpers from the end.

    Returns counts: kernels pending, compiled here, helpers started.
    """
    pending = uncached(jobs)
    stats = {"pending": len(pending), "here": 0, "helpers": 0}
    if not pending:
        return stats
    helpers = helper_count(len(pending))
    if helpers == 0:
        return stats  # the step's compile compiles them, one after the other
    procs, claims = _hand_out(pending, helpers)
    stats["helpers"] = helpers
    try:
        stats["here"] = run_jobs(pending, claims)
    except BaseException:  # (Ctrl-C, say): the helpers' work is not waited for
        for proc in procs:
            proc.kill()
        reap_helpers(timeout=5.0)
        raise
    wait_for_jobs(len(pending), claims, procs)
    reap_helpers()
    return stats


class BackgroundCompile:
    """Helper processes compiling a function's uncached jobs while this process goes on with other work.

    ``start_background`` makes one; ``done()`` says (without waiting) whether every job is finished, or no
    helper is left to finish the rest; ``finish()`` waits for that.  A compile still running when the
    process exits is stopped then: its finished jobs stay cached, the rest is compiled by the next process
    that needs it.
    """

    def __init__(self, procs: list, claims: str, jobs: list[dict]):
        self.procs, self.claims, self.jobs, self.count = procs, claims, jobs, len(jobs)
        self.started = time.perf_counter()
        #: jobs this process compiled itself (``work``)
        self.here = 0
        self._finished = False

    def work(self, until: float) -> None:
        """Compile jobs in this process too (the longest first), claiming none after ``until``."""
        if not self._finished:
            self.here += run_jobs(self.jobs, self.claims, until=until)

    def done(self) -> bool:
        if self._finished:
            return True
        if _done_count(self.claims) >= self.count or all(_finished_with(proc, self.claims) for proc in self.procs):
            self.finish()
        return self._finished

    def finish(self, timeout: float = WAIT_SECONDS) -> bool:
        """Wait for the compile (up to ``timeout`` seconds); whether it is done."""
        if not self._finished and wait_for_jobs(self.count, self.claims, self.procs, timeout):
            self._finished = True
            if self in _BACKGROUND:
                _BACKGROUND.remove(self)
            reap_helpers()
        return self._finished

    def stop(self) -> None:
        """Kill the helpers now (their finished jobs stay in the cache)."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
        self._finished = True
        if self in _BACKGROUND:
            _BACKGROUND.remove(self)
        reap_helpers(timeout=5.0)


#: background compiles not finished yet (stopped at exit, waited for by ``wait_for_background``)
_BACKGROUND: list[BackgroundCompile] = []


def background_helper_count(pending: int) -> int:
    """Helpers for a compile running while this process goes on: one per core but one, which is this
    process's (at least one, at most MAX_HELPERS, and no more than one per job); ``SYMKERAS_COMPILE_WORKERS``
    wins (0: no background compile)."""
    configured = os.environ.get("SYMKERAS_COMPILE_WORKERS")
    if configured is not None:
        return min(max(0, int(configured)), pending)
    return max(1, min((os.cpu_count() or 1) - 1, MAX_HELPERS, pending))


#: the share of the wall time this process's own work may take while it compiles beside the helpers
SATURATED_SHARE = 0.2


def own_share(helpers: int) -> float:
    """The share of the wall time this process's own work should take while ``helpers`` compile: all of it
    when a core is left over, else SATURATED_SHARE, the rest of its time compiling jobs beside the helpers
    (``BackgroundCompile.work``): work that waits for the compile loses little, as the compiled step then
    runs it many times faster."""
    return 1.0 if helpers + 1 < (os.cpu_count() or 1) else SATURATED_SHARE


def start_background(jobs: list[dict]) -> BackgroundCompile | None:
    """Start helper processes compiling the uncached functions of ``jobs`` (see ``compile_kernels``); this
    process claims jobs only when it is asked to (``BackgroundCompile.work``).  None when every job is
    cached, or no helper is allowed."""
    pending = uncached(jobs)
    helpers = background_helper_count(len(pending)) if pending else 0
    if helpers == 0:
        return None
    procs, claims = _hand_out(pending, helpers)
    background = BackgroundCompile(procs, claims, pending)
    _BACKGROUND.append(background)
    return background


def wait_for_background() -> None:
    """Wait for every background compile of this process to finish."""
    for background in list(_BACKGROUND):
        background.finish()


def _stop_background() -> None:
    for background in list(_BACKGROUND):
        background.stop()


atexit.register(_stop_background)  # (runs before _at_exit: atexit calls the last registered first)


def _preload_scipy_blas() -> None:
    """scipy_blas.preload() in a helper, which has not imported the symkeras package yet."""
    spec = importlib.util.spec_from_file_location("_symkeras_scipy_blas",
                                                  os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               "scipy_blas.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.preload()


def _serve_one(job_file: str, claims: str) -> None:
    try:
        with open(job_file) as fh:
            jobs = json.load(fh)
    except (OSError, ValueError):  # (that compile is over, its folder removed)
        jobs = []
    run_jobs(jobs, claims, reverse=True)
    _claim(claims, f"helper-{os.getpid()}", ".finished")


def main(argv: list[str]) -> int:
    """A helper: the jobs of the compile named on its command line, then of each compile named on a line of
    its standard input (job file, tab, claims folder) until that ends or stays quiet for IDLE_SECONDS."""
    import select

    _preload_scipy_blas()
    _serve_one(*argv[-2:])
    for _served in range(1, HELPER_COMPILES):
        try:
            ready, _, _ = select.select([sys.stdin], [], [], IDLE_SECONDS)
        except (OSError, ValueError):  # (no standard input to read)
            return 0
        line = sys.stdin.readline() if ready else ""
        if not line.strip():
            return 0
        _serve_one(*line.rstrip("\n").split("\t"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
