"""utils.get_file: Keras's cache layout, hashes, archives unpacked inside the cache, and the error offline
(downloads come from file:// addresses: no network)."""

import hashlib
import tarfile
import zipfile

import pytest

from symkeras.utils import get_file
from symkeras.utils.files import extract_archive, validate_file


def test_a_file_is_fetched_once_and_checked(tmp_path):
    source = tmp_path / "data.bin"
    source.write_bytes(b"some bytes")
    digest = hashlib.sha256(b"some bytes").hexdigest()
    path = get_file("data.bin", origin=source.as_uri(), file_hash=digest, cache_dir=str(tmp_path / "cache"))
    assert path == str(tmp_path / "cache" / "datasets" / "data.bin") and open(path, "rb").read() == b"some bytes"
    source.write_bytes(b"changed")  # (the cached copy is used: not fetched again)
    assert get_file("data.bin", origin=source.as_uri(), file_hash=digest, cache_dir=str(tmp_path / "cache")) == path
    assert validate_file(path, hashlib.md5(b"some bytes").hexdigest())  # (an MD5 told by its length)
    with pytest.raises(ValueError, match="does not have the expected hash"):
        get_file("other.bin", origin=source.as_uri(), file_hash=digest, cache_dir=str(tmp_path / "cache"))
    assert not (tmp_path / "cache" / "datasets" / "other.bin").exists()


def test_offline_and_not_cached_says_where_to_put_the_file(tmp_path):
    with pytest.raises(OSError, match=r"downloading file:.*missing.bin failed .*put the file at .*cache/datasets/"
                                      r"gone.bin"):
        get_file("gone.bin", origin=(tmp_path / "missing.bin").as_uri(), cache_dir=str(tmp_path / "cache"))


def test_archives_unpack_inside_the_cache_and_never_outside(tmp_path):
    inner = tmp_path / "inner.txt"
    inner.write_text("hello")
    with tarfile.open(tmp_path / "pack.tar.gz", "w:gz") as archive:
        archive.add(inner, arcname="pack/inner.txt")
    folder = get_file("pack", origin=(tmp_path / "pack.tar.gz").as_uri(), untar=True, cache_dir=str(tmp_path / "c"))
    assert open(f"{folder}/inner.txt").read() == "hello"
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as archive:
        archive.writestr("../escaped.txt", "no")
    with pytest.raises(ValueError, match="would be written outside"):
        extract_archive(str(tmp_path / "evil.zip"), str(tmp_path / "target"))
    assert not (tmp_path / "escaped.txt").exists()
