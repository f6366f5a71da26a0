"""Keras 2's HDF5 files: save_weights/load_weights and save_model/load_model in the legacy layout.

Layout (as tf-keras writes it): root attributes keras_version, backend,
model_config, training_config; ``model_weights/<layer>/<layer>/<weight>:0``
datasets with ``layer_names``/``weight_names`` attributes; optimizer state in
``optimizer_weights``.  Weights are matched by order (layers with weights,
then each layer's trainable weights before the others).  Readers accept
str, bytes and numpy byte strings everywhere (h5py 3 returns str).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings

import numpy as np

import symkeras.backend as K
from symkeras.saving.atomic import replacing

KERAS_VERSION = "2.2.4"  # the Keras API and file layout symkeras writes
BACKEND = "tensorflow"  # kernels are stored as TensorFlow's (correlation, channels_last)
HDF5_OBJECT_HEADER_LIMIT = 64512
#: configs up to this many bytes together are stored as fixed-length strings in the root's object header
FIXED_CONFIG_LIMIT = 48 * 1024


def _h5py():
    import h5py

    return h5py


def _text(value) -> str:
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf8")
    return str(value)


def save_attributes(group, name: str, values) -> None:
    """Store a list of byte strings, split into name0, name1, ... when it exceeds the HDF5 header limit."""
    bad = [v for v in values if len(v) > HDF5_OBJECT_HEADER_LIMIT]
    if bad:
        raise RuntimeError(f"The following attributes cannot be saved to HDF5 file because they are larger than "
                           f"{HDF5_OBJECT_HEADER_LIMIT} bytes: {bad[:3]}")
    data = np.asarray(values)
    chunks = 1
    parts = np.array_split(data, chunks)
    while any(part.nbytes > HDF5_OBJECT_HEADER_LIMIT for part in parts):
        chunks += 1
        parts = np.array_split(data, chunks)
    if chunks > 1:
        for i, part in enumerate(parts):
            group.attrs[f"{name}{i}"] = part
    else:
        group.attrs[name] = values


def _declared_bytes(shape, itemsize: int) -> int:
    return int(np.prod(shape, dtype=object)) * int(itemsize) if shape is not None else int(itemsize)


def _attr(group, name: str, default=None):
    """``group.attrs[name]`` (``default`` when absent), refusing one whose declared size exceeds the file's:
    damaged metadata can declare gigabytes, and HDF5 would try to read them."""
    attrs = group.attrs
    if name not in attrs:
        return default
    attribute = attrs.get_id(name)
    size = _declared_bytes(attribute.shape, attribute.dtype.itemsize)
    if size > group.file.id.get_filesize():
        raise ValueError(f"attribute {name!r} of group {group.name!r} declares {size:,} bytes, more than the "
                         f"file holds: the file is damaged.")
    return attrs[name]


def load_attributes(group, name: str) -> list[str]:
    """A list-of-strings attribute, whole or in chunks, as str."""
    if name in group.attrs:
        values = list(_attr(group, name))
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values.extend(_attr(group, f"{name}{i}"))
            i += 1
    return [_text(v) for v in values]


#: the attribute of a weights group holding the SHA-256 of its weights' bytes, in order (files symkeras
#: wrote): damaged metadata may point a dataset at other valid data, which its own checksum cannot catch
WEIGHTS_CHECKSUM = "symkeras_weights_sha256"


def _digest_update(digest, value: np.ndarray) -> None:
    value = np.ascontiguousarray(value)
    digest.update(f"{value.dtype.str}{value.shape}".encode())
    digest.update(memoryview(value).cast("B") if value.size else b"")


def save_weights_to_group(group, layers) -> None:
    save_attributes(group, "layer_names", [layer.name.encode("utf8") for layer in layers])
    group.attrs["backend"] = BACKEND.encode("utf8")
    group.attrs["keras_version"] = KERAS_VERSION.encode("utf8")
    digest = hashlib.sha256()
    for layer in layers:
        write_weights(group.create_group(layer.name), layer.weights, digest)
    group.attrs[WEIGHTS_CHECKSUM] = digest.hexdigest()


def write_weights(group, weights, digest=None) -> None:
    """One dataset per weight, at the weight's name (``layer/kernel:0`` makes a subgroup), and the
    ``weight_names`` attribute listing them in order; ``digest`` (a hashlib object) is fed their bytes,
    else the group gets its own checksum."""
    own = digest is None
    digest = hashlib.sha256() if own else digest
    save_attributes(group, "weight_names", [w.name.encode("utf8") for w in weights])
    for weight, value in zip(weights, K.batch_get_value(weights)):
        _digest_update(digest, value)
        # Fletcher-32 checksums (a standard HDF5 filter every reader has): damaged data fails to read
        # instead of loading as different weights
        dataset = group.create_dataset(weight.name, value.shape, dtype=value.dtype, fletcher32=bool(value.shape))
        if value.shape:
            dataset[:] = value
        else:
            dataset[()] = value
    if own:
        group.attrs[WEIGHTS_CHECKSUM] = digest.hexdigest()


def verify_weights(group, values: list[np.ndarray], source: str, what: str = "weights") -> None:
    """Raise ValueError when ``group`` carries a checksum that ``values`` (all of its weights, in the
    order written) do not match."""
    if WEIGHTS_CHECKSUM not in group.attrs:
        return  # written by Keras 2 or tf-keras
    digest = hashlib.sha256()
    for value in values:
        _digest_update(digest, value)
    if digest.hexdigest() != _text(_attr(group, WEIGHTS_CHECKSUM)):
        raise ValueError(f"{source}: the {what} do not match their checksum: the file is damaged.")


def _weighted_layers(layers):
    return [layer for layer in layers if layer.weights]


def _member(group, name: str, source: str, what: str):
    """``group[name]``, or a ValueError naming the file, the group and what is missing."""
    try:
        return group[name]
    except (KeyError, ValueError, OSError) as error:
        raise ValueError(f"{source}: {what} {name!r} is missing or unreadable in group {group.name!r} "
                         f"({error}).") from None


def _read(group, layer: str, name: str, source: str) -> np.ndarray:
    """The weight ``name`` of ``layer`` (a dataset of ``group``), or a ValueError naming both and the file."""
    try:
        dataset = group[name]
        if not isinstance(dataset, _h5py().Dataset):
            raise ValueError(f"it is a {type(dataset).__name__}, not a dataset")
        size = _declared_bytes(dataset.shape, dataset.dtype.itemsize)
        if size > group.file.id.get_filesize():
            raise ValueError(f"it declares {size:,} bytes, more than the file holds")
        return np.asarray(dataset)
    except (KeyError, OSError, TypeError, ValueError) as error:
        raise ValueError(f"{source}: weight {name!r} of layer {layer!r} is missing or unreadable in group "
                         f"{group.name!r} ({error}).") from None


def _layer_names(group, source: str) -> list[str]:
    names = load_attributes(group, "layer_names")
    seen = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{source}: the layer name {name!r} appears twice; layer names in a model file must "
                             f"be unique.")
        seen.add(name)
    return names


def load_weights_from_group(group, layers, by_name=False, skip_mismatch=False, source: str = "the file") -> None:
    """Assign the file's weights to ``layers`` (by order, or by layer name); nothing changes on an error.

    Raises:
        ValueError: naming ``source`` and the layer or weight, for a layer or weight the file lists but does
            not hold, duplicate layer names, or weights that do not fit the model.
    """
    names = _layer_names(group, source)
    saved = [(name, load_attributes(_member(group, name, source, "layer"), "weight_names")) for name in names]
    saved = [(name, weight_names) for name, weight_names in saved if weight_names]
    stored = {name: [_read(group[name], name, n, source) for n in weight_names] for name, weight_names in saved}
    verify_weights(group, [v for name, _ in saved for v in stored[name]], source)
    pairs = []
    if by_name:
        for layer in _weighted_layers(layers):
            if layer.name not in stored:
                continue
            pairs += _matched(layer, stored[layer.name], layer.name, skip_mismatch)
    else:
        targets = _weighted_layers(layers)
        if len(saved) != len(targets):
            raise ValueError(f"{source}: you are trying to load a weight file containing {len(saved)} layers into a "
                             f"model with {len(targets)} layers.")
        for layer, (name, _) in zip(targets, saved):
            pairs += _matched(layer, stored[name], name, skip_mismatch)
    K.batch_set_value(pairs)


def _matched(layer, values, saved_name, skip_mismatch) -> list:
    weights = layer.weights
    problem = None
    if len(values) != len(weights):
        problem = (f'Layer named "{layer.name}" in the current model was found to correspond to layer '
                   f'"{saved_name}" in the save file. However the new layer {layer.name} expects {len(weights)} '
                   f"weights, but the saved weights have {len(values)} elements.")
    else:
        for weight, value in zip(weights, values):
            if tuple(weight.shape) != value.shape:
                problem = (f'Layer "{layer.name}": weight {weight.name} has shape {tuple(weight.shape)}, but the '
                           f'saved weight of layer "{saved_name}" has shape {value.shape}.')
                break
    if problem is None:
        return list(zip(weights, values))
    if skip_mismatch:
        warnings.warn(f"Skipping loading of weights: {problem}", UserWarning, stacklevel=3)
        return []
    raise ValueError(problem)


def save_weights(model, filepath, overwrite=True) -> None:
    """Every layer's weights, written atomically (saving/atomic.py): the previous file survives a failure."""
    h5py = _h5py()
    with replacing(filepath, overwrite) as path, h5py.File(path, "w") as f:
        save_weights_to_group(f, model.layers)


def _source(filepath) -> str:
    return repr(os.fspath(filepath)) if isinstance(filepath, (str, os.PathLike)) else "the file"


def _open(filepath):
    """The HDF5 file for reading; FileNotFoundError, or a ValueError naming a file that is not HDF5."""
    h5py = _h5py()
    if isinstance(filepath, (str, os.PathLike)) and not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: {_source(filepath)}")
    try:
        return h5py.File(filepath, "r")
    except OSError as error:
        raise ValueError(f"{_source(filepath)} is not a readable HDF5 file (damaged, truncated or another "
                         f"format): {error}") from None


def _from_h5py(error: BaseException) -> bool:
    """Whether ``error`` was raised inside h5py (its innermost frame is h5py's)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and str(tb.tb_frame.f_globals.get("__name__", "")).startswith("h5py")


@contextlib.contextmanager
def _reading(source: str):
    """HDF5's own errors on a damaged file (RuntimeError, KeyError, OSError, ...) as a ValueError naming it."""
    try:
        yield
    except ValueError:
        raise
    except (RuntimeError, KeyError, OSError, TypeError, IndexError, UnicodeError, AttributeError) as error:
        if not _from_h5py(error):
            raise
        raise ValueError(f"{source} is damaged (HDF5: {type(error).__name__}: {error}).") from error


def load_weights(model, filepath, by_name=False, skip_mismatch=False) -> None:
    """Weights written by save_weights or save, by layer order or by layer name; nothing changes on an error."""
    with _open(filepath) as f, _reading(_source(filepath)):
        group = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
        load_weights_from_group(group, model.layers, by_name=by_name, skip_mismatch=skip_mismatch,
                                source=_source(filepath))


def _json_default(obj):
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if callable(obj) and hasattr(obj, "__name__"):
        return obj.__name__
    raise TypeError(f"Not JSON serializable: {obj!r}")


def save_model(model, filepath, overwrite=True, include_optimizer=True) -> None:
    """The whole model: its config, weights and (if compiled) its training config and optimizer state.

    Everything is serialized before a file is opened, and the file is written atomically
    (saving/atomic.py): an error or a kill during the save leaves the previous file as it was.

    Raises:
        TypeError: a config value that is not JSON-serializable (no file touched).
        FileExistsError: the file exists and ``overwrite`` is False.
    """
    h5py = _h5py()
    config = {"class_name": type(model).__name__, "config": model.get_config()}
    model_config = json.dumps(config, default=_json_default).encode("utf8")
    training_config, optimizer_weights = None, []
    if include_optimizer and getattr(model, "optimizer", None) is not None and model._compiled:
        training = {"optimizer_config": {"class_name": type(model.optimizer).__name__,
                                         "config": model.optimizer.get_config()},
                    "loss": model.loss, "metrics": model.metrics, "weighted_metrics": model.weighted_metrics,
                    "sample_weight_mode": model.sample_weight_mode, "loss_weights": model.loss_weights}
        training_config = json.dumps(training, default=_json_default).encode("utf8")
        optimizer_weights = model.optimizer.weights
    with replacing(filepath, overwrite) as path, h5py.File(path, "w") as f:
        f.attrs["keras_version"] = KERAS_VERSION
        f.attrs["backend"] = BACKEND
        # fixed-length byte strings where they fit the object header: their size is in the attribute's
        # header, so a reader can check it before reading (a damaged variable-length string sent HDF5
        # reading for minutes); larger configs go to the heap as variable-length strings
        fixed = len(model_config) + len(training_config or b"") <= FIXED_CONFIG_LIMIT
        store = np.bytes_ if fixed else bytes
        f.attrs["model_config"] = store(model_config)
        f.attrs[CHECKSUM] = _checksum(model_config, training_config)
        save_weights_to_group(f.create_group("model_weights"), model.layers)
        if training_config is not None:
            f.attrs["training_config"] = store(training_config)
            if optimizer_weights:
                write_weights(f.create_group("optimizer_weights"), optimizer_weights)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):  # noqa: A002  (Keras's name)
    """A model saved by ``save_model`` (or by Keras 2 / tf-keras in the HDF5 format), compiled if it was.

    Args:
        filepath: the HDF5 file.
        custom_objects: names of custom layers, losses, metrics and functions the file refers to.
        compile: compile the model with the stored training configuration (if any).
        safe_mode: refuse to deserialize code stored in the file (Lambda layers' bytecode).  Pass False
            only for files you trust (or call ``symkeras.config.enable_unsafe_deserialization()``).

    Raises:
        ValueError: the file holds no model, or (safe mode) stored code, naming the layer.
    """
    from symkeras import optimizers
    from symkeras.layers import deserialize

    source = _source(filepath)
    with _open(filepath) as f, _reading(source):
        if "model_config" not in f.attrs:
            raise ValueError(f"No model found in config file {source}.")
        _verify_checksum(f, source)
        config = _json_attribute(f, "model_config", source)
        model = deserialize(config, custom_objects=custom_objects, safe_mode=safe_mode)
        load_weights_from_group(_member(f, "model_weights", source, "group"), model.layers, source=source)
        training = _attr(f, "training_config")
        if not compile:
            return model
        if training is None:
            warnings.warn("No training configuration found in save file: the model was *not* compiled. "
                          "Compile it manually.", UserWarning, stacklevel=2)
            return model
        training = _json_attribute(f, "training_config", source)
        if not isinstance(training, dict) or "optimizer_config" not in training:
            raise ValueError(f"{source}: the training configuration has no optimizer_config; load the model with "
                             f"compile=False and compile it yourself.")
        optimizer = optimizers.deserialize(training["optimizer_config"], custom_objects=custom_objects)
        model.compile(optimizer=optimizer, loss=_custom(training["loss"], custom_objects),
                      metrics=_custom(training.get("metrics"), custom_objects),
                      weighted_metrics=_custom(training.get("weighted_metrics"), custom_objects),
                      loss_weights=training.get("loss_weights"),
                      sample_weight_mode=training.get("sample_weight_mode"))
        if "optimizer_weights" in f:
            group = f["optimizer_weights"]
            model._make_train_function()
            try:  # a slot missing or of the wrong shape: Keras 2 starts the optimizer afresh, with a warning
                values = [_read(group, "optimizer", name, source) for name in load_attributes(group, "weight_names")]
                verify_weights(group, values, source, "optimizer's weights")
                model.optimizer.set_weights(values)
            except ValueError as error:
                warnings.warn(f"Error in loading the saved optimizer state of {source}. As a result, your model is "
                              f"starting with a freshly initialized optimizer. ({error})", UserWarning, stacklevel=2)
    return model


#: the root attribute holding the SHA-256 of model_config and training_config (files symkeras wrote)
CHECKSUM = "symkeras_config_sha256"


def _checksum(model_config: bytes, training_config: bytes | None) -> str:
    return hashlib.sha256(model_config + b"\0" + (training_config or b"")).hexdigest()


def _verify_checksum(f, source: str) -> None:
    """A file symkeras wrote must hold the configs it wrote: a damaged one could still parse and build a
    different model (one flipped bit turns "relu" into "selu")."""
    if CHECKSUM not in f.attrs:
        return  # written by Keras 2 or tf-keras
    try:
        model_config = _attr(f, "model_config")
        model_config = model_config.encode("utf8") if isinstance(model_config, str) else bytes(model_config)
        training = _attr(f, "training_config")
        if isinstance(training, str):
            training = training.encode("utf8")
        stored = _text(_attr(f, CHECKSUM))
    except (KeyError, TypeError, ValueError, OSError) as error:
        raise ValueError(f"{source}: the model's configuration cannot be read ({error}).") from None
    if _checksum(model_config, bytes(training) if training is not None else None) != stored:
        raise ValueError(f"{source}: the model's configuration does not match its checksum: the file is "
                         f"damaged.")


def _json_attribute(f, name: str, source: str):
    try:
        return json.loads(_text(_attr(f, name)))
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise ValueError(f"{source}: the {name} attribute is not valid JSON ({error}).") from None


def _custom(value, custom_objects):
    """Loss/metric names in a training config, swapped for custom objects where given (tf-keras writes
    metrics as {"class_name": "MeanMetricWrapper", "config": {"name": ...}} objects: their names are used)."""
    custom_objects = custom_objects or {}
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        value = value["config"].get("name") or value["config"].get("fn")
    if isinstance(value, str):
        return custom_objects.get(value, value)
    if isinstance(value, list):
        return [_custom(v, custom_objects) for v in value]
    if isinstance(value, dict):
        return {k: _custom(v, custom_objects) for k, v in value.items()}
    return value
