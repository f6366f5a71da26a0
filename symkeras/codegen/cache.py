"""The on-disk kernel cache: generated modules as real files, keyed by content.

The directory defaults to ``~/.cache/symkeras`` (``SYMKERAS_CACHE_DIR``
overrides it).  A module's name is a hash of its source, which is a function
of the optimized graph and of the code-generator version, plus the library,
NumPy and Numba versions and the text of the intrinsics compiled into
kernels; Numba's own cache (``cache=True``) lives beside it
in ``__pycache__``, so a second process compiles nothing.  Files are written
to a temporary name and renamed, so concurrent processes (fork or spawn)
never read a half-written module, and an existing file is never rewritten
(its timestamp is part of Numba's cache key).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import sys
import tempfile

import numpy as np

import symkeras

#: bump when generated code changes meaning
CODEGEN_VERSION = 3
#: modules whose code Numba compiles into generated kernels (intrinsics): Numba's cache of a kernel does
#: not notice when they change, so their text is part of every key
COMPILED_IN = ("numba/blas.py", "numba/calls.py", "numba/threads.py")


def files_digest(paths) -> str:
    """A short hash of the files' contents, in order."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            digest.update(fh.read())
    return digest.hexdigest()[:16]


_HERE = os.path.dirname(os.path.abspath(__file__))


@functools.cache
def _versions() -> str:
    """What every key depends on besides the source (Numba is imported here, when code is first generated)."""
    import numba

    intrinsics = files_digest(os.path.join(_HERE, path) for path in COMPILED_IN)
    return f"{symkeras.__version__}|{CODEGEN_VERSION}|{intrinsics}|{np.__version__}|{numba.__version__}"


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
    return hashlib.sha256((_versions() + "\n" + code_of(source)).encode()).hexdigest()[:24]


def write_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` unless it exists; a reader never sees a partial file."""
    if os.path.exists(path):
        return
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".py")
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
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


def load_module(source: str, prefix: str = "symkeras_step"):
    """Write (if new) and import the generated module; returns (module, path)."""
    name = module_name(source, prefix)
    if name in sys.modules:
        module = sys.modules[name]
        return module, module.__file__
    path = os.path.join(cache_dir(), name + ".py")
    write_atomic(path, source)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module, path
