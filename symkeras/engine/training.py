"""Model: a Network that compiles to training, test and prediction functions and runs the Keras 2 loops.

compile() builds the symbolic loss (per-output losses, sample weights, loss
weights, regularization), the metrics and the optimizer's updates; the
functions themselves are compiled lazily, on first use.  The training graph
and the inference graphs are separate: the learning phase is a constant in
each (1 while training, 0 otherwise), so dropout and batch normalization
cost nothing at inference.
"""

from __future__ import annotations

import numbers

import numpy as np

import symkeras.backend as K
from symkeras import losses as losses_module
from symkeras import metrics as metrics_module
from symkeras import optimizers
from symkeras.engine import training_arrays, training_generator
from symkeras.engine.base_layer import Layer
from symkeras.engine.network import Network
from symkeras.engine.training_utils import (
    check_array_lengths,
    check_loss_and_target_compatibility,
    standardize_class_weights,
    standardize_input_data,
    standardize_sample_weights,
)
from symkeras.graph.fgraph import clone_tensors, topological_tensors
from symkeras.utils.generic_utils import renamed_argument, to_list


def _per_output(value, output_names, what, default=None):
    """A compile() argument given once, as a list, or as a dict keyed by output name -> one per output."""
    if isinstance(value, dict):
        unknown = [k for k in value if k not in output_names]
        if unknown:
            raise ValueError(f'Unknown entry in {what} dictionary: "{unknown[0]}". Only expected the following '
                             f"keys: {output_names}")
        return [value.get(name, default) for name in output_names]
    if isinstance(value, (list, tuple)) and what != "metrics":
        if len(value) != len(output_names):
            raise ValueError(f"When passing a list as {what}, it should have one entry per model output. The "
                             f"model has {len(output_names)} outputs, but you passed {what}={value}")
        return list(value)
    return [value for _ in output_names]


def _weighted_objective(fn):
    """fn(y_true, y_pred) -> a scalar: per-sample scores times the sample weights, averaged as Keras does."""

    def weighted(y_true, y_pred, weights):
        scores = fn(y_true, y_pred)
        ndim = K.ndim(scores)
        weight_ndim = K.ndim(weights)
        if ndim > weight_ndim:
            scores = K.mean(scores, axis=list(range(weight_ndim, ndim)))
        scores = scores * weights
        scores = scores / K.mean(K.cast(K.not_equal(weights, 0.0), K.floatx()))
        return K.mean(scores)

    return weighted


def _with_phase(tensors, phase: int):
    """``tensors`` with every learning-phase placeholder they use replaced by the constant ``phase``."""
    tensors = list(tensors)
    phases = [t for t in topological_tensors(tensors) if t.owner is None and t.tag.get("learning_phase")]
    if not phases:
        return tensors
    constant = K.constant(phase, dtype="uint8")
    mapping = clone_tensors(tensors, {placeholder: constant for placeholder in phases})
    return [mapping[t] for t in tensors]


class Model(Network):
    """Model(inputs, outputs): a functional model that can be compiled, trained and used to predict."""

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        if "input" in kwargs:  # Keras 1: Model(input=..., output=...)
            renamed_argument(kwargs, "input", "inputs", "Model")
            inputs = kwargs.pop("inputs")
        if "output" in kwargs:
            renamed_argument(kwargs, "output", "outputs", "Model")
            outputs = kwargs.pop("outputs")
        if inputs is None or outputs is None:
            if inputs is not None or outputs is not None:
                raise ValueError("Model needs both `inputs` and `outputs`.")
            Layer.__init__(self, name=name, **kwargs)  # a Sequential model adds its graph later
        else:
            super().__init__(inputs, outputs, name=name, **kwargs)
        self.optimizer = None
        self.stop_training = False
        self._compiled = False
        self.history = None

    # --- compile --------------------------------------------------------------------
    def compile(self, optimizer, loss=None, metrics=None, loss_weights=None, sample_weight_mode=None,
                weighted_metrics=None, target_tensors=None, device=None, **kwargs):
        """Configure training: the symbolic loss, metrics and optimizer updates (compiled on first use).

        symkeras adds ``device`` ('cpu' or 'cuda'): where this model's training, evaluation and
        prediction run (default: ``K.get_device()`` when each is first compiled).
        """
        if kwargs:
            raise TypeError(f"Invalid keyword argument(s) in `compile`: {sorted(kwargs)}")
        if device is not None:
            from symkeras import config

            config.check_device(device)
        self._device = device
        optimizer = optimizers.get(optimizer)
        if loss is None:
            raise ValueError("compile() needs a loss (a name such as 'mse', or a function).")
        names = self.output_names
        loss_fns = [losses_module.get(item) if item is not None else None
                    for item in _per_output(loss, names, "loss")]
        if all(fn is None for fn in loss_fns):
            raise ValueError("compile() needs a loss for at least one output.")
        weights = [1.0 if w is None else float(w) for w in _per_output(loss_weights, names, "loss_weights", 1.0)]
        modes = _per_output(sample_weight_mode, names, "sample_weight_mode")
        for mode in modes:
            if mode not in (None, "temporal"):
                raise ValueError(f'Unknown sample_weight_mode {mode!r}: use None or "temporal".')
        metric_lists = self._metric_lists(metrics, names)
        weighted_lists = self._metric_lists(weighted_metrics, names)

        targets, sample_weights, output_losses, total = [], [], [], None
        for i, (output, name, fn) in enumerate(zip(self.outputs, names, loss_fns)):
            shape = tuple(getattr(output, "_keras_shape", K.int_shape(output)))
            if fn is losses_module.sparse_categorical_crossentropy:
                target_shape = (None,) * (len(shape) - 1) + (1,)
            else:
                target_shape = (None,) + tuple(shape[1:])
            target = K.placeholder(shape=target_shape, dtype=K.dtype(output), name=f"{name}_target")
            weight = K.placeholder(shape=(None,) if modes[i] is None else (None, None), name=f"{name}_sample_weights")
            targets.append(target)
            sample_weights.append(weight)
            if fn is None:
                output_losses.append(None)
                continue
            output_loss = _weighted_objective(fn)(target, output, weight)
            output_losses.append(output_loss)
            total = weights[i] * output_loss if total is None else total + weights[i] * output_loss
        for penalty in self.losses:
            total = total + penalty

        metric_names, metric_tensors = ["loss"], [total]
        if len(self.outputs) > 1:
            for name, output_loss in zip(names, output_losses):
                if output_loss is not None:
                    metric_names.append(f"{name}_loss")
                    metric_tensors.append(output_loss)
        for i, (output, name, fn) in enumerate(zip(self.outputs, names, loss_fns)):
            for weighted, metric_list in ((False, metric_lists[i]), (True, weighted_lists[i])):
                for metric in metric_list:
                    metric_fn, label = self._resolve_metric(metric, output, fn)
                    if weighted:
                        label = "weighted_" + label
                    if len(self.outputs) > 1:
                        label = f"{name}_{label}"
                    values = metric_fn(targets[i], output)
                    if weighted:
                        value = _weighted_objective(metric_fn)(targets[i], output, sample_weights[i])
                    else:
                        value = K.mean(values)
                    metric_names.append(label)
                    metric_tensors.append(value)

        self.optimizer = optimizer
        self.loss = loss
        self.loss_functions = loss_fns
        self.loss_weights = loss_weights
        self.sample_weight_mode = sample_weight_mode
        self.sample_weight_modes = modes
        self.metrics = metrics
        self.weighted_metrics = weighted_metrics
        self.targets = targets
        self.sample_weights = sample_weights
        self.total_loss = total
        self.metrics_names = metric_names
        self.metrics_tensors = metric_tensors[1:]
        self._feed_targets = targets
        self._feed_output_names = list(names)
        self._feed_output_shapes = [tuple(getattr(o, "_keras_shape", K.int_shape(o))) for o in self.outputs]
        self._feed_loss_fns = loss_fns
        self._metric_tensors = metric_tensors
        self.train_function = None
        self.test_function = None
        self.predict_function = None
        self._compiled = True

    @staticmethod
    def _metric_lists(metrics, names) -> list[list]:
        if metrics is None:
            return [[] for _ in names]
        if isinstance(metrics, dict):
            return [to_list(item) if item is not None else [] for item in _per_output(metrics, names, "metrics")]
        if isinstance(metrics, (list, tuple)):
            if metrics and all(isinstance(m, (list, tuple)) for m in metrics):
                if len(metrics) != len(names):
                    raise ValueError(f"When passing a list of lists as `metrics`, it should have one entry per "
                                     f"model output. The model has {len(names)} outputs, but you passed "
                                     f"{len(metrics)} lists.")
                return [list(m) for m in metrics]
            return [list(metrics) for _ in names]
        return [[metrics] for _ in names]

    @staticmethod
    def _resolve_metric(metric, output, loss_fn):
        """(function, name) of a metric; 'accuracy'/'acc' picks the kind of accuracy as Keras 2 does."""
        if metric in ("accuracy", "acc"):
            shape = K.int_shape(output)
            if shape[-1] == 1 or loss_fn is losses_module.binary_crossentropy:
                fn = metrics_module.binary_accuracy
            elif loss_fn is losses_module.sparse_categorical_crossentropy:
                fn = metrics_module.sparse_categorical_accuracy
            else:
                fn = metrics_module.categorical_accuracy
            return fn, metric
        if metric in ("crossentropy", "ce"):
            shape = K.int_shape(output)
            if shape[-1] == 1 or loss_fn is losses_module.binary_crossentropy:
                return metrics_module.binary_crossentropy, metric
            if loss_fn is losses_module.sparse_categorical_crossentropy:
                return metrics_module.sparse_categorical_crossentropy, metric
            return metrics_module.categorical_crossentropy, metric
        fn = metrics_module.get(metric)
        return fn, metric if isinstance(metric, str) else fn.__name__

    # --- the compiled functions --------------------------------------------------------
    def _check_compiled(self) -> None:
        if not self._compiled:
            raise RuntimeError("You must compile your model before using it.")

    def _feeds(self) -> list:
        return list(self._feed_inputs) + list(self.targets) + list(self.sample_weights)

    def _make_train_function(self):
        self._check_compiled()
        if self.train_function is None:
            params = self.trainable_weights
            updates = list(self.optimizer.get_updates(self.total_loss, params)) + list(self.updates)
            ends = list(self._metric_tensors) + [new for _, new in updates]
            phased = _with_phase(ends, 1)
            n = len(self._metric_tensors)
            phased_updates = [(var, new) for (var, _), new in zip(updates, phased[n:])]
            self.train_function = K.function(self._feeds(), phased[:n], updates=phased_updates,
                                             name="train_function", **self._device_option())
        return self.train_function

    def _device_option(self) -> dict:
        """``device=`` for the model's functions when compile() was given one."""
        device = getattr(self, "_device", None)
        return {} if device is None else {"device": device}

    def _make_test_function(self):
        self._check_compiled()
        if self.test_function is None:
            states = self.state_updates
            ends = _with_phase(list(self._metric_tensors) + [new for _, new in states], 0)
            n = len(self._metric_tensors)
            self.test_function = K.function(self._feeds(), ends[:n], name="test_function",
                                            updates=[(var, new) for (var, _), new in zip(states, ends[n:])],
                                            **self._device_option())
        return self.test_function

    def _make_predict_function(self):
        if getattr(self, "predict_function", None) is None:
            states = self.state_updates
            ends = _with_phase(list(self.outputs) + [new for _, new in states], 0)
            n = len(self.outputs)
            self.predict_function = K.function(list(self._feed_inputs), ends[:n], name="predict_function",
                                               updates=[(var, new) for (var, _), new in zip(states, ends[n:])],
                                               **self._device_option())
        return self.predict_function

    # --- data ---------------------------------------------------------------------------
    def _build_from_data(self, x) -> None:
        """Build what still waits for the data's shape (a Sequential model without an input shape)."""
    def _standardize_user_data(self, x, y=None, sample_weight=None, class_weight=None, batch_size=None,
                               check_targets=True):
        inputs = standardize_input_data(x, self._feed_input_names, self._feed_input_shapes,
                                        check_batch_axis=False, exception_prefix="input")
        _check_finite(inputs, self._feed_input_names, "input")
        if y is None:
            if check_targets:
                raise ValueError("This model needs targets (y) to train or evaluate; got y=None.")
            return inputs, [], []
        self._check_compiled()
        target_shapes = []
        for shape, fn in zip(self._feed_output_shapes, self._feed_loss_fns):
            if fn is losses_module.sparse_categorical_crossentropy:
                target_shapes.append(shape[:-1] + (1,))
            elif fn is None:
                target_shapes.append(None)
            else:
                target_shapes.append(shape)
        targets = standardize_input_data(y, self._feed_output_names, exception_prefix="target")
        targets = [t.reshape(-1, 1) if t.ndim == 1 and len(s) == 2 else t
                   for t, s in zip(targets, self._feed_output_shapes)]
        # (the loss's own message first: integer classes given to categorical_crossentropy, ...)
        check_loss_and_target_compatibility(targets, self._feed_loss_fns, self._feed_output_shapes)
        targets = standardize_input_data(targets, self._feed_output_names, target_shapes, check_batch_axis=False,
                                         exception_prefix="target")
        _check_finite(targets, self._feed_output_names, "target")
        weights = []
        for target, sw, cw, mode in zip(targets, self._per_output(sample_weight, "sample_weight"),
                                        self._per_output(class_weight, "class_weight"), self.sample_weight_modes):
            # (as in Keras 2, sample weights win over class weights when both are given)
            if sw is None and cw is not None:
                weights.append(standardize_class_weights(cw, target))
            else:
                weights.append(standardize_sample_weights(sw, target, mode))
        check_array_lengths(inputs, targets, weights)
        self._check_fixed_batch(inputs, batch_size)
        return inputs, targets, weights

    def _per_output(self, value, what: str) -> list:
        """sample_weight/class_weight per output: given once (one output), as a list, or by output name."""
        names = self._feed_output_names
        if value is None:
            return [None] * len(names)
        if isinstance(value, dict) and value and set(value) <= set(names):
            return [value.get(name) for name in names]
        if len(names) == 1:
            single_list = isinstance(value, (list, tuple)) and len(value) == 1 and hasattr(value[0], "__len__")
            return [value[0]] if single_list and what == "sample_weight" else [value]
        if isinstance(value, (list, tuple)) and len(value) == len(names):
            return list(value)
        raise TypeError(f"The model has multiple outputs, so `{what}` should be either a list (one entry per "
                        f"output) or a dict keyed by output name.")

    def _fixed_batch_size(self):
        sizes = {shape[0] for shape in self._feed_input_shapes if shape and shape[0] is not None}
        return next(iter(sizes)) if sizes else None

    def _check_fixed_batch(self, inputs, batch_size, one_batch: bool = False) -> None:
        """A fixed batch size (batch_input_shape; a stateful layer's states are per sample of it) must be the
        one used: ``batch_size`` equal to it, the samples a multiple of it (``one_batch``: exactly it)."""
        fixed = self._fixed_batch_size()
        if fixed is None or not inputs:
            return
        stateful = [layer.name for layer in self.layers if getattr(layer, "stateful", False)]
        owner = (f"The model's stateful layer(s) {', '.join(stateful)} keep states for batches of {fixed} samples"
                 if stateful else f"The model's inputs have a fixed batch size of {fixed} (batch_input_shape)")
        if batch_size is not None and batch_size != fixed:
            raise ValueError(f"{owner}; got batch_size={batch_size}.")
        count = len(inputs[0])
        if one_batch and count != fixed:
            raise ValueError(f"{owner}; got a batch of {count} samples.")
        if count % fixed:
            raise ValueError(f"{owner}, so the number of samples must be a multiple of it; got {count} samples.")

    def _batch_size(self, batch_size, steps=None, steps_name="steps"):
        _check_count(batch_size, "batch_size")
        _check_count(steps, steps_name)
        fixed = self._fixed_batch_size()
        if batch_size is None and steps is None:
            return fixed or 32
        return batch_size if batch_size is not None else fixed

    # --- fit / evaluate / predict ---------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, **kwargs):
        """Train for ``epochs`` epochs; returns a History whose ``history`` dict holds the epoch logs.

        Raises:
            ValueError: no data (x None or 0 samples), batch_size/epochs/steps_per_epoch not positive,
                validation_split outside [0, 1) or leaving no training samples.
            TypeError: a non-integer batch_size/epochs/steps, or an unknown keyword argument.
        """
        _check_x(x, "fit")
        self._build_from_data(x)
        if "nb_epoch" in kwargs:
            renamed_argument(kwargs, "nb_epoch", "epochs", "fit")
            epochs = kwargs.pop("epochs")
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
        self._check_compiled()
        _check_count(epochs, "epochs", minimum=0)
        _check_count(initial_epoch, "initial_epoch", minimum=0)
        if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) or \
                not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be a number in [0, 1); got {validation_split!r}.")
        batch_size = self._batch_size(batch_size, steps_per_epoch, "steps_per_epoch")
        _check_count(validation_steps, "validation_steps")
        ins, targets, weights = self._standardize_user_data(x, y, sample_weight, class_weight, batch_size)
        if steps_per_epoch is None:
            _check_samples(ins, "fit")
        val_ins = None
        if validation_data is not None:
            if len(validation_data) == 2:
                val_x, val_y = validation_data
                val_sample_weight = None
            elif len(validation_data) == 3:
                val_x, val_y, val_sample_weight = validation_data
            else:
                raise ValueError("When passing validation_data, it must contain 2 (x_val, y_val) or 3 (x_val, y_val, "
                                 f"val_sample_weights) items, however it contains {len(validation_data)} items")
            v_ins, v_targets, v_weights = self._standardize_user_data(val_x, val_y, val_sample_weight,
                                                                      batch_size=batch_size)
            val_ins = v_ins + v_targets + v_weights
        elif validation_split and 0.0 < validation_split < 1.0:
            split_at = int(len(ins[0]) * (1.0 - validation_split))
            if split_at == 0:
                raise ValueError(f"validation_split={validation_split} leaves no training samples of the "
                                 f"{len(ins[0])} given.")
            all_arrays = ins + targets + weights
            val_ins = [a[split_at:] for a in all_arrays]
            train = [a[:split_at] for a in all_arrays]
            ins, targets, weights = train[:len(ins)], train[len(ins):len(ins) + len(targets)], \
                train[len(ins) + len(targets):]
        elif validation_steps:
            raise ValueError("`validation_steps` needs validation data (validation_data or validation_split).")
        train_function = self._make_train_function()
        val_function = self._make_test_function() if val_ins is not None else None
        out_labels = list(self.metrics_names)
        return training_arrays.fit_loop(self, train_function, ins + targets + weights, out_labels=out_labels,
                                        batch_size=batch_size, epochs=epochs, verbose=verbose, callbacks=callbacks,
                                        val_function=val_function, val_inputs=val_ins, shuffle=shuffle,
                                        initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                                        validation_steps=validation_steps)

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None, callbacks=None):
        """The loss and metrics over the data: a scalar, or a list ordered as ``metrics_names``.

        Raises:
            ValueError: no data (x None or 0 samples), batch_size or steps not positive.
        """
        _check_x(x, "evaluate")
        self._build_from_data(x)
        self._check_compiled()
        batch_size = self._batch_size(batch_size, steps)
        ins, targets, weights = self._standardize_user_data(x, y, sample_weight, batch_size=batch_size)
        if steps is None:
            _check_samples(ins, "evaluate")
        function = self._make_test_function()
        return training_arrays.test_loop(self, function, ins + targets + weights, batch_size=batch_size,
                                         verbose=verbose, steps=steps, callbacks=callbacks)

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None):
        """The model's outputs for ``x``, batch by batch (an array, or a list for several outputs); 0 samples
        give arrays of 0 rows with the outputs' shapes and dtypes.

        Raises:
            ValueError: x is None, batch_size or steps not positive.
        """
        _check_x(x, "predict")
        self._build_from_data(x)
        batch_size = self._batch_size(batch_size, steps)
        ins, _, _ = self._standardize_user_data(x, check_targets=False)
        self._check_fixed_batch(ins, batch_size)
        function = self._make_predict_function()
        return training_arrays.predict_loop(self, function, ins, batch_size=batch_size, verbose=verbose, steps=steps,
                                            callbacks=callbacks)

    def train_on_batch(self, x, y, sample_weight=None, class_weight=None):
        """One gradient update on one batch; returns the loss (and metrics) of that batch."""
        _check_x(x, "train_on_batch")
        self._build_from_data(x)
        ins, targets, weights = self._standardize_user_data(x, y, sample_weight, class_weight)
        self._check_fixed_batch(ins, None, one_batch=True)
        outputs = self._make_train_function()(ins + targets + weights)
        return _scalars(outputs)

    def test_on_batch(self, x, y, sample_weight=None):
        _check_x(x, "test_on_batch")
        self._build_from_data(x)
        ins, targets, weights = self._standardize_user_data(x, y, sample_weight)
        self._check_fixed_batch(ins, None, one_batch=True)
        outputs = self._make_test_function()(ins + targets + weights)
        return _scalars(outputs)

    def predict_on_batch(self, x):
        _check_x(x, "predict_on_batch")
        self._build_from_data(x)
        ins, _, _ = self._standardize_user_data(x, check_targets=False)
        self._check_fixed_batch(ins, None, one_batch=True)
        outputs = self._make_predict_function()(ins)
        return outputs[0] if len(outputs) == 1 else outputs

    # --- generators ------------------------------------------------------------------------
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, shuffle=True, initial_epoch=0, **kwargs):
        """Train on batches ``(x, y)`` or ``(x, y, sample_weight)`` from a generator or a Sequence."""
        renamed = _keras1_generator_arguments(kwargs, generator, "fit_generator")
        steps_per_epoch = renamed.get("steps_per_epoch", steps_per_epoch)
        epochs = renamed.get("epochs", epochs)
        validation_steps = renamed.get("validation_steps", validation_steps)
        workers = renamed.get("workers", workers)
        use_multiprocessing = renamed.get("use_multiprocessing", use_multiprocessing)
        max_queue_size = renamed.get("max_queue_size", max_queue_size)
        self._check_compiled()
        _check_count(steps_per_epoch, "steps_per_epoch")
        _check_count(validation_steps, "validation_steps")
        _check_count(epochs, "epochs", minimum=0)
        _check_count(initial_epoch, "initial_epoch", minimum=0)
        return training_generator.fit_generator(self, generator, steps_per_epoch, epochs, verbose, callbacks,
                                                validation_data, validation_steps, class_weight, max_queue_size,
                                                workers, use_multiprocessing, shuffle, initial_epoch)

    def evaluate_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                           verbose=0, **kwargs):
        """Loss and metrics over the batches of a generator or a Sequence."""
        steps = _keras1_generator_arguments(kwargs, generator, "evaluate_generator").get("steps", steps)
        self._check_compiled()
        _check_count(steps, "steps")
        return training_generator.evaluate_generator(self, generator, steps, max_queue_size, workers,
                                                     use_multiprocessing, verbose)

    def predict_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                          verbose=0, **kwargs):
        """Outputs for the batches of a generator or a Sequence, concatenated."""
        steps = _keras1_generator_arguments(kwargs, generator, "predict_generator").get("steps", steps)
        _check_count(steps, "steps")
        return training_generator.predict_generator(self, generator, steps, max_queue_size, workers,
                                                    use_multiprocessing, verbose)


def _scalars(outputs):
    """A batch's loss and metrics as NumPy scalars (one value alone, several as a list), as Keras 2 returns them."""
    values = [o[()] if np.ndim(o) == 0 else o for o in outputs]
    return values[0] if len(values) == 1 else values


def _keras1_generator_arguments(kwargs: dict, generator, owner: str) -> dict:
    """The Keras 2 arguments that ``kwargs`` gives under Keras 1 names (each with a DeprecationWarning naming the
    new one); any other keyword is a TypeError.

    ``samples_per_epoch`` counted samples: it becomes ``steps_per_epoch`` = samples // the generator's
    ``batch_size`` when the generator has one (as Keras 2 converted it).
    """
    kwargs = dict(kwargs)
    if "samples_per_epoch" in kwargs:
        batch_size = getattr(generator, "batch_size", None)
        renamed_argument(kwargs, "samples_per_epoch", "steps_per_epoch", owner,
                         convert=lambda n: n // batch_size if batch_size else n)
    renames = (("nb_epoch", "epochs"), ("nb_val_samples", "validation_steps"), ("val_samples", "steps"),
               ("nb_worker", "workers"), ("pickle_safe", "use_multiprocessing"), ("max_q_size", "max_queue_size"))
    for old, new in renames:
        renamed_argument(kwargs, old, new, owner)
    modern = {"steps_per_epoch"} | {new for _, new in renames}
    unknown = sorted(set(kwargs) - modern)
    if unknown:
        raise TypeError(f"{owner}: unrecognized keyword arguments: {unknown}")
    return kwargs


def _check_x(x, method: str) -> None:
    if x is None:
        raise ValueError(f"{method}: no input data (x is None); pass the inputs as a NumPy array, or a list or "
                         f"dict of arrays (one per model input).")


def _check_count(value, name: str, minimum: int = 1) -> None:
    """``value`` is None or an integer >= ``minimum`` (batch sizes, epochs, steps)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer; got {value!r} ({type(value).__name__}).")
    if value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}; got {value}.")


def _check_finite(arrays, names, what: str) -> None:
    """NaN or Inf in the data a model is fed is a ValueError naming the input and the first sample (a NaN
    loss a few batches later would name nothing)."""
    for array, name in zip(arrays, names):
        if array is None or array.dtype.kind not in "fc" or _all_finite(array):
            continue
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(f"Error when checking {what}: {name} holds NaN or Inf (first at index {tuple(bad.tolist())}, "
                         f"value {array[tuple(bad)]}); the model cannot train on or predict from it.")


def _all_finite(array, chunk: int = 1 << 20) -> bool:
    """``np.isfinite(array).all()`` a million elements at a time (no temporary the size of the data)."""
    if array.size <= chunk:  # (one batch, or one sample: no slicing)
        return bool(np.isfinite(array).all())
    flat = array.reshape(-1)
    return all(np.isfinite(flat[i:i + chunk]).all() for i in range(0, flat.size, chunk))


def _check_samples(arrays, method: str) -> None:
    if arrays and len(arrays[0]) == 0:
        raise ValueError(f"{method}: the data has 0 samples; there is nothing to "
                         f"{'train on' if method == 'fit' else 'evaluate'}.")

