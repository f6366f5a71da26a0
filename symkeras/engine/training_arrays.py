"""The loops over NumPy arrays behind fit, evaluate and predict (Keras 2's training_arrays)."""

from __future__ import annotations

import numpy as np

from symkeras import callbacks as cbks
from symkeras.engine.training_utils import batch_shuffle, make_batches, slice_arrays
from symkeras.utils.progbar import Progbar


def _samples(inputs) -> int:
    return len(inputs[0]) if inputs else 0


def fit_loop(model, function, inputs, out_labels, batch_size=32, epochs=100, verbose=1, callbacks=None,
             val_function=None, val_inputs=None, shuffle=True, initial_epoch=0, steps_per_epoch=None,
             validation_steps=None):
    """Train ``function`` over the arrays for ``epochs`` epochs; returns the model's History."""
    do_validation = val_function is not None and val_inputs is not None and _samples(val_inputs) > 0
    num_train = _samples(inputs)
    if verbose and steps_per_epoch is None and do_validation:
        print(f"Train on {num_train} samples, validate on {_samples(val_inputs)} samples")
    callback_metrics = list(out_labels) + (["val_" + n for n in out_labels] if do_validation else [])
    model.history = cbks.History()
    all_callbacks = [cbks.BaseLogger()]
    if verbose:
        all_callbacks.append(cbks.ProgbarLogger(count_mode="steps" if steps_per_epoch else "samples"))
    all_callbacks += list(callbacks or []) + [model.history]
    callback_list = cbks.CallbackList(all_callbacks)
    callback_model = getattr(model, "callback_model", None) or model
    callback_list.set_model(callback_model)
    callback_list.set_params({"batch_size": batch_size, "epochs": epochs, "steps": steps_per_epoch,
                              "samples": num_train, "verbose": verbose, "do_validation": do_validation,
                              "metrics": callback_metrics})
    callback_model.stop_training = False
    for callback in callback_list:
        callback.validation_data = val_inputs
    callback_list.on_train_begin()
    index_array = np.arange(num_train)
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        epoch_logs = {}
        if steps_per_epoch is not None:
            for step in range(steps_per_epoch):
                batch_logs = {"batch": step, "size": 1}
                callback_list.on_batch_begin(step, batch_logs)
                outs = function(inputs)
                batch_logs.update(zip(out_labels, (float(o) for o in outs)))
                callback_list.on_batch_end(step, batch_logs)
                if callback_model.stop_training:
                    break
            if do_validation:
                val_outs = test_loop(model, val_function, val_inputs, steps=validation_steps,
                                     batch_size=batch_size, verbose=0)
                epoch_logs.update(("val_" + n, float(o)) for n, o in zip(out_labels, np.atleast_1d(val_outs)))
        else:
            if shuffle == "batch":
                index_array = batch_shuffle(index_array, batch_size)
            elif shuffle:
                np.random.shuffle(index_array)
            batches = make_batches(num_train, batch_size)
            for batch_index, (start, end) in enumerate(batches):
                batch_ids = index_array[start:end]
                batch = slice_arrays(inputs, batch_ids)
                batch_logs = {"batch": batch_index, "size": len(batch_ids)}
                callback_list.on_batch_begin(batch_index, batch_logs)
                outs = function(batch)
                batch_logs.update(zip(out_labels, (float(o) for o in outs)))
                callback_list.on_batch_end(batch_index, batch_logs)
                if callback_model.stop_training:
                    break
                if batch_index == len(batches) - 1 and do_validation:
                    val_outs = test_loop(model, val_function, val_inputs, batch_size=batch_size, verbose=0)
                    epoch_logs.update(("val_" + n, float(o)) for n, o in zip(out_labels, np.atleast_1d(val_outs)))
        callback_list.on_epoch_end(epoch, epoch_logs)
        if callback_model.stop_training:
            break
    callback_list.on_train_end()
    return model.history


def _batches(inputs, batch_size, steps):
    """(target, iterator of (index, arrays, size, progress)): ``steps`` calls on the whole arrays (each counted
    as one), or the arrays in batches of ``batch_size`` (counted in samples)."""
    if steps is not None:
        return steps, ((step, inputs, 1, step + 1) for step in range(steps))
    batches = make_batches(_samples(inputs), batch_size)
    return _samples(inputs), ((i, [a[start:end] for a in inputs], end - start, end)
                              for i, (start, end) in enumerate(batches))


def test_loop(model, function, inputs, batch_size=32, verbose=0, steps=None, callbacks=None):
    """Loss and metrics averaged over the samples (weighted by batch size): a float or a list."""
    callback_list = cbks.CallbackList(callbacks)
    callback_list.set_model(model)
    callback_list.on_test_begin({})
    target, batches = _batches(inputs, batch_size, steps)
    progbar = Progbar(target=target) if verbose == 1 else None
    totals = None
    for index, arrays, size, progress in batches:
        batch_logs = {"batch": index, "size": size}
        callback_list.on_test_batch_begin(index, batch_logs)
        weighted = [float(o) * size for o in function(arrays)]
        totals = weighted if totals is None else [t + w for t, w in zip(totals, weighted)]
        callback_list.on_test_batch_end(index, batch_logs)
        if progbar is not None:
            progbar.update(progress)
    results = [t / target for t in totals] if totals else []
    callback_list.on_test_end({})
    return results[0] if len(results) == 1 else results


def predict_loop(model, function, inputs, batch_size=32, verbose=0, steps=None, callbacks=None):
    """The outputs for every sample, concatenated over batches (an array or a list of arrays)."""
    callback_list = cbks.CallbackList(callbacks)
    callback_list.set_model(model)
    callback_list.on_predict_begin({})
    target, batches = _batches(inputs, batch_size, steps)
    progbar = Progbar(target=target) if verbose == 1 else None
    chunks = None
    for index, arrays, size, progress in batches:
        callback_list.on_predict_batch_begin(index, {"batch": index, "size": size})
        outs = function(arrays)
        if chunks is None:
            chunks = [[] for _ in outs]
        for chunk, out in zip(chunks, outs):
            chunk.append(out)
        callback_list.on_predict_batch_end(index, {"batch": index, "size": size, "outputs": outs})
        if progbar is not None:
            progbar.update(progress)
    callback_list.on_predict_end({})
    if chunks is None:  # no samples: arrays of 0 rows, shaped and typed as the outputs
        chunks = [[out] for out in _empty_outputs(model, function, inputs)]
    results = [np.concatenate(c) for c in chunks]
    return results[0] if len(results) == 1 else results


def _empty_outputs(model, function, inputs) -> list[np.ndarray]:
    """The outputs for 0 samples: from the outputs' static shapes, or by running ``function`` on the empty
    inputs where a size besides the batch is known only at run time."""
    from symkeras import backend as K

    shapes = [K.int_shape(out) for out in model.outputs]
    if all(None not in shape[1:] for shape in shapes):
        return [np.empty((0, *shape[1:]), dtype=out.dtype) for shape, out in zip(shapes, model.outputs)]
    return list(function(inputs))

