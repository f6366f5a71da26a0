"""Horovod's Keras callbacks: the weights broadcast at the start, metrics averaged over the ranks, and the
learning-rate warm-up of large-batch training.

By the documented convention (as with Horovod), only rank 0 shows progress and writes files::

    verbose = 1 if hvd.rank() == 0 else 0
    callbacks = [hvd.callbacks.BroadcastGlobalVariablesCallback(0), hvd.callbacks.MetricAverageCallback()]
    if hvd.rank() == 0:
        callbacks.append(keras.callbacks.ModelCheckpoint("checkpoint-{epoch}.h5"))
"""

from __future__ import annotations

import numpy as np

import symkeras.backend as K
from symkeras.callbacks import Callback
from symkeras.distributed import arrays, runtime


class BroadcastGlobalVariablesCallback(Callback):
    """Sets the model's and its optimizer's weights on every rank to rank ``root_rank``'s when training
    starts, so that every rank starts from the same point (whatever its own initialization drew).

    Raises (from fit):
        DistributedError: the ranks' models differ; the message names the first weight that does.
    """

    def __init__(self, root_rank: int = 0, device: str = ""):
        super().__init__()
        self.root_rank = int(root_rank)
        self.broadcast_done = False

    def on_train_begin(self, logs=None):
        if self.broadcast_done:
            return
        model = self.model
        variables = list(model.weights)
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None:
            variables += [v for v in optimizer.weights if all(v is not w for w in variables)]
        arrays.broadcast_variables(variables, self.root_rank)
        self.broadcast_done = True


class MetricAverageCallback(Callback):
    """At the end of each epoch, replaces every metric in the epoch's logs (validation ones too) by its
    average over the ranks, so that History, checkpoints and early stopping see the whole run's value.
    Put it before the callbacks that read the logs."""

    def __init__(self, device: str = ""):
        super().__init__()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        names = sorted(k for k, v in logs.items() if np.ndim(v) == 0 and isinstance(v, (int, float, np.number)))
        if not names:
            return
        averaged = arrays.allreduce(np.array([float(logs[k]) for k in names], np.float64), op=arrays.Average)
        for name, value in zip(names, averaged):
            logs[name] = float(value)


class LearningRateWarmupCallback(Callback):
    """Gradual warm-up (Goyal et al. 2017): the learning rate grows linearly from ``initial_lr / size()``
    to ``initial_lr`` over the first ``warmup_epochs`` epochs, updated every batch.

    Args:
        warmup_epochs: epochs of warm-up.
        momentum_correction: scale the optimizer's momentum by new_lr / old_lr for the batch where the
            learning rate changes (when it has one).
        steps_per_epoch: batches per epoch (read from fit's parameters unless given).
        verbose: 1 prints when the warm-up ends.
        initial_lr: the learning rate reached at the end (the optimizer's, already scaled by the number of
            ranks, unless given).
    """

    def __init__(self, warmup_epochs=5, momentum_correction=True, steps_per_epoch=None, verbose=0,
                 initial_lr=None):
        super().__init__()
        if warmup_epochs <= 0:
            raise ValueError(f"LearningRateWarmupCallback: warmup_epochs must be positive, got {warmup_epochs!r}")
        self.warmup_epochs = warmup_epochs
        self.momentum_correction = momentum_correction
        self.steps_per_epoch = steps_per_epoch
        self.verbose = verbose
        self.initial_lr = initial_lr
        self.current_epoch = 0
        self._restore_momentum = None

    def _steps(self) -> int:
        if self.steps_per_epoch:
            return int(self.steps_per_epoch)
        if self.params.get("steps"):
            return int(self.params["steps"])
        samples, batch = self.params.get("samples"), self.params.get("batch_size")
        if samples and batch:
            return -(-int(samples) // int(batch))
        raise ValueError("LearningRateWarmupCallback could not tell the number of batches an epoch: pass "
                         "steps_per_epoch.")

    def multiplier(self, epoch: float) -> float:
        """The fraction of ``initial_lr`` used at (fractional) ``epoch``."""
        n = runtime.size()
        progress = min(float(epoch), float(self.warmup_epochs)) / self.warmup_epochs
        return (1.0 + progress * (n - 1)) / n

    def on_train_begin(self, logs=None):
        if self.initial_lr is None:
            self.initial_lr = float(K.get_value(self.model.optimizer.lr))

    def on_epoch_begin(self, epoch, logs=None):
        self.current_epoch = epoch

    def on_batch_begin(self, batch, logs=None):
        if self.current_epoch >= self.warmup_epochs:
            return
        optimizer = self.model.optimizer
        epoch = self.current_epoch + (batch + 1) / self._steps()  # (round values at each epoch's end)
        old_lr = float(K.get_value(optimizer.lr))
        new_lr = self.initial_lr * self.multiplier(epoch)
        K.set_value(optimizer.lr, new_lr)
        momentum = getattr(optimizer, "momentum", None)
        if self.momentum_correction and momentum is not None and old_lr > 0 and new_lr != old_lr:
            self._restore_momentum = float(K.get_value(momentum))
            K.set_value(momentum, self._restore_momentum * new_lr / old_lr)

    def on_batch_end(self, batch, logs=None):
        if self._restore_momentum is not None:
            K.set_value(self.model.optimizer.momentum, self._restore_momentum)
            self._restore_momentum = None

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = float(K.get_value(self.model.optimizer.lr))
        if epoch == self.warmup_epochs - 1 and self.verbose:
            print(f"\nEpoch {epoch + 1}: finished gradual learning rate warmup to {logs['lr'] if logs else ''}.")
