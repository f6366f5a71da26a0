"""Checking and slicing the arrays users pass to fit/evaluate/predict, with Keras 2's error messages."""

from __future__ import annotations

import numpy as np

from symkeras import losses as losses_module
from symkeras.engine.base_layer import fmt_shape


def standardize_input_data(data, names, shapes=None, check_batch_axis=True, exception_prefix="") -> list:
    """``data`` (an array, a list, or a dict keyed by layer name) as a list of arrays, one per name, checked."""
    if not names:
        if data is not None and hasattr(data, "__len__") and len(data):
            raise ValueError(f"Error when checking model {exception_prefix}: expected no data, but got: {data}")
        return []
    if data is None:
        return [None] * len(names)
    if isinstance(data, dict):
        missing = [n for n in names if n not in data]
        if missing:
            raise ValueError(f'No data provided for "{missing[0]}". Need data for each key in: {names}')
        arrays = [data[n] for n in names]
    elif isinstance(data, (list, tuple)):
        if len(names) == 1 and not all(hasattr(a, "shape") for a in data):
            arrays = [np.asarray(data)]
        else:
            arrays = list(data)
    else:
        arrays = [data]
    arrays = [np.asarray(a) for a in arrays]
    if len(arrays) != len(names):
        if arrays and hasattr(arrays[0], "shape"):
            raise ValueError(f"Error when checking model {exception_prefix}: the list of Numpy arrays that you are "
                             f"passing to your model is not the size the model expected. Expected to see "
                             f"{len(names)} array(s), but instead got {len(arrays)} array(s).")
        raise ValueError(f"Error when checking model {exception_prefix}: expected {len(names)} arrays.")
    if shapes is not None:
        arrays = [a.reshape(-1, 1) if a.ndim == 1 and s is not None and len(s) == 2 else a
                  for a, s in zip(arrays, shapes)]
        for name, array, shape in zip(names, arrays, shapes):
            if shape is None:
                continue
            if array.ndim != len(shape):
                raise ValueError(f"Error when checking {exception_prefix}: expected {name} to have {len(shape)} "
                                 f"dimensions, but got array with shape {fmt_shape(array.shape)}")
            expected = shape if check_batch_axis else shape[1:]
            given = array.shape if check_batch_axis else array.shape[1:]
            for want, got in zip(expected, given):
                if want is not None and want != got:
                    raise ValueError(f"Error when checking {exception_prefix}: expected {name} to have shape "
                                     f"{fmt_shape(shape[1:] if not check_batch_axis else shape)} but got array "
                                     f"with shape {fmt_shape(given)}")
    return arrays


def check_array_lengths(inputs, targets, weights=None) -> None:
    def lengths(arrays):
        return {len(a) for a in arrays or () if a is not None}

    x_lengths, y_lengths, w_lengths = lengths(inputs), lengths(targets), lengths(weights)
    if len(x_lengths) > 1:
        raise ValueError(f"All input arrays (x) should have the same number of samples. Got array shapes: "
                         f"{[a.shape for a in inputs]}")
    if len(y_lengths) > 1:
        raise ValueError(f"All target arrays (y) should have the same number of samples. Got array shapes: "
                         f"{[a.shape for a in targets]}")
    if x_lengths and y_lengths and x_lengths != y_lengths:
        raise ValueError(f"Input arrays should have the same number of samples as target arrays. Found "
                         f"{next(iter(x_lengths))} input samples and {next(iter(y_lengths))} target samples.")
    if len(w_lengths) > 1 or (w_lengths and y_lengths and w_lengths != y_lengths):
        raise ValueError(f"Sample_weight arrays should have the same number of samples as target arrays. Got "
                         f"{sorted(w_lengths)} sample weights and {sorted(y_lengths)} targets.")


def check_loss_and_target_compatibility(targets, loss_fns, output_shapes) -> None:
    """Targets of the wrong width for the loss (class indices given to categorical_crossentropy, ...)."""
    key_losses = {losses_module.mean_squared_error, losses_module.binary_crossentropy,
                  losses_module.categorical_crossentropy}
    for y, loss, shape in zip(targets, loss_fns, output_shapes):
        if y is None or loss is None:
            continue
        if loss is losses_module.categorical_crossentropy and y.shape[-1] == 1 and shape[-1] != 1:
            raise ValueError(f"You are passing a target array of shape {fmt_shape(y.shape)} while using as loss "
                             "`categorical_crossentropy`. `categorical_crossentropy` expects targets to be binary "
                             "matrices (1s and 0s) of shape (samples, classes). If your targets are integer "
                             "classes, you can convert them to the expected format via:\n```\nfrom "
                             "symkeras.utils import to_categorical\ny_binary = to_categorical(y_int)\n```\n\n"
                             "Alternatively, you can use the loss function `sparse_categorical_crossentropy` "
                             "instead, which does expect integer targets.")
        if loss in key_losses:
            for target_dim, out_dim in zip(y.shape[1:], shape[1:]):
                if out_dim is not None and target_dim != out_dim:
                    raise ValueError(f"A target array with shape {fmt_shape(y.shape)} was passed for an output of "
                                     f"shape {fmt_shape(shape)} while using as loss `{loss.__name__}`. This loss "
                                     "expects targets to have the same shape as the output.")


def standardize_class_weights(class_weight, y) -> np.ndarray | None:
    """Per-sample weights from a {class: weight} dict and the targets (one-hot or class indices)."""
    if class_weight is None:
        return None
    if y.ndim > 2:
        raise ValueError("`class_weight` not supported for 3+ dimensional targets.")
    classes = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(y.shape[0]).astype(int)
    missing = set(np.unique(classes)) - set(class_weight)
    if missing:
        raise ValueError(f"`class_weight` must contain all classes in the data. The classes {sorted(missing)} "
                         "exist in the data but not in `class_weight`.")
    return np.asarray([class_weight[c] for c in classes], dtype="float32")


def standardize_sample_weights(sample_weight, y, mode) -> np.ndarray:
    """Sample weights of shape (samples,) or, in 'temporal' mode, (samples, timesteps); ones by default."""
    if sample_weight is None:
        shape = (y.shape[0],) if mode is None else y.shape[:2]
        return np.ones(shape, dtype="float32")
    sample_weight = np.asarray(sample_weight, dtype="float32")
    if mode is None and sample_weight.ndim != 1:
        raise ValueError(f"Found a sample_weight array with shape {sample_weight.shape}. In order to use "
                         "timestep-wise sample weighting, you should pass a 2D sample_weight array and specify "
                         'sample_weight_mode="temporal" in compile().')
    if mode == "temporal" and sample_weight.ndim != 2:
        raise ValueError(f"Found a sample_weight array with shape {sample_weight.shape}. In order to use "
                         'sample_weight_mode="temporal", sample weights should be 2D (samples, timesteps).')
    if sample_weight.shape[: sample_weight.ndim] != y.shape[: sample_weight.ndim]:
        raise ValueError(f"Found a sample_weight array with shape {sample_weight.shape} for an input with shape "
                         f"{y.shape}. sample_weight cannot be broadcast.")
    return sample_weight


def make_batches(size: int, batch_size: int) -> list[tuple[int, int]]:
    count = int(np.ceil(size / float(batch_size)))
    return [(i * batch_size, min(size, (i + 1) * batch_size)) for i in range(count)]


def batch_shuffle(index_array: np.ndarray, batch_size: int) -> np.ndarray:
    """Shuffles whole batches (for data read in order, such as HDF5 datasets); the tail batch stays last."""
    batch_count = len(index_array) // batch_size
    last = index_array[batch_count * batch_size:]
    head = index_array[:batch_count * batch_size].reshape((batch_count, batch_size))
    np.random.shuffle(head)
    return np.append(head.flatten(), last)


def slice_arrays(arrays, indices) -> list:
    return [None if a is None else a[indices] for a in arrays]
