"""``DistributedOptimizer``: any symkeras optimizer, its gradients averaged across the ranks every step."""

from __future__ import annotations

import functools

from symkeras.distributed import collectives
from symkeras.distributed.arrays import Average, Sum
from symkeras.graph.ops.collective import allreduce


class Compression:
    """How gradients travel between ranks (Horovod's ``hvd.Compression``)."""

    #: as computed
    none = "none"
    #: as float16: half the bytes, summed in float32 on arrival, then back to the gradient's dtype
    fp16 = "fp16"


@functools.cache
def _distributed_class(cls):
    """``cls`` with gradients reduced across the ranks (named as ``cls``: a saved model's optimizer loads
    as the plain optimizer, which a later run can wrap again)."""

    def get_gradients(self, loss, params):
        grads = self._gradients(loss, params)
        grads = allreduce(grads, reduction=self._allreduce_op, compression=self._allreduce_compression)
        return self._clipped(grads)  # (clipping sees the gradient of the whole, concatenated batch)

    return type(cls.__name__, (cls,), {"get_gradients": get_gradients, "__module__": cls.__module__,
                                       "__qualname__": cls.__qualname__, "_distributed": True})


def DistributedOptimizer(optimizer, name=None, device_dense="", device_sparse="", compression=Compression.none,
                         sparse_as_dense=False, op=Average):
    """``optimizer``, its gradients averaged (or summed) across the ranks before its update rule, in one
    fused allreduce per dtype inside the compiled training step (Horovod's Keras API).

    Args:
        optimizer: a symkeras optimizer instance (its variables are shared with the result), or its name.
        name, device_dense, device_sparse, sparse_as_dense: accepted for Horovod's signature; symkeras
            reduces every gradient densely, on the device of the training step.
        compression: ``Compression.none`` or ``Compression.fp16``.
        op: ``Average`` (the default) or ``Sum``.

    Returns:
        An optimizer of the same class (as ``type(...).__name__`` and saved files tell) that reduces its
        gradients across the ranks.

    Raises:
        ValueError: ``symkeras.distributed.init()`` has not been called, or ``op``/``compression`` is not
            one of the above.
        TypeError: ``optimizer`` is not an optimizer.
    """
    from symkeras import optimizers

    collectives.comm()  # (raises when init() was not called)
    if isinstance(optimizer, (str, dict)):
        optimizer = optimizers.get(optimizer)
    if not isinstance(optimizer, optimizers.Optimizer):
        raise TypeError(f"DistributedOptimizer: expected a symkeras optimizer (or its name), got "
                        f"{type(optimizer).__name__} {optimizer!r}")
    if op not in (Average, Sum):
        raise ValueError(f"DistributedOptimizer: op must be Average or Sum, got {op!r}")
    if compression not in (Compression.none, Compression.fp16):
        raise ValueError(f"DistributedOptimizer: compression must be Compression.none or Compression.fp16, "
                         f"got {compression!r}")
    base = type(optimizer)
    while getattr(base, "_distributed", False):
        base = base.__mro__[1]
    wrapped = object.__new__(_distributed_class(base))
    wrapped.__dict__.update(optimizer.__dict__)
    wrapped._allreduce_op = op
    wrapped._allreduce_compression = compression
    return wrapped


def load_model(filepath, custom_optimizers=None, custom_objects=None, compression=Compression.none, op=Average):
    """A model saved by ``save_model``/``ModelCheckpoint``, its optimizer made a ``DistributedOptimizer``
    with its saved state (Horovod's ``hvd.load_model``, for resuming a distributed run).

    Args:
        filepath: the HDF5 file.
        custom_optimizers: optimizer classes of the user's, by name (added to ``custom_objects``).
        custom_objects: as for ``keras.models.load_model``.
        compression, op: as for ``DistributedOptimizer``.

    Returns:
        The compiled model.

    Raises:
        ValueError: ``init()`` has not been called, or the file holds no training configuration.
    """
    from symkeras.models import load_model as load

    collectives.comm()
    objects = dict(custom_objects or {})
    objects.update({cls.__name__: cls for cls in (custom_optimizers or [])})
    model = load(filepath, custom_objects=objects or None)
    if getattr(model, "optimizer", None) is None:
        raise ValueError(f"load_model: {filepath} holds no training configuration to resume from; load it with "
                         "keras.models.load_model and compile it with a DistributedOptimizer.")
    model._make_train_function()
    state = model.optimizer.get_weights()
    model.optimizer = DistributedOptimizer(model.optimizer, compression=compression, op=op)
    model.train_function = None
    model._make_train_function()  # (the update rule made again, on reduced gradients: new slots, set below)
    model.optimizer.set_weights(state)
    return model
