"""Damaged model files give clean errors that name the file and what is wrong (issue 13, defect 7); a
missing optimizer slot is treated as a wrong-shaped one (a warning, a fresh optimizer); a config asking for
an absurdly large weight fails before anything is allocated."""

import json

import h5py
import numpy as np
import pytest

from symkeras.layers import Dense
from symkeras.models import Sequential, load_model
from symkeras.saving.hdf5 import CHECKSUM


@pytest.fixture
def saved(tmp_path):
    model = Sequential([Dense(4, input_shape=(3,), name="hidden"), Dense(2, name="out")])
    model.compile("adam", "mse")
    model.train_on_batch(np.ones((5, 3), "float32"), np.zeros((5, 2), "float32"))  # Adam has its slots now
    path = str(tmp_path / "model.h5")
    model.save(path)
    return model, path


def _edit(path, change):
    with h5py.File(path, "r+") as f:
        change(f)


def _edit_as_other_writer(path, change):
    """Edit the configs and drop symkeras's checksum of them, as in a file tf-keras wrote."""
    def both(f):
        change(f)
        del f.attrs[CHECKSUM]

    _edit(path, both)


def test_files_that_are_not_hdf5_or_do_not_exist(tmp_path, saved):
    _, path = saved
    text = tmp_path / "notes.h5"
    text.write_text("not a model")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(open(path, "rb").read()[:300])
    for bad in (text, truncated):
        with pytest.raises(ValueError, match=f"'{bad}' is not a readable HDF5 file"):
            load_model(str(bad))
        with pytest.raises(ValueError, match="is not a readable HDF5 file"):
            saved[0].load_weights(str(bad))
    with pytest.raises(FileNotFoundError, match="No such file: .*missing.h5"):
        load_model(str(tmp_path / "missing.h5"))


def test_a_missing_layer_or_weight_names_the_file_and_the_layer(saved):
    model, path = saved
    before = model.get_weights()
    _edit(path, lambda f: f["model_weights"]["out"]["out"].__delitem__("kernel:0"))
    with pytest.raises(ValueError, match=r"model.h5': weight 'out/kernel:0' of layer 'out' is missing"):
        load_model(path)
    with pytest.raises(ValueError, match="weight 'out/kernel:0' of layer 'out' is missing"):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights()):  # nothing changed
        np.testing.assert_array_equal(a, b)
    _edit(path, lambda f: f["model_weights"].__delitem__("hidden"))
    with pytest.raises(ValueError, match="layer 'hidden' is missing"):
        load_model(path)


def test_duplicate_layer_names_and_bad_json_are_errors(saved):
    _, path = saved
    _edit(path, lambda f: f["model_weights"].attrs.__setitem__("layer_names", [b"hidden", b"hidden"]))
    with pytest.raises(ValueError, match="the layer name 'hidden' appears twice"):
        load_model(path)
    _edit_as_other_writer(path, lambda f: f.attrs.__setitem__("model_config", b"{not json"))
    with pytest.raises(ValueError, match="the model_config attribute is not valid JSON"):
        load_model(path)


def test_no_optimizer_config_is_an_error_that_says_how_to_load(saved):
    _, path = saved

    def drop(f):
        training = json.loads(f.attrs["training_config"])
        del training["optimizer_config"]
        f.attrs["training_config"] = json.dumps(training).encode()

    _edit_as_other_writer(path, drop)
    with pytest.raises(ValueError, match="no optimizer_config; load the model with compile=False"):
        load_model(path)
    assert load_model(path, compile=False).layers[0].name == "hidden"


def test_a_missing_optimizer_slot_warns_like_a_wrong_shaped_one(saved):
    model, path = saved

    def first_slot(f):
        group = f["optimizer_weights"]
        return group, [n.decode() if isinstance(n, bytes) else n for n in group.attrs["weight_names"]][1]

    def wrong_shape(f):
        group, name = first_slot(f)
        del group[name]
        group.create_dataset(name, data=np.zeros((7, 7), "float32"))

    def missing(f):
        group, name = first_slot(f)
        del group[name]

    for damage in (wrong_shape, missing):
        model.save(path)
        _edit(path, damage)
        with pytest.warns(UserWarning, match="freshly initialized optimizer"):
            loaded = load_model(path)
        for a, b in zip(loaded.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_an_absurd_weight_shape_fails_before_allocation(saved):
    _, path = saved

    def huge(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][0]["config"]["units"] = 4 * 10**12  # a 3 x 4e12 kernel: ~44 TiB
        f.attrs["model_config"] = json.dumps(config).encode()

    _edit_as_other_writer(path, huge)
    with pytest.raises(ValueError, match=r"Layer hidden: weight 'kernel' of shape \(3, 4000000000000\) would take "
                                         r"[\d,.]+ GiB, more than this machine's"):
        load_model(path)


def test_a_config_edited_into_another_valid_model_fails_its_checksum(saved):
    """One flipped bit may keep the JSON valid and build a different model ("relu" -> "selu"); symkeras's
    files carry a checksum of their configs, and their weights HDF5's Fletcher-32 checksums."""
    model, path = saved

    def activation(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][0]["config"]["activation"] = "selu"
        f.attrs["model_config"] = json.dumps(config).encode()

    _edit(path, activation)
    with pytest.raises(ValueError, match="does not match its checksum: the file is damaged"):
        load_model(path)
    model.save(path)
    with h5py.File(path, "r") as f:
        kernel = f["model_weights"]["hidden"]["hidden"]["kernel:0"]
        assert kernel.fletcher32 and kernel.chunks is not None
        offset = kernel.id.get_offset() if kernel.chunks is None else kernel.id.get_chunk_info(0).byte_offset
    with open(path, "r+b") as fh:  # flip one bit of the kernel's stored bytes
        fh.seek(offset + 5)
        byte = fh.read(1)
        fh.seek(offset + 5)
        fh.write(bytes([byte[0] ^ 0x10]))
    with pytest.raises(ValueError, match="weight 'hidden/kernel:0' of layer 'hidden' is missing or unreadable"):
        load_model(path)


def test_a_config_larger_than_an_object_header_still_saves_and_loads(tmp_path):
    """Small configs are fixed-length strings (their size checked before reading); one beyond HDF5's
    64 KB object header goes to the heap as Keras writes it, checksummed all the same."""
    model = Sequential([Dense(2, input_shape=(2,))] + [Dense(2) for _ in range(200)])
    model.compile("sgd", "mse")
    path = str(tmp_path / "deep.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        assert len(f.attrs["model_config"]) > 64 * 1024 and CHECKSUM in f.attrs
    loaded = load_model(path)
    x = np.ones((1, 2), "float32")
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)
