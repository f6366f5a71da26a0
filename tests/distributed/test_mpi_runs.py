"""Two-rank runs under mpiexec (through ``python -m symkeras.distributed.run``): data-parallel training equals
one process on the whole batches, only rank 0 writes checkpoints, and a failing, vanishing or different
rank stops the run with an error naming it, in bounded time.  Skipped, with the reason, where the ``mpi``
extra is not installed (``make test`` installs it)."""

import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from symkeras.distributed.run import find_mpiexec

WORKER = os.path.join(os.path.dirname(__file__), "mpi_worker.py")


def _why_not() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'symkeras[mpi]')"
    try:
        find_mpiexec()
    except FileNotFoundError as error:
        return str(error)
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=f"MPI unavailable: {_why_not()}")


def _run(mode, out, timeout=240, **env):
    """Run the worker on 2 ranks; (exit status, stdout + stderr, seconds)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "symkeras.distributed.run", "-np", "2", WORKER, mode, str(out)],
                          capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, SYMKERAS_BACKGROUND_COMPILE="0", **env))
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - start


def _load(path):
    with np.load(path) as saved:
        return [saved[f"arr_{k}"] for k in range(len(saved.files))]


def _single_process(start):
    """The worker's model trained in this process on the whole batches (both ranks' samples together)
    with the plain optimizer."""
    sys.path.insert(0, os.path.dirname(WORKER))
    try:
        import mpi_worker
    finally:
        sys.path.pop(0)
    import symkeras as keras

    x, y = mpi_worker.data()
    net = keras.models.Sequential([keras.layers.Dense(8, activation="tanh", input_dim=6), keras.layers.Dense(2)])
    net.set_weights(start)
    net.compile(keras.optimizers.SGD(0.1, momentum=0.5), "mse", metrics=["mae"])
    history = net.fit(x, y, batch_size=2 * mpi_worker.BATCH_PER_RANK, epochs=3, shuffle=False, verbose=0)
    return net.get_weights(), history.history


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("train")
    rc, text, _ = _run("train", out)
    assert rc == 0, text
    return out, text


def test_the_ranks_end_with_the_same_weights_those_of_one_process_on_the_whole_batches(trained):
    out, _ = trained
    ranks = [_load(out / f"rank{r}.npz") for r in (0, 1)]
    for a, b in zip(*ranks):
        np.testing.assert_array_equal(a, b)
    wanted, _ = _single_process(_load(out / "start.npz"))
    for got, want in zip(ranks[0], wanted):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(ranks[0][0], _load(out / "start.npz")[0])  # (it trained)


def test_metrics_are_averaged_over_the_ranks(trained):
    out, _ = trained
    logs = [json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert logs[0]["history"] == logs[1]["history"]
    _, wanted = _single_process(_load(out / "start.npz"))
    for name in ("loss", "mae"):
        np.testing.assert_allclose(logs[0]["history"][name], wanted[name], rtol=1e-5)
    # the optimizer keeps its class's name (a saved model loads without symkeras.distributed)
    assert {log["optimizer"] for log in logs} == {"SGD"} and {log["backend"] for log in logs} == {"numba"}


def test_a_run_resumes_from_a_checkpoint_with_the_optimizer_state_and_reduced_gradients(trained):
    out, _ = trained
    logs = [json.loads((out / f"rank{r}.json").read_text())["resumed"] for r in (0, 1)]
    for log in logs:
        assert log == {"optimizer": "SGD", "distributed": True, "state_kept": True}
    ranks = [_load(out / f"resumed{r}.npz") for r in (0, 1)]
    for a, b, before in zip(*ranks, _load(out / "rank0.npz")):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, before)


def test_only_rank_zero_writes_checkpoints_and_shows_progress(trained):
    out, text = trained
    assert sorted(p.name for p in out.glob("*.h5")) == ["rank0-1.h5", "rank0-2.h5", "rank0-3.h5"]
    assert text.count("Epoch 1/3") == 1


def test_float16_compression_trains_to_nearly_the_same_weights(tmp_path, trained):
    rc, text, _ = _run("fp16", tmp_path)
    assert rc == 0, text
    exact = _load(trained[0] / "rank0.npz")
    ranks = [_load(tmp_path / f"rank{r}.npz") for r in (0, 1)]
    for a, b, c in zip(*ranks, exact):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=0, atol=5e-3)


def test_a_rank_that_raises_stops_the_run_naming_it(tmp_path):
    rc, text, seconds = _run("raise", tmp_path, timeout=120)
    assert rc != 0
    assert "RuntimeError: a bad batch on purpose" in text
    assert "symkeras.distributed: rank 1 of 2 failed with RuntimeError: a bad batch on purpose (stopping" in text
    assert seconds < 100 and not (tmp_path / "rank0.npz").exists()


def test_a_rank_that_leaves_quietly_stops_the_others_after_the_timeout(tmp_path):
    rc, text, seconds = _run("vanish", tmp_path, timeout=120, SYMKERAS_MPI_TIMEOUT="3")
    assert rc != 0
    assert "symkeras.distributed: rank 0 of 2 waited 3 s in an allreduce of" in text
    assert seconds < 100 and not (tmp_path / "rank0.npz").exists()


def test_a_rank_that_is_killed_stops_the_run(tmp_path):
    rc, text, seconds = _run("kill", tmp_path, timeout=120)
    assert rc != 0 and "Killed (signal 9)" in text
    assert seconds < 100 and not (tmp_path / "rank0.npz").exists()


def test_ranks_with_different_models_fail_at_the_first_broadcast_naming_the_difference(tmp_path):
    rc, text, _ = _run("mismatch", tmp_path, timeout=120)
    assert rc != 0
    assert ("symkeras.distributed: rank 1 of 2 failed with DistributedError: broadcast_variables: variable 0 is "
            "'dense_1/kernel:0' float32 of shape (6, 8) on rank 0 but 'dense_1/kernel:0' float32 of shape (6, 9) on "
            "rank 1: the ranks built different models. (stopping all ranks)") in text
    assert not list(tmp_path.glob("*.h5"))


def test_the_collectives_on_numpy_arrays(tmp_path):
    rc, text, _ = _run("arrays", tmp_path, timeout=120)
    assert rc == 0, text
    got = [json.loads((tmp_path / f"arrays{r}.json").read_text()) for r in (0, 1)]
    for rank, result in enumerate(got):
        assert result["size"] == 2 and result["local"] == [rank, 2]
        assert result["sum"] == [1, 3, 5] and result["mean"] == [0.5, 1.5, 2.5]
        assert result["gathered"] == [[0, 0], [1, 1], [1, 1]]
        assert result["broadcast"] == [11.0, 11.0]
        assert result["by_name"] == "Adam"
        assert result["not_an_optimizer"] == ("DistributedOptimizer: expected a symkeras optimizer (or its name), "
                                              "got int 3")
        assert result["bad_broadcast"] == ("broadcast: the arrays' dtype and shape differ between ranks: "
                                           "<f8 (2,) on rank 0, <f8 (3,) on rank 1.")
