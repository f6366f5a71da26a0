"""Atomic saves: a file is replaced whole or not at all.

The writer writes a temporary file in the target's directory (so the rename stays on one file system),
flushes it to disk, then renames it over the target and flushes the directory entry: a crash, a kill or
an exception while writing leaves the previous file as it was (and at worst a hidden ``.<name>.*.tmp``
file, removed when the writer could clean up).  Paths only: a file-like object is written in place.
"""

from __future__ import annotations

import contextlib
import os
import tempfile


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync(path: str, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return  # a directory that cannot be opened (some platforms): the rename is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def replacing(filepath, overwrite: bool = True):
    """Yield the path to write; when the block ends without an exception, it replaces ``filepath``.

    Args:
        filepath: the target (str or path-like; anything else is yielded as is and written in place).
        overwrite: False refuses an existing target.

    Raises:
        FileExistsError: the target exists and ``overwrite`` is False.
    """
    if not isinstance(filepath, (str, os.PathLike)):
        yield filepath
        return
    target = os.fspath(filepath)
    if not overwrite and os.path.exists(target):
        raise FileExistsError(f"{target!r} exists and overwrite=False: not replaced.")
    directory = os.path.dirname(os.path.abspath(target))
    fd, temporary = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=directory)
    os.close(fd)
    try:
        yield temporary
        mode = os.stat(target).st_mode & 0o7777 if os.path.exists(target) else 0o666 & ~_umask()
        os.chmod(temporary, mode)  # mkstemp creates it owner-only
        _fsync(temporary)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    _fsync(directory, directory=True)
