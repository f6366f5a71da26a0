"""Files from elsewhere: ``get_file`` (Keras's cache layout, checksums, download only where a network is,
archives unpacked without leaving their folder) and the hashes it checks."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile


def keras_home() -> str:
    """Keras's own folder (``KERAS_HOME``, else ``~/.keras``; ``/tmp/.keras`` where that is not writable),
    so that files a Keras user already has are found."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    if not os.access(home if os.path.exists(home) else os.path.dirname(home) or ".", os.W_OK):
        home = os.path.join(tempfile.gettempdir(), ".keras")
    return home


def hash_file(fpath, algorithm="sha256", chunk_size=65535) -> str:
    """The hex digest of a file (``algorithm``: ``'sha256'``, ``'md5'``, or ``'auto'``: sha256)."""
    hasher = hashlib.md5() if algorithm == "md5" else hashlib.sha256()
    with open(fpath, "rb") as fh:
        for chunk in iter(lambda: fh.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def _algorithm(file_hash: str, algorithm: str) -> str:
    if algorithm == "auto":  # (a 64-digit hash is a SHA-256, else an MD5, as Keras tells them apart)
        return "sha256" if len(file_hash) == 64 else "md5"
    if algorithm not in ("sha256", "md5"):
        raise ValueError(f"Unknown hash algorithm {algorithm!r}; expected 'auto', 'sha256' or 'md5'")
    return algorithm


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535) -> bool:
    """Whether the file's digest is ``file_hash``."""
    return hash_file(fpath, _algorithm(file_hash, algorithm), chunk_size) == str(file_hash)


def _inside(root: str, name: str) -> bool:
    target = os.path.realpath(os.path.join(root, name))
    return target == os.path.realpath(root) or target.startswith(os.path.realpath(root) + os.sep)


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Unpack a tar or zip archive into ``path``; True when it was one.  A member whose name leads out of
    ``path`` (``../``, an absolute name, a link out) is an error, and nothing is written.

    Raises:
        ValueError: a member would land outside ``path``.
    """
    import tarfile
    import zipfile

    formats = {"auto": ("tar", "zip"), None: ()}.get(archive_format, (archive_format,))
    if isinstance(formats, str):
        formats = (formats,)
    for kind in formats:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                for member in archive.getmembers():
                    link_ok = not (member.issym() or member.islnk()) or _inside(
                        path, os.path.join(os.path.dirname(member.name), member.linkname))
                    if not _inside(path, member.name) or not link_ok or member.isdev():
                        raise ValueError(f"{file_path}: archive member {member.name!r} would be written outside "
                                         f"{path}; nothing was extracted.")
                if hasattr(tarfile, "data_filter"):  # (Python 3.11.4 and later: links and modes checked too)
                    archive.extractall(path, filter="data")
                else:
                    archive.extractall(path)
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                for name in archive.namelist():
                    if not _inside(path, name):
                        raise ValueError(f"{file_path}: archive member {name!r} would be written outside {path}; "
                                         "nothing was extracted.")
                archive.extractall(path)
            return True
    return False


def get_file(fname, origin, untar=False, md5_hash=None, file_hash=None, cache_subdir="datasets",
             hash_algorithm="auto", extract=False, archive_format="auto", cache_dir=None):
    """The path of ``fname`` in Keras's cache (``cache_dir/cache_subdir``; ``~/.keras/datasets`` unless
    given), downloaded from ``origin`` only when it is not there or its hash is not ``file_hash``.

    Args:
        fname: the file's name in the cache (an absolute path is used as it is).
        origin: its URL.
        untar: Keras 1's switch: ``origin`` is a .tar.gz to unpack; ``fname`` names the folder.
        md5_hash: Keras 1's ``file_hash`` for an MD5.
        file_hash: the file's SHA-256 or MD5 (None: not checked).
        cache_subdir: the cache's sub-folder (an absolute path is used as it is).
        hash_algorithm: ``'auto'``, ``'sha256'`` or ``'md5'``.
        extract: unpack the archive next to it.
        archive_format: ``'auto'``, ``'tar'``, ``'zip'`` or None.
        cache_dir: the cache (``keras_home()`` unless given).

    Returns:
        The file's path (the unpacked folder's with ``untar``).

    Raises:
        OSError: the file is not in the cache (or its hash is wrong) and could not be downloaded (no
            network here, say); the message says where to put it.
        ValueError: the downloaded file's hash is wrong, or an archive member would land outside the cache.
    """
    cache_dir = os.path.expanduser(cache_dir) if cache_dir else keras_home()
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    folder = os.path.join(cache_dir, cache_subdir)
    os.makedirs(folder, exist_ok=True)
    if untar:
        untar_path = os.path.join(folder, fname)
        fpath = untar_path + ".tar.gz"
    else:
        fpath = os.path.join(folder, fname)
    stale = None
    if os.path.exists(fpath) and file_hash is not None and not validate_file(fpath, file_hash, hash_algorithm):
        stale = (f"the file at {fpath} does not have the {_algorithm(file_hash, hash_algorithm)} hash "
                 f"{file_hash} of the original (incomplete or another file)")
    if not os.path.exists(fpath) or stale:
        if stale:
            print(f"A local file was found, but {stale}: downloading it again.")
        _download(origin, fpath, stale)
        if file_hash is not None and not validate_file(fpath, file_hash, hash_algorithm):
            os.remove(fpath)
            raise ValueError(f"The file downloaded from {origin} does not have the expected hash {file_hash}; "
                             "it was removed.")
    if untar:
        if not os.path.exists(untar_path):
            extract_archive(fpath, folder, archive_format="tar")
        return untar_path
    if extract:
        extract_archive(fpath, folder, archive_format)
    return fpath


def _download(origin: str, fpath: str, stale: str | None) -> None:
    import urllib.error
    import urllib.request

    print(f"Downloading data from {origin}")
    partial = fpath + ".part"
    try:
        with urllib.request.urlopen(origin, timeout=60) as response, open(partial, "wb") as out:
            shutil.copyfileobj(response, out)
        os.replace(partial, fpath)
    except (urllib.error.URLError, OSError, ValueError) as error:
        if os.path.exists(partial):
            os.remove(partial)
        where = f"{stale}, and " if stale else ""
        raise OSError(f"{where}downloading {origin} failed ({error}). Without a network, put the file at {fpath} "
                      f"(download it elsewhere from {origin}).") from error
