"""Saves are atomic (issue 13, defect 3): an error or a kill while saving leaves the previous file loadable."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from symkeras.layers import Dense, Lambda
from symkeras.models import Sequential, load_model


def _model(seed=0):
    model = Sequential([Dense(3, input_shape=(4,), kernel_initializer="ones"), Dense(2)])
    model.compile("sgd", "mse")
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def _files(directory):
    return sorted(os.listdir(directory))


def test_a_save_that_fails_while_serializing_leaves_the_previous_file_and_no_temporary(tmp_path):
    path = str(tmp_path / "model.h5")
    good = _model()
    good.save(path)
    good.save_weights(str(tmp_path / "weights.h5"))
    before = _files(tmp_path)
    bad = Sequential([Dense(3, input_shape=(4,)), Lambda(lambda x, scale: x * 2.0, arguments={"scale": object()})])
    with pytest.raises(TypeError, match="Not JSON serializable"):
        bad.save(path)
    assert _files(tmp_path) == before
    for a, b in zip(load_model(path).get_weights(), good.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _model(1).save(path, overwrite=False)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        _model(1).save_weights(str(tmp_path / "weights.h5"), overwrite=False)
    assert _files(tmp_path) == before
    np.testing.assert_array_equal(load_model(path).get_weights()[0], good.get_weights()[0])


def test_saved_files_get_the_usual_permissions_not_the_temporary_files_owner_only(tmp_path):
    path = str(tmp_path / "model.h5")
    mask = os.umask(0o022)
    try:
        _model().save(path)
        assert os.stat(path).st_mode & 0o777 == 0o644
        os.chmod(path, 0o640)
        _model(2).save(path)  # replacing keeps the file's mode
        assert os.stat(path).st_mode & 0o777 == 0o640
    finally:
        os.umask(mask)


_SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    from symkeras.callbacks import ModelCheckpoint
    from symkeras.layers import Dense
    from symkeras.models import Sequential

    mode, path = sys.argv[1], sys.argv[2]
    model = Sequential([Dense(1024, input_shape=(1024,)), Dense(8)])  # ~4 MB of weights, Adam's state 8 MB
    model.compile("adam", "mse")
    x = np.ones((64, 1024), "float32"); y = np.zeros((64, 8), "float32")
    model.save(path)
    print("saved", flush=True)
    if mode == "save":
        while True:
            model.save(path)
    else:
        model.fit(x, y, batch_size=64, epochs=100000, verbose=0, callbacks=[ModelCheckpoint(path)])
""")


@pytest.mark.parametrize("mode", ["save", "checkpoint"])
def test_a_kill_during_save_or_checkpointing_fit_leaves_a_file_that_loads(tmp_path, mode):
    path = str(tmp_path / "model.h5")
    rng = np.random.default_rng(7)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", _SAVER, mode, path], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout.readline().strip() == "saved"
            time.sleep(float(rng.uniform(0.05, 0.6)))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        model = load_model(path)
        assert [w.shape for w in model.get_weights()] == [(1024, 1024), (1024,), (1024, 8), (8,)]
