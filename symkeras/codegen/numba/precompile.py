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

``SYMKERAS_COMPILE_WORKERS`` sets the number of helper processes (0: none;
default: one less than the cores, at most 8).  This module imports only the
standard library and Numba, so a helper starts quickly; symkeras is imported
only by the jobs whose modules need it (the step, the BLAS kernels).
"""

from __future__ import annotations

import glob
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

#: fewer new kernels than this are compiled in this process alone (a helper takes ~0.5 s to start)
MIN_KERNELS_FOR_HELPERS = 4
MAX_HELPERS = 8


def array_type(arg_type):
    """Numba's array type for a (dtype, ndim, layout, read-only) tuple."""
    import numpy as np
    from numba import from_dtype, types

    dtype, ndim, layout, readonly = arg_type
    return types.Array(from_dtype(np.dtype(dtype)), ndim, layout, readonly=readonly)


def numba_signature(arg_types):
    return tuple(array_type(a) for a in arg_types)


def is_cached(path: str, function: str = "kernel") -> bool:
    """Whether Numba's cache beside the module ``path`` already holds compiled code of its ``function``."""
    directory, filename = os.path.split(path)
    stem = os.path.splitext(filename)[0]
    return bool(glob.glob(os.path.join(directory, "__pycache__", f"{stem}.{function}-*.nbi")))


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


def _claim(claims: str, index: int) -> bool:
    try:
        os.close(os.open(os.path.join(claims, str(index)), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def run_jobs(jobs: list[dict], claims: str, reverse: bool = False) -> int:
    """Compile every job this process manages to claim; returns how many it compiled."""
    done = 0
    order = range(len(jobs) - 1, -1, -1) if reverse else range(len(jobs))
    for i in order:
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


def compile_kernels(jobs: list[dict]) -> dict:
    """Compile the uncached functions of ``jobs`` with helper processes.

    A job is {name, path, signatures} of a module's ``kernel``, or of the
    function named by an optional ``function`` key, importable once the
    folders of ``sys_path`` are on the path.  This process takes them in
    order (put the longest first), the helpers from the end.

    Returns counts: kernels pending, compiled here, helpers started.
    """
    pending = [j for j in jobs if j["signatures"] and not is_cached(j["path"], j.get("function", "kernel"))]
    stats = {"pending": len(pending), "here": 0, "helpers": 0}
    if not pending:
        return stats
    helpers = helper_count(len(pending))
    if helpers == 0:
        return stats  # the step's compile compiles them, one after the other
    with tempfile.TemporaryDirectory(prefix="symkeras-claims-") as claims:
        job_file = os.path.join(claims, "jobs.json")
        with open(job_file, "w") as fh:
            json.dump(pending, fh)
        procs = [subprocess.Popen(helper_command(job_file, claims),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(helpers)]
        stats["helpers"] = helpers
        try:
            stats["here"] = run_jobs(pending, claims)
        finally:
            # a helper that claimed nothing (still starting) has nothing to finish
            idle = stats["here"] == len(pending)
            for proc in procs:
                if idle:
                    proc.kill()
                try:
                    proc.wait(timeout=600)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return stats


def _preload_scipy_blas() -> None:
    """scipy_blas.preload() in a helper, which has not imported the symkeras package yet."""
    spec = importlib.util.spec_from_file_location("_symkeras_scipy_blas",
                                                  os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                               "scipy_blas.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.preload()


def main(argv: list[str]) -> int:
    job_file, claims = argv[-2:]
    with open(job_file) as fh:
        jobs = json.load(fh)
    _preload_scipy_blas()
    run_jobs(jobs, claims, reverse=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
