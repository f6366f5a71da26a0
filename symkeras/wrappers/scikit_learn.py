"""Keras models as scikit-learn estimators: ``KerasClassifier`` and ``KerasRegressor`` (Keras 2's API), for
``cross_val_score``, ``GridSearchCV`` and pipelines.

``build_fn`` makes and compiles a fresh model (a function, or an object with ``__call__``; without it,
the wrapper's own ``__call__``); the wrapper's parameters go to whichever of ``build_fn``, ``fit``,
``predict``, ``predict_proba``, ``evaluate`` and ``score`` take them by name.
"""

from __future__ import annotations

import copy
import inspect
import types

import numpy as np

from symkeras.engine.sequential import Sequential
from symkeras.utils.generic_utils import to_list
from symkeras.utils.np_utils import to_categorical

#: the model methods whose arguments the wrappers pass on by name
_MODEL_METHODS = (Sequential.fit, Sequential.predict, Sequential.predict_classes, Sequential.predict_proba,
                  Sequential.evaluate)


def _takes(fn, name: str) -> bool:
    """Whether ``fn`` takes ``name``: as a named parameter (a model method's ``**kwargs`` are Keras 1's
    renamed arguments, not a place for anything), or through ``**kwargs`` for a build function."""
    parameters = inspect.signature(fn).parameters
    if name in parameters and parameters[name].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                            inspect.Parameter.VAR_KEYWORD):
        return True
    return fn not in _MODEL_METHODS and any(p.kind == p.VAR_KEYWORD for p in parameters.values())


class BaseWrapper:
    """What both wrappers share: parameters as scikit-learn expects them, and fitting.

    Args:
        build_fn: makes and compiles the model.
        **sk_params: arguments of ``build_fn``, ``fit``, ``predict``, ``evaluate``... by name.

    Raises:
        ValueError: a parameter none of them takes.
    """

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _build_target(self):
        if self.build_fn is None:
            return self.__call__
        if isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            return self.build_fn
        return self.build_fn.__call__

    def check_params(self, params) -> None:
        """Raise for a parameter that none of the model-building and model methods take."""
        targets = list(_MODEL_METHODS)
        if self.build_fn is None:
            targets.append(self.__call__)
        elif not isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            targets.append(self.build_fn.__call__)
        else:
            targets.append(self.build_fn)
        for name in params:
            if not any(_takes(fn, name) for fn in targets):
                raise ValueError(f"{name} is not a legal parameter")

    def get_params(self, deep=True, **params) -> dict:
        """The parameters (``build_fn`` and the others), as scikit-learn's ``clone`` needs them."""
        return {**copy.deepcopy(self.sk_params), "build_fn": self.build_fn}

    def set_params(self, **params):
        """Change parameters (as GridSearchCV does); returns the wrapper."""
        if "build_fn" in params:
            self.build_fn = params.pop("build_fn")
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None) -> dict:
        """The parameters ``fn`` takes, updated by ``override``."""
        chosen = {name: value for name, value in self.sk_params.items() if _takes(fn, name)}
        chosen.update(override or {})
        return chosen

    def fit(self, x, y, **kwargs):
        """Build a fresh model and train it on ``x``, ``y``; returns the History.  ``kwargs``: fit's
        arguments, over the wrapper's parameters."""
        build = self._build_target()
        self.model = build(**self.filter_sk_params(build))
        if getattr(self.model, "loss", None) in ("categorical_crossentropy",) and np.ndim(y) != 2:
            y = to_categorical(y)
        fit_args = self.filter_sk_params(Sequential.fit)
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)

    def __sklearn_tags__(self):
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=self._estimator_type, target_tags=TargetTags(required=True))


class KerasClassifier(BaseWrapper):
    """A scikit-learn classifier: labels of any values (or one-hot rows) in, those labels out."""

    _estimator_type = "classifier"

    def fit(self, x, y, sample_weight=None, **kwargs):
        """Train on ``x`` and labels ``y`` (1-D, a column, or one-hot rows).

        Raises:
            ValueError: y of another shape.
        """
        y = np.array(y)
        if y.ndim == 2 and y.shape[1] > 1:
            self.classes_ = np.arange(y.shape[1])
        elif (y.ndim == 2 and y.shape[1] == 1) or y.ndim == 1:
            self.classes_ = np.unique(y)
            y = np.searchsorted(self.classes_, y)
        else:
            raise ValueError(f"Invalid shape for y: {y.shape}")
        self.n_classes_ = len(self.classes_)
        if sample_weight is not None:
            kwargs["sample_weight"] = sample_weight
        return super().fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """The predicted labels (of the values ``fit`` saw)."""
        kwargs = self.filter_sk_params(Sequential.predict_classes, kwargs)
        proba = self.model.predict(x, **{k: v for k, v in kwargs.items() if k in ("batch_size", "verbose")})
        classes = proba.argmax(axis=-1) if proba.shape[-1] > 1 else (proba > 0.5).astype("int32")[:, 0]
        return self.classes_[classes]

    def predict_proba(self, x, **kwargs):
        """Each sample's probability of each class (two columns for one sigmoid output)."""
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        probs = self.model.predict(x, **kwargs)
        return np.hstack([1 - probs, probs]) if probs.shape[1] == 1 else probs

    def score(self, x, y, **kwargs):
        """The model's accuracy on ``x``, ``y`` (scikit-learn's score).

        Raises:
            ValueError: the model was compiled without an accuracy metric.
        """
        y = np.searchsorted(self.classes_, y)
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        if getattr(self.model, "loss", None) == "categorical_crossentropy" and np.ndim(y) != 2:
            y = to_categorical(y, num_classes=self.n_classes_)
        outputs = to_list(self.model.evaluate(x, y, **kwargs))
        for name, value in zip(self.model.metrics_names, outputs):
            if name in ("accuracy", "acc"):
                return value
        raise ValueError("The model is not configured to compute accuracy. You should pass "
                         '`metrics=["accuracy"]` to the `model.compile()` method.')


class KerasRegressor(BaseWrapper):
    """A scikit-learn regressor: its score is the negated loss (higher is better, as scikit-learn wants)."""

    _estimator_type = "regressor"

    def predict(self, x, **kwargs):
        """The predictions, squeezed (one output: a 1-D array)."""
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        return np.squeeze(self.model.predict(x, **kwargs))

    def score(self, x, y, **kwargs):
        """Minus the model's loss on ``x``, ``y``."""
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        loss = self.model.evaluate(x, y, **kwargs)
        return -loss[0] if isinstance(loss, list) else -loss
