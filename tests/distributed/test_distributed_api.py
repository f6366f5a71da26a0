"""symkeras.distributed in one process, without mpiexec: the allreduce op on every backend (a process that
never called init() is a run of one rank), its place in the graph, the data shards, the warm-up schedule,
the launcher's command line and the errors of a run that was not set up."""

import sys

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.distributed import callbacks as hvd_callbacks
from symkeras.distributed import collectives, data, run
from symkeras.graph import ops


def test_the_allreduce_op_of_one_rank_gives_its_inputs_back_on_every_backend(backend, rng):
    x = K.placeholder((None, 3), name="x")
    w = K.variable(rng.normal(size=(3, 2)).astype("float32"), name="w")
    loss = K.sum(K.tanh(K.dot(x, w)))
    grads = K.gradients(loss, [w, x])
    reduced = ops.allreduce(grads)
    feed = rng.normal(size=(4, 3)).astype("float32")
    got = K.function([x], reduced, backend=backend)([feed])
    want = K.function([x], grads, backend="reference")([feed])
    for g, w_ in zip(got, want):
        assert g.shape == w_.shape and g.dtype == w_.dtype
        np.testing.assert_allclose(g, w_, rtol=1e-5, atol=1e-6)


def test_one_allreduce_per_dtype_and_never_merged_or_removed():
    a = K.placeholder((2,), name="a")
    b = K.placeholder((3,), dtype="float64", name="b")
    c = K.placeholder((2, 2), name="c")
    first = ops.allreduce([a * 2.0, b, c])
    nodes = {t.owner for t in first}
    assert len(nodes) == 2 and sorted(n.op.count for n in nodes) == [1, 2]
    # two equal allreduces are two calls: CSE keeps both, and one whose results nobody reads still runs
    twice = ops.allreduce([a]) + ops.allreduce([a])
    f = K.function([a, b, c], [twice[0] + twice[1]], backend="numba")
    kinds = [type(n.op).__name__ for n in f.optimized_graph.nodes]
    assert kinds.count("Allreduce") == 2
    # every rank makes its calls in the order they were made, whatever the order the outputs need them in
    made_first, made_second = ops.allreduce([c])[0], ops.allreduce([a * 3.0])[0]
    g = K.function([a, c], [K.sum(made_second) + K.sum(made_first)], backend="numba")
    order = [n for n in g.optimized_graph.nodes if isinstance(n.op, ops.Allreduce)]
    assert [n.inputs[0].ndim for n in order] == [2, 1]


def test_the_allreduce_op_checks_its_inputs():
    with pytest.raises(ValueError, match="one floating dtype"):
        ops.Allreduce(2)(K.placeholder((2,)), K.placeholder((2,), dtype="int32"))
    with pytest.raises(ValueError, match="reduction must be one of"):
        ops.Allreduce(1, reduction="max")


def test_shards_take_every_size_th_sample_and_as_many_on_each_rank():
    x, y = np.arange(10), np.arange(10) * 10
    parts = [data.shard(x, y, rank=r, size=3) for r in range(3)]
    assert [p[0].tolist() for p in parts] == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]
    assert parts[1][1].tolist() == [10, 40, 70]
    assert data.shard([x, y], rank=1, size=2)[1].tolist() == [10, 30, 50, 70, 90]
    with pytest.raises(ValueError, match="one length, got lengths \\[3, 10\\]"):
        data.shard(x, x[:3], rank=0, size=2)
    with pytest.raises(ValueError, match="rank must be in \\[0, 2\\), got 2"):
        data.shard(x, rank=2, size=2)


def test_a_sharded_sequence_gives_each_rank_its_batches():
    from symkeras.utils.data_utils import Sequence

    class Batches(Sequence):
        ended = 0

        def __len__(self):
            return 7

        def __getitem__(self, i):
            return i

        def on_epoch_end(self):
            Batches.ended += 1

    seq = data.ShardedSequence(Batches(), rank=1, size=3)
    assert len(seq) == 2 and [seq[i] for i in range(len(seq))] == [1, 4]
    with pytest.raises(IndexError):
        seq[2]
    seq.on_epoch_end()
    assert Batches.ended == 1


def test_the_warm_up_grows_the_rate_from_a_size_th_to_all_of_it(monkeypatch):
    from symkeras.distributed import runtime
    from symkeras.layers import Dense
    from symkeras.models import Sequential
    from symkeras.optimizers import SGD

    monkeypatch.setattr(runtime, "size", lambda: 4)
    model = Sequential([Dense(1, input_dim=2)])
    model.compile(SGD(0.8, momentum=0.9), "mse")
    seen = []

    class Record(hvd_callbacks.Callback):
        def on_batch_begin(self, batch, logs=None):
            optimizer = self.model.optimizer
            seen.append((float(K.get_value(optimizer.lr)), float(K.get_value(optimizer.momentum))))

    warmup = hvd_callbacks.LearningRateWarmupCallback(warmup_epochs=2)
    history = model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), batch_size=2, epochs=3, verbose=0,
                        callbacks=[warmup, Record()])
    # 2 batches an epoch: epochs 0.5, 1, 1.5, 2 of warm-up, then the full rate
    wanted = [0.8 * (1 + e / 2 * 3) / 4 for e in (0.5, 1.0, 1.5, 2.0)] + [0.8, 0.8]
    np.testing.assert_allclose([lr for lr, _ in seen], wanted, rtol=1e-6)
    # momentum scaled by new/old rate in the batches where the rate changes, restored after each
    np.testing.assert_allclose(seen[0][1], 0.9 * wanted[0] / 0.8, rtol=1e-6)
    np.testing.assert_allclose(seen[1][1], 0.9 * wanted[1] / wanted[0], rtol=1e-6)
    np.testing.assert_allclose(seen[4][1], 0.9, rtol=1e-6)
    assert float(K.get_value(model.optimizer.momentum)) == pytest.approx(0.9)
    np.testing.assert_allclose(history.history["lr"], [wanted[1], wanted[3], 0.8], rtol=1e-6)


def test_without_init_the_run_says_what_to_call():
    from symkeras.distributed import DistributedOptimizer, rank
    from symkeras.optimizers import SGD

    assert not collectives.initialized()
    with pytest.raises(ValueError, match=r"call symkeras.distributed.init\(\) first"):
        DistributedOptimizer(SGD())
    with pytest.raises(ValueError, match="has not been initialized"):
        rank()


def test_without_mpi4py_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setitem(collectives._state, "MPI", None)
    with pytest.raises(ImportError, match=r"pip install 'symkeras\[mpi\]'"):
        collectives.mpi()


def test_the_launcher_runs_mpiexec_with_each_rank_s_share_of_the_cores(monkeypatch):
    monkeypatch.setattr(run, "_is_open_mpi", lambda mpiexec: False)
    assert run.command(2, ["train.py", "--epochs", "3"], mpiexec="/x/mpiexec") == \
        ["/x/mpiexec", "-n", "2", sys.executable, "train.py", "--epochs", "3"]
    monkeypatch.setattr(run, "_is_open_mpi", lambda mpiexec: True)
    line = run.command(2, ["train.py"], hosts="a,b", mpiexec="/x/mpirun")
    assert line[:5] == ["/x/mpirun", "-n", "2", "-H", "a,b"] and "--oversubscribe" in line
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    monkeypatch.setenv("NUMBA_NUM_THREADS", "5")
    monkeypatch.setattr(run.os, "cpu_count", lambda: 8)
    env = run.environment(2)
    assert env["OPENBLAS_NUM_THREADS"] == "4" and env["NUMBA_NUM_THREADS"] == "5"  # (the user's setting wins)
    with pytest.raises(SystemExit):
        run.main(["-np", "0", "train.py"])
