"""One rank of the distributed tests (tests/distributed/test_mpi_runs.py starts it under mpiexec).

    python mpi_worker.py MODE OUT_DIR

MODE ``train``: train a small model data-parallel (rank 0's starting weights saved first) and save each
rank's weights, history and checkpoints in OUT_DIR; ``fp16``: the same with gradients sent as float16;
``raise``: rank 1 raises in the middle of an epoch; ``vanish``: rank 1 leaves quietly in the middle of an
epoch (sys.exit(0)), so the others wait for it; ``kill``: rank 1 is killed (SIGKILL) in the middle of an
epoch; ``mismatch``: rank 1 builds a wider layer;
``arrays``: the collectives on NumPy arrays.
"""

import json
import os
import signal
import sys

import numpy as np

import symkeras as keras
import symkeras.distributed as hvd

BATCH_PER_RANK = 4
SAMPLES = 32


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, 6)).astype("float32")
    y = rng.normal(size=(SAMPLES, 2)).astype("float32")
    return x, y


def model(width=8):
    np.random.seed(hvd.rank() + 1)  # every rank draws other weights: the broadcast makes them rank 0's
    return keras.models.Sequential([keras.layers.Dense(width, activation="tanh", input_dim=6),
                                    keras.layers.Dense(2)])


class Fail(keras.callbacks.Callback):
    """On rank 1, at batch 2 of the first epoch: raise, leave quietly or be killed."""

    def __init__(self, how):
        super().__init__()
        self.how = how

    def on_batch_begin(self, batch, logs=None):
        if hvd.rank() == 1 and batch == 2:
            if self.how == "raise":
                raise RuntimeError("a bad batch on purpose")
            if self.how == "kill":
                os.kill(os.getpid(), signal.SIGKILL)
            sys.exit(0)


def train(out, mode):
    x, y = hvd.shard(*data())
    net = model(9 if mode == "mismatch" and hvd.rank() == 1 else 8)
    if hvd.rank() == 0:
        np.savez(os.path.join(out, "start.npz"), *net.get_weights())
    compression = hvd.Compression.fp16 if mode == "fp16" else hvd.Compression.none
    optimizer = hvd.DistributedOptimizer(keras.optimizers.SGD(0.1, momentum=0.5), compression=compression)
    net.compile(optimizer, "mse", metrics=["mae"])
    callbacks = [hvd.callbacks.BroadcastGlobalVariablesCallback(0), hvd.callbacks.MetricAverageCallback(),
                 # on every rank, each with its own name: only rank 0's may be written
                 keras.callbacks.ModelCheckpoint(os.path.join(out, f"rank{hvd.rank()}-{{epoch}}.h5"))]
    if mode in ("raise", "vanish", "kill"):
        callbacks.append(Fail(mode))
    history = net.fit(x, y, batch_size=BATCH_PER_RANK, epochs=3, shuffle=False, callbacks=callbacks,
                      verbose=1 if hvd.rank() == 0 else 0)
    np.savez(os.path.join(out, f"rank{hvd.rank()}.npz"), *net.get_weights())
    resumed = {}
    if mode == "train":  # resume from rank 0's last checkpoint, on both ranks, for one more epoch
        hvd.allreduce(np.zeros(1))  # (a barrier: rank 0 has written it)
        again = hvd.load_model(os.path.join(out, "rank0-3.h5"))
        state = again.optimizer.get_weights()
        again.fit(x, y, batch_size=BATCH_PER_RANK, epochs=1, shuffle=False, verbose=0)
        np.savez(os.path.join(out, f"resumed{hvd.rank()}.npz"), *again.get_weights())
        resumed = {"optimizer": type(again.optimizer).__name__,
                   "distributed": getattr(again.optimizer, "_distributed", False),
                   "state_kept": bool(all(np.array_equal(a, b) for a, b in zip(state, optimizer.get_weights())))}
    with open(os.path.join(out, f"rank{hvd.rank()}.json"), "w") as fh:
        json.dump({"history": history.history, "backend": net.train_function.backend.name,
                   "optimizer": type(net.optimizer).__name__, "resumed": resumed}, fh)


def arrays(out):
    rank, size = hvd.rank(), hvd.size()
    result = {
        "size": size, "local": [hvd.local_rank(), hvd.local_size()],
        "sum": hvd.allreduce(np.arange(3) + rank, op=hvd.Sum).tolist(),
        "mean": hvd.allreduce(np.arange(3) + rank).tolist(),
        "gathered": hvd.allgather(np.full((rank + 1, 2), rank, np.int32)).tolist(),
        "broadcast": hvd.broadcast(np.full(2, 10.0 + rank), root_rank=1).tolist(),
    }
    try:
        hvd.broadcast(np.zeros(2 + rank), root_rank=0)
    except hvd.DistributedError as error:
        result["bad_broadcast"] = str(error)
    result["by_name"] = type(hvd.DistributedOptimizer("adam")).__name__
    try:
        hvd.DistributedOptimizer(3)
    except TypeError as error:
        result["not_an_optimizer"] = str(error)
    with open(os.path.join(out, f"arrays{rank}.json"), "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    hvd.init()
    mode, out = sys.argv[1], sys.argv[2]
    arrays(out) if mode == "arrays" else train(out, mode)
