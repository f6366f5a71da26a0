"""Settings: symkeras.json, environment overrides, setters."""

import json

import pytest

import symkeras.backend as K
from symkeras import config


def test_defaults():
    assert K.floatx() == "float32"
    assert K.epsilon() == 1e-7
    assert K.image_data_format() == "channels_last"
    assert K.backend() == "symkeras"


def test_config_file_and_environment(tmp_path, monkeypatch):
    (tmp_path / "symkeras.json").write_text(json.dumps(
        {"floatx": "float64", "epsilon": 1e-5, "image_data_format": "channels_first"}))
    monkeypatch.setenv("SYMKERAS_HOME", str(tmp_path))
    try:
        config.load()
        assert (K.floatx(), K.epsilon(), K.image_data_format()) == ("float64", 1e-5, "channels_first")
        assert K.placeholder((2,)).dtype == "float64"
        monkeypatch.setenv("SYMKERAS_IMAGE_DATA_FORMAT", "channels_last")
        monkeypatch.setenv("SYMKERAS_FLOATX", "float16")
        config.load()
        assert (K.floatx(), K.image_data_format()) == ("float16", "channels_last")
        (tmp_path / "symkeras.json").write_text('{"floatx": "float8"}')
        monkeypatch.delenv("SYMKERAS_FLOATX")
        with pytest.raises(ValueError, match="Unknown floatx type: 'float8'"):
            config.load()
    finally:
        monkeypatch.delenv("SYMKERAS_HOME")
        monkeypatch.delenv("SYMKERAS_IMAGE_DATA_FORMAT", raising=False)
        config.load()


def test_unreadable_file_is_ignored(tmp_path, monkeypatch):
    (tmp_path / "symkeras.json").write_text("{not json")
    monkeypatch.setenv("SYMKERAS_HOME", str(tmp_path))
    config.load()
    assert K.floatx() == "float32"
    monkeypatch.delenv("SYMKERAS_HOME")
    config.load()


def test_setters_validate():
    K.set_floatx("float64")
    assert K.variable(1.0).dtype == "float64"
    with pytest.raises(ValueError, match="Unknown floatx"):
        K.set_floatx("int32")
    K.set_image_data_format("channels_first")
    assert K.image_data_format() == "channels_first"
    with pytest.raises(ValueError, match="Unknown data_format"):
        K.set_image_data_format("channels_middle")
    K.set_epsilon(1e-4)
    assert K.epsilon() == 1e-4
    assert K.cast_to_floatx([1, 2]).dtype.name == "float64"
    assert K.normalize_data_format(None) == "channels_first"
    assert K.normalize_data_format("Channels_Last") == "channels_last"
    with pytest.raises(ValueError, match="data_format"):
        K.normalize_data_format("nchw")


def test_keras1_dim_ordering_warns():
    with pytest.warns(DeprecationWarning, match="image_data_format"):
        assert K.image_dim_ordering() == "tf"
    with pytest.warns(DeprecationWarning):
        K.set_image_dim_ordering("th")
    assert K.image_data_format() == "channels_first"
