"""keras.datasets on small files in the real formats (never the network): imdb, reuters and boston_housing
against tf-keras 2.21 run on the same files (tests/fixtures/make_keras2_dataset_fixtures.py), mnist,
fashion_mnist, cifar10 and cifar100 from their formats, Keras's cache layout and its hash checks, and
pickles that would run code refused."""

import gzip
import json
import os
import pickle

import numpy as np
import pytest
from fixtures.keras2_dataset_cases import CASES, flatten, write_files

import symkeras as keras
from symkeras import config
from symkeras.datasets import cifar10, cifar100, fashion_mnist, imdb, mnist

with open(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_datasets.json")) as fh:
    KERAS2 = json.load(fh)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_files(str(tmp_path_factory.mktemp("datasets")))


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras2(files, name):
    dataset, kwargs = CASES[name]
    module = getattr(keras.datasets, dataset)
    assert flatten(module.load_data(path=files[dataset], **kwargs)) == KERAS2[name]


def test_imdb_errors(files):
    with pytest.raises(ValueError, match="After filtering for sequences shorter than maxlen=2, no sequence was kept"):
        imdb.load_data(path=files["imdb"], maxlen=2)
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        imdb.load_data(path=files["imdb"], words=3)


def _mnist_like(rng, n):
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n, dtype=np.uint8)


def test_mnist_from_the_cache_and_from_a_path(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    (a, b), (c, d) = _mnist_like(rng, 5), _mnist_like(rng, 3)
    own = tmp_path / "copy.npz"
    np.savez(own, x_train=a, y_train=b, x_test=c, y_test=d)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(path=str(own))
    np.testing.assert_array_equal(x_train, a) and np.testing.assert_array_equal(y_test, d)
    assert x_train.dtype == np.uint8 and x_test.shape == (3, 28, 28)
    # Keras's cache: a file there that is not the original (its hash differs) is fetched again; offline
    # the error says so and where the file goes
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    os.makedirs(tmp_path / "home" / "datasets")
    (tmp_path / "home" / "datasets" / "mnist.npz").write_bytes(own.read_bytes())
    monkeypatch.setattr("urllib.request.urlopen", _offline)
    with pytest.raises(OSError, match=r"does not have the sha256 hash 731c5ac6.* of the original .*put the file "
                                      r"at .*home/datasets/mnist.npz"):
        mnist.load_data()


def _offline(*args, **kwargs):
    import urllib.error

    raise urllib.error.URLError("no network here")


def _idx(path, magic, array):
    header = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in array.shape)
    with gzip.open(path, "wb") as fh:
        fh.write(header + array.tobytes())


def test_fashion_mnist_reads_the_idx_files(tmp_path):
    rng = np.random.default_rng(1)
    (a, b), (c, d) = _mnist_like(rng, 4), _mnist_like(rng, 2)
    _idx(tmp_path / "train-labels-idx1-ubyte.gz", 2049, b)
    _idx(tmp_path / "train-images-idx3-ubyte.gz", 2051, a)
    _idx(tmp_path / "t10k-labels-idx1-ubyte.gz", 2049, d)
    _idx(tmp_path / "t10k-images-idx3-ubyte.gz", 2051, c)
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(path=str(tmp_path))
    for got, want in ((x_train, a), (y_train, b), (x_test, c), (y_test, d)):
        np.testing.assert_array_equal(got, want)


def _cifar_batch(path, rng, n, **label_keys):
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    batch = {b"data": data, b"batch_label": b"a batch"}
    batch.update({k.encode(): list(map(int, v)) for k, v in label_keys.items()})
    with open(path, "wb") as fh:
        pickle.dump(batch, fh, protocol=2)
    return data


def test_cifar10_and_cifar100_read_their_batches_in_either_data_format(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rows = [_cifar_batch(folder / f"data_batch_{i}", rng, 2, labels=[i, i + 1]) for i in range(1, 6)]
    test_rows = _cifar_batch(folder / "test_batch", rng, 3, labels=[7, 8, 9])
    (x_train, y_train), (x_test, y_test) = cifar10.load_data(path=str(folder))
    assert x_train.shape == (10, 32, 32, 3) and y_train.shape == (10, 1) and y_train.dtype == np.uint8
    np.testing.assert_array_equal(x_train[2], rows[1][0].reshape(3, 32, 32).transpose(1, 2, 0))
    assert y_train[:, 0].tolist() == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6] and y_test[:, 0].tolist() == [7, 8, 9]
    config.set_image_data_format("channels_first")
    (x_first, _), _ = cifar10.load_data(path=str(folder))
    np.testing.assert_array_equal(x_first[0], rows[0][0].reshape(3, 32, 32))
    np.testing.assert_array_equal(x_test.transpose(0, 3, 1, 2), test_rows.reshape(3, 3, 32, 32))

    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    _cifar_batch(folder / "train", rng, 4, fine_labels=[10, 20, 30, 99], coarse_labels=[1, 2, 3, 19])
    _cifar_batch(folder / "test", rng, 2, fine_labels=[5, 6], coarse_labels=[0, 1])
    (_, fine), _ = cifar100.load_data(path=str(folder))
    (_, coarse), (_, coarse_test) = cifar100.load_data("coarse", path=str(folder))
    assert fine[:, 0].tolist() == [10, 20, 30, 99] and coarse[:, 0].tolist() == [1, 2, 3, 19]
    assert coarse_test[:, 0].tolist() == [0, 1]
    with pytest.raises(ValueError, match="`label_mode` must be one of"):
        cifar100.load_data("medium", path=str(folder))


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo this must not run",))


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(folder / "data_batch_1", "wb") as fh:
        pickle.dump({b"data": _RunsCode(), b"labels": [1]}, fh)
    with pytest.raises(ValueError, match="refusing to load posix.system"):
        cifar10.load_data(path=str(folder))
    bad = np.empty(1, dtype=object)
    bad[0] = _RunsCode()
    np.savez(tmp_path / "imdb.npz", x_train=bad, y_train=np.zeros(1), x_test=bad, y_test=np.zeros(1))
    with pytest.raises(ValueError, match="refusing to load posix.system"):
        imdb.load_data(path=str(tmp_path / "imdb.npz"))


def test_word_indices_are_read_as_json(tmp_path):
    (tmp_path / "index.json").write_text('{"the": 1, "movie": 2}')
    assert imdb.get_word_index(path=str(tmp_path / "index.json")) == {"the": 1, "movie": 2}
