"""The on-disk kernel cache: generated modules as real files, keyed by content.

The directory defaults to ``~/.cache/symkeras`` (``SYMKERAS_CACHE_DIR``
overrides it).  A module's name is a hash of its source, which is a function
of the optimized graph and of the code-generator version, plus the library,
NumPy and Numba versions and the text of the intrinsics compiled into
kernels; Numba's own cache (``cache=True``) lives beside it
in ``__pycache__``, so a second process compiles nothing.  Files are written
to a temporary name and renamed, so concurrent processes (fork or spawn)
never read a half-written module, and an existing file is never rewritten
(its timestamp is part of Numba's cache key) unless it is damaged.

Damage heals itself, with a warning naming the file: a module whose text no
longer matches the hash in its name (edited, truncated) is written again,
and a Numba cache entry that fails to load (an emptied index, a truncated
data file) is removed and compiled again.  Files get the permissions of the
user's umask, so a team can share one directory.

The cache is bounded (``SYMKERAS_CACHE_MAX_MB``, default 1024): when a new
module is written and the directory holds more, the least recently used
modules (and their compiled code) are removed; a module's last use is its
file's access time, set at each load (its modification time, which Numba's
cache key reads, is left alone).  ``python -m symkeras.cache info|clear|trim``
inspects and empties it.
"""

from __future__ import annotations

import functools
import glob
import hashlib
import importlib.util
import inspect
import marshal
import os
import sys
import tempfile
import time
import warnings

import numpy as np

import symkeras

#: bump when generated code changes meaning
CODEGEN_VERSION = 5
#: modules whose code Numba compiles into generated kernels (intrinsics): Numba's cache of a kernel does
#: not notice when they change, so their text is part of every key
COMPILED_IN = ("numba/alloc.py", "numba/blas.py", "numba/calls.py", "numba/threads.py", "numba/blas_pools.py",
               "numba/profiling.py", "numba/vecmath.py")


def files_digest(paths) -> str:
    """A short hash of the files' contents, in order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()[:16]


_HERE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def versions() -> str:
    """What every key depends on besides the source (Numba's version read without importing it: a program
    restored from its bundle runs without Numba, see codegen/numba/native.py)."""
    from symkeras.codegen.numba.native import runtime_versions

    intrinsics = files_digest(os.path.join(_HERE, path) for path in COMPILED_IN)
    return f"{symkeras.__version__}|{CODEGEN_VERSION}|{intrinsics}|{np.__version__}|{runtime_versions()['numba']}"


def cache_dir() -> str:
    path = os.environ.get("SYMKERAS_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "symkeras")
    os.makedirs(path, exist_ok=True)
    return path


def code_of(source: str) -> str:
    """The source without its whole-line comments (the names of layers and functions live there)."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


def source_key(source: str) -> str:
    """The key of a generated module: a hash of its code, comments left out, and of the versions.

    Two graphs that differ only in names (layers, functions, tensors) share
    one module and its compiled code; the file holds the comments of the
    first one written, ``Function.source`` its own.
    """
    return hashlib.sha256((versions() + "\n" + code_of(source)).encode()).hexdigest()[:24]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` unless it exists; a reader never sees a partial file."""
    if os.path.exists(path):
        return
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's file is owner-only
        if os.path.exists(path):  # another process won the race; keep its file (and timestamp)
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def module_name(source: str, prefix: str) -> str:
    return f"{prefix}_{source_key(source)}"


def _code(source: str, path: str, name: str):
    """The code object of the generated module ``name`` (its text ``source``, its file ``path``): the
    bytecode kept in the cache's ``__pycache__`` when there, else compiled and kept.

    Python itself writes no .pyc where ``PYTHONDONTWRITEBYTECODE`` is set (as on this project's machines),
    and every process would compile a model's 40-60 modules again: 0.03-0.05 s of B3's warm start.  The
    file holds the interpreter's magic number and the marshalled code; one that does not load (another
    Python, damaged) is compiled and written again.
    """
    code_path = os.path.join(os.path.dirname(path), "__pycache__", f"{name}.{sys.implementation.cache_tag}.code")
    magic = importlib.util.MAGIC_NUMBER
    try:
        with open(code_path, "rb") as fh:
            data = fh.read()
        if data.startswith(magic):
            return marshal.loads(data[len(magic):])
    except (OSError, EOFError, ValueError, TypeError):
        pass
    code = compile(source, path, "exec")
    try:
        os.makedirs(os.path.dirname(code_path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(code_path), prefix=".tmp-", suffix=".code")
        with os.fdopen(fd, "wb") as fh:
            fh.write(magic + marshal.dumps(code))
        os.chmod(tmp, 0o666 & ~_umask())  # shared like the module (mkstemp's file is owner-only)
        os.replace(tmp, code_path)
    except OSError:  # a read-only cache still runs, compiling each time
        pass
    return code


def compiled_files(path: str) -> list[str]:
    """Numba's cache files (index and data) of the module at ``path``."""
    directory, filename = os.path.split(path)
    stem = os.path.splitext(filename)[0]
    return glob.glob(os.path.join(directory, "__pycache__", f"{stem}.*.nb[ic]"))


def _remove(paths) -> None:
    for path in paths:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


def _intact(path: str, key: str) -> bool:
    """Whether the module file at ``path`` still hashes to ``key`` (the hash in its name)."""
    try:
        with open(path, encoding="utf8") as fh:
            return source_key(fh.read()) == key
    except (OSError, UnicodeDecodeError):
        return False


def load_module(source: str, prefix: str = "symkeras_step"):
    """Write (if new) and import the generated module; returns (module, path).

    A cached file that does not match its hash is written again (with a warning), its compiled code removed.
    """
    name = module_name(source, prefix)
    if name in sys.modules:
        module = sys.modules[name]
        return module, module.__file__
    path = os.path.join(cache_dir(), name + ".py")
    if os.path.exists(path) and not _intact(path, name.rsplit("_", 1)[1]):
        warnings.warn(f"symkeras: the cached module {path} does not match its content hash (edited or damaged); "
                      f"it is written and compiled again.", RuntimeWarning, stacklevel=2)
        _remove([path, *compiled_files(path)])
    if os.path.exists(path):
        mark_used(path)
    else:
        write_atomic(path, source)
        if prefix == "symkeras_step":  # once per newly compiled function (a listing of the directory)
            trim(max_bytes())
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        exec(_code(source, path, name), module.__dict__)  # noqa: S102  (symkeras's own generated module)
    except BaseException:
        del sys.modules[name]
        raise
    return module, path


def compile_healing(dispatcher, signature):
    """``dispatcher.compile(signature)``; a Numba cache entry that fails to load is removed (with a warning
    naming it) and the function compiled again.  Numba's own errors (typing, lowering) propagate."""
    from numba.core.errors import NumbaError

    from symkeras.codegen.numba.compiling import optimization_level
    from symkeras.codegen.numba.loading import load_cached

    try:
        if load_cached(dispatcher, signature):
            return
        with optimization_level():
            return dispatcher.compile(signature)
    except NumbaError:
        raise
    except Exception as error:  # noqa: BLE001  EOFError, UnpicklingError, ... from a damaged cache file
        path = inspect.getfile(dispatcher.py_func)
        damaged = compiled_files(path)
        if not damaged:
            raise
        warnings.warn(f"symkeras: Numba's cache of {path} failed to load ({type(error).__name__}: {error}); its "
                      f"entries {[os.path.basename(p) for p in damaged]} are removed and it is compiled again.",
                      RuntimeWarning, stacklevel=2)
        _remove(damaged)
        with optimization_level():
            return dispatcher.compile(signature)


# --- size bound ------------------------------------------------------------------------------------
DEFAULT_MAX_MB = 1024
MODULE_PREFIXES = ("symkeras_step_", "symkeras_kernel_", "symkeras_trace_")
#: the program cache's entries (program_cache.py), bounded with the modules
PROGRAM_PREFIX = "symkeras_program_"
#: programs' bundles of machine code (numba/native.py), bounded with them
NATIVE_PREFIX = "symkeras_native_"


def max_bytes() -> int:
    """The cache's bound in bytes (``SYMKERAS_CACHE_MAX_MB``; 0 or less: unbounded)."""
    value = os.environ.get("SYMKERAS_CACHE_MAX_MB")
    try:
        megabytes = float(value) if value else DEFAULT_MAX_MB
    except ValueError:
        megabytes = DEFAULT_MAX_MB
    return int(megabytes * 2**20) if megabytes > 0 else 0


def mark_used(path: str) -> None:
    """Set the file's access time to now, keeping its modification time (part of Numba's cache key)."""
    try:
        os.utime(path, ns=(time.time_ns(), os.stat(path).st_mtime_ns))
    except OSError:
        pass


def entries(directory: str | None = None) -> list[dict]:
    """The cached modules, programs and bundles: path, bytes (with their compiled code) and last use, oldest
    use first."""
    directory = directory or cache_dir()
    compiled: dict[str, list[str]] = {}
    pycache = os.path.join(directory, "__pycache__")
    for filename in os.listdir(pycache) if os.path.isdir(pycache) else ():
        compiled.setdefault(filename.split(".", 1)[0], []).append(os.path.join(pycache, filename))
    found = []
    for filename in os.listdir(directory):
        if not (filename.endswith(".py") and filename.startswith(MODULE_PREFIXES)
                or filename.endswith(".json") and filename.startswith(PROGRAM_PREFIX)
                or filename.endswith(".bin") and filename.startswith(NATIVE_PREFIX)):
            continue
        path = os.path.join(directory, filename)
        files = [path, *compiled.get(os.path.splitext(filename)[0], ())]
        try:
            size = sum(os.stat(f).st_size for f in files)
            used = os.stat(path).st_atime
        except OSError:
            continue  # removed meanwhile by another process
        found.append({"path": path, "files": files, "bytes": size, "used": used})
    return sorted(found, key=lambda e: e["used"])


def trim(limit: int, directory: str | None = None) -> int:
    """Remove least recently used modules until the cache holds at most ``limit`` bytes (0: no bound);
    modules this process has loaded are kept.  Returns the number removed."""
    if limit <= 0:
        return 0
    listed = entries(directory)
    total = sum(e["bytes"] for e in listed)
    loaded = {os.path.splitext(os.path.basename(e["path"]))[0] for e in listed} & set(sys.modules)
    removed = 0
    for entry in listed:
        if total <= limit:
            break
        if os.path.splitext(os.path.basename(entry["path"]))[0] in loaded:
            continue
        _remove(entry["files"])
        total -= entry["bytes"]
        removed += 1
    return removed


def clear(directory: str | None = None) -> int:
    """Remove every cached module (with its compiled code), program and bundle; returns how many."""
    listed = entries(directory)
    for entry in listed:
        _remove(entry["files"])
    return len(listed)

