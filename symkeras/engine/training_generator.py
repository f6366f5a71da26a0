"""fit_generator, evaluate_generator and predict_generator: the loops over batches from generators or Sequences."""

from __future__ import annotations

import warnings

import numpy as np

from symkeras import callbacks as cbks
from symkeras.utils.data_utils import Sequence, iterate_batches
from symkeras.utils.progbar import Progbar


def _steps(data, steps, what):
    if steps is not None:
        return steps
    if isinstance(data, Sequence):
        return len(data)
    raise ValueError(f"`{what}=None` is only valid for a generator based on the `symkeras.utils.Sequence` class. "
                     f"Please specify `{what}` or use the `symkeras.utils.Sequence` class.")


def _unpack(output, need_targets=True):
    """(x, y, sample_weight) of a generator's item, with a clear error for anything else."""
    if not isinstance(output, tuple) or len(output) not in (2, 3):
        if not need_targets:
            return output, None, None
        raise ValueError("Output of generator should be a tuple `(x, y, sample_weight)` or `(x, y)`. Found: "
                         f"{str(output)[:200]}")
    if len(output) == 2:
        return output[0], output[1], None
    return output


def _batch_size(x) -> int:
    if isinstance(x, dict):
        x = next(iter(x.values()))
    if isinstance(x, (list, tuple)):
        x = x[0]
    return len(x)


def fit_generator(model, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None, validation_data=None,
                  validation_steps=None, class_weight=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                  shuffle=True, initial_epoch=0):
    """Train on batches from ``generator``; returns the model's History."""
    steps_per_epoch = _steps(generator, steps_per_epoch, "steps_per_epoch")
    validating = validation_data is not None
    val_is_generator = validating and (isinstance(validation_data, Sequence) or hasattr(validation_data, "__next__"))
    if val_is_generator:
        validation_steps = _steps(validation_data, validation_steps, "validation_steps")
    elif validating:
        if len(validation_data) not in (2, 3):
            raise ValueError("`validation_data` should be a tuple `(val_x, val_y, val_sample_weight)` or "
                             f"`(val_x, val_y)`. Found: {str(validation_data)[:200]}")
        val_x, val_y = validation_data[:2]
        val_weight = validation_data[2] if len(validation_data) == 3 else None
        model._standardize_user_data(val_x, val_y, val_weight)  # checked before training starts
    model._make_train_function()
    if validating:
        model._make_test_function()
    out_labels = list(model.metrics_names)
    callback_metrics = out_labels + (["val_" + n for n in out_labels] if validating else [])
    model.history = cbks.History()
    all_callbacks = [cbks.BaseLogger()]
    if verbose:
        all_callbacks.append(cbks.ProgbarLogger(count_mode="steps"))
    callback_list = cbks.CallbackList(all_callbacks + list(callbacks or []) + [model.history])
    callback_list.set_model(model)
    callback_list.set_params({"epochs": epochs, "steps": steps_per_epoch, "verbose": verbose,
                              "do_validation": validating, "metrics": callback_metrics})
    model.stop_training = False
    enqueuer, batches = iterate_batches(generator, workers, use_multiprocessing, max_queue_size,
                                        shuffle=shuffle and isinstance(generator, Sequence))
    try:
        callback_list.on_train_begin()
        for epoch in range(initial_epoch, epochs):
            callback_list.on_epoch_begin(epoch)
            epoch_logs = {}
            batch_size = None
            for step in range(steps_per_epoch):
                try:
                    output = next(batches)
                except StopIteration:
                    warnings.warn(f"The generator ran out of data after {step} steps of epoch {epoch + 1}; expected "
                                  f"{steps_per_epoch} steps per epoch.", UserWarning, stacklevel=2)
                    model.stop_training = True
                    break
                x, y, sample_weight = _unpack(output)
                batch_size = _batch_size(x)
                batch_logs = {"batch": step, "size": batch_size}
                callback_list.on_batch_begin(step, batch_logs)
                outs = np.atleast_1d(model.train_on_batch(x, y, sample_weight=sample_weight,
                                                          class_weight=class_weight))
                batch_logs.update(zip(out_labels, (float(o) for o in outs)))
                callback_list.on_batch_end(step, batch_logs)
                if model.stop_training:
                    break
            if validating and not model.stop_training:
                if val_is_generator:
                    val_outs = evaluate_generator(model, validation_data, validation_steps, max_queue_size,
                                                  workers, use_multiprocessing)
                else:
                    val_outs = model.evaluate(val_x, val_y, batch_size=batch_size, sample_weight=val_weight,
                                              verbose=0)
                epoch_logs.update(("val_" + n, float(o)) for n, o in zip(out_labels, np.atleast_1d(val_outs)))
            callback_list.on_epoch_end(epoch, epoch_logs)
            if model.stop_training:
                break
    finally:
        if enqueuer is not None:
            enqueuer.stop()
    callback_list.on_train_end()
    return model.history


def evaluate_generator(model, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                       verbose=0):
    """Loss and metrics averaged over the batches, weighted by batch size."""
    steps = _steps(generator, steps, "steps")
    model._make_test_function()
    enqueuer, batches = iterate_batches(generator, workers, use_multiprocessing, max_queue_size)
    totals, sizes = None, []
    progbar = Progbar(target=steps) if verbose == 1 else None
    try:
        for step in range(steps):
            x, y, sample_weight = _unpack(next(batches))
            outs = [float(o) for o in np.atleast_1d(model.test_on_batch(x, y, sample_weight=sample_weight))]
            size = _batch_size(x)
            if size == 0:
                raise ValueError("Received an empty batch. Batches should contain at least one item.")
            sizes.append(size)
            weighted = [o * size for o in outs]
            totals = weighted if totals is None else [t + w for t, w in zip(totals, weighted)]
            if progbar is not None:
                progbar.update(step + 1)
    finally:
        if enqueuer is not None:
            enqueuer.stop()
    results = [t / sum(sizes) for t in totals]
    return results[0] if len(results) == 1 else results


def predict_generator(model, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                      verbose=0):
    """The model's outputs for every batch of ``generator`` (x alone, or (x, y[, w]) whose x is used)."""
    steps = _steps(generator, steps, "steps")
    model._make_predict_function()
    enqueuer, batches = iterate_batches(generator, workers, use_multiprocessing, max_queue_size)
    chunks = None
    progbar = Progbar(target=steps) if verbose == 1 else None
    try:
        for step in range(steps):
            x, _, _ = _unpack(next(batches), need_targets=False)
            outs = model.predict_on_batch(x)
            outs = outs if isinstance(outs, list) else [outs]
            if chunks is None:
                chunks = [[] for _ in outs]
            for chunk, out in zip(chunks, outs):
                chunk.append(out)
            if progbar is not None:
                progbar.update(step + 1)
    finally:
        if enqueuer is not None:
            enqueuer.stop()
    results = [np.concatenate(c) for c in chunks]
    return results[0] if len(results) == 1 else results
