"""Keras 2 optimizers as symbolic update rules.

``get_updates(loss, params)`` returns (variable, new value) pairs that the
training function applies inside its compiled step.  Hyper-parameters and
slots are variables, so callbacks can change ``lr`` between batches and
``get_weights``/``set_weights`` read and restore the optimizer's state.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np

import symkeras.backend as K
from symkeras.utils.generic_utils import deserialize_object, renamed_argument, serialize_object


def _scalar(value, name):
    return K.variable(np.asarray(value, dtype=K.floatx()), name=name)


class Optimizer:
    """Base class: gradient clipping (clipnorm, clipvalue), state variables in ``weights``."""

    _HYPER = ()

    def __init__(self, hyper: dict | None = None, epsilon=None, **kwargs):
        """``hyper``: the hyper-parameters that become variables (``lr`` among them); ``epsilon`` None is
        K.epsilon(); ``kwargs``: clipnorm, clipvalue, and ``lr`` (the older spelling of learning_rate)."""
        hyper = dict(hyper or {})
        if "lr" in kwargs:
            renamed_argument(kwargs, "lr", "learning_rate", "optimizer")
            hyper["lr"] = kwargs.pop("learning_rate")
        allowed = {"clipnorm", "clipvalue"}
        for key in kwargs:
            if key not in allowed:
                raise TypeError(f"Unexpected keyword argument passed to optimizer: {key}")
        self.__dict__.update(kwargs)
        self.updates: list = []
        self.weights: list = []
        self.epsilon = K.epsilon() if epsilon is None else epsilon
        self.initial_decay = hyper.get("decay", 0.0)
        prefix = type(self).__name__
        self.iterations = K.variable(np.int64(0), dtype="int64", name=f"{prefix}/iterations")
        for name in self._HYPER:
            setattr(self, name, _scalar(hyper[name], f"{prefix}/{name}"))

    @property
    def learning_rate(self):
        return self.lr

    def _decayed_lr(self):
        lr = self.lr
        if self.initial_decay > 0:
            lr = lr * (1.0 / (1.0 + self.decay * K.cast(self.iterations, K.floatx())))
        return lr

    def get_updates(self, loss, params):
        raise NotImplementedError(f"{type(self).__name__} must define get_updates(loss, params).")

    def _begin_updates(self, loss, params):
        """The gradients and this step's learning rate; the updates start with the step counter's."""
        grads = self.get_gradients(loss, params)
        self.updates = [K.update_add(self.iterations, np.int64(1))]
        return grads, self._decayed_lr()

    def get_gradients(self, loss, params):
        return self._clipped(self._gradients(loss, params))

    @staticmethod
    def _gradients(loss, params):
        grads = K.gradients(loss, params)
        missing = [p.name for p, g in zip(params, grads) if g is None]
        if missing:
            raise ValueError(f"An operation has `None` for gradient (weights {missing}). Please make sure that all "
                             "of your ops have a gradient defined (i.e. are differentiable).")
        return grads

    def _clipped(self, grads):
        """``grads`` clipped by ``clipnorm`` (their global norm) and ``clipvalue``, where set."""
        if getattr(self, "clipnorm", None) is not None and self.clipnorm > 0:
            norm = K.sqrt(sum(K.sum(K.square(g)) for g in grads))
            grads = [K.switch(K.greater_equal(norm, self.clipnorm), g * self.clipnorm / norm, g) for g in grads]
        if getattr(self, "clipvalue", None) is not None and self.clipvalue > 0:
            grads = [K.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    @staticmethod
    def _constrained(p, new_p):
        constraint = getattr(p, "constraint", None)
        return constraint(new_p) if constraint is not None else new_p

    def _slots(self, params, name):
        return [K.zeros(K.int_shape(p), dtype=K.dtype(p), name=f"{type(self).__name__}/{name}_{i}")
                for i, p in enumerate(params)]

    def get_weights(self):
        return K.batch_get_value(self.weights)

    def set_weights(self, weights) -> None:
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(f"Length of the specified weight list ({len(weights)}) does not match the number of "
                             f"weights of the optimizer ({len(self.weights)}).")
        pairs = []
        for p, w in zip(self.weights, weights):
            w = np.asarray(w)
            if w.shape != K.int_shape(p):
                raise ValueError(f"Optimizer weight shape {K.int_shape(p)} not compatible with provided weight "
                                 f"shape {w.shape}.")
            pairs.append((p, w))
        K.batch_set_value(pairs)

    def get_config(self) -> dict:
        config = {("learning_rate" if name == "lr" else name): float(K.get_value(getattr(self, name)))
                  for name in self._HYPER}
        if "epsilon" in inspect.signature(type(self).__init__).parameters:
            config["epsilon"] = self.epsilon
        for key in ("clipnorm", "clipvalue"):
            if hasattr(self, key):
                config[key] = getattr(self, key)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "lr" in config:  # configs written by Keras 2.2
            config["learning_rate"] = config.pop("lr")
        return cls(**config)


class SGD(Optimizer):
    """Stochastic gradient descent with momentum, Nesterov momentum and time decay of lr."""

    _HYPER = ("lr", "momentum", "decay")

    def __init__(self, learning_rate=0.01, momentum=0.0, decay=0.0, nesterov=False, **kwargs):
        super().__init__({"lr": learning_rate, "momentum": momentum, "decay": decay}, **kwargs)
        self.nesterov = nesterov

    def get_updates(self, loss, params):
        grads, lr = self._begin_updates(loss, params)
        moments = self._slots(params, "moment")
        self.weights = [self.iterations] + moments
        for p, g, m in zip(params, grads, moments):
            v = self.momentum * m - lr * g
            self.updates.append(K.update(m, v))
            new_p = p + self.momentum * v - lr * g if self.nesterov else p + v
            self.updates.append(K.update(p, self._constrained(p, new_p)))
        return self.updates

    def get_config(self):
        return {**super().get_config(), "nesterov": self.nesterov}


class RMSprop(Optimizer):
    _HYPER = ("lr", "rho", "decay")

    def __init__(self, learning_rate=0.001, rho=0.9, epsilon=None, decay=0.0, **kwargs):
        super().__init__({"lr": learning_rate, "rho": rho, "decay": decay}, epsilon, **kwargs)

    def get_updates(self, loss, params):
        grads, lr = self._begin_updates(loss, params)
        accumulators = self._slots(params, "accumulator")
        self.weights = [self.iterations] + accumulators
        for p, g, a in zip(params, grads, accumulators):
            new_a = self.rho * a + (1.0 - self.rho) * K.square(g)
            self.updates.append(K.update(a, new_a))
            new_p = p - lr * g / (K.sqrt(new_a) + self.epsilon)
            self.updates.append(K.update(p, self._constrained(p, new_p)))
        return self.updates


class Adagrad(Optimizer):
    """Adagrad.  ``initial_accumulator_value``: where the squared-gradient sums start (Keras 2.2: 0, the
    default here; tf-keras: 0.1, honoured when a tf-keras file or config sets it)."""

    _HYPER = ("lr", "decay")

    def __init__(self, learning_rate=0.01, epsilon=None, decay=0.0, initial_accumulator_value=0.0, **kwargs):
        super().__init__({"lr": learning_rate, "decay": decay}, epsilon, **kwargs)
        value = float(initial_accumulator_value)
        if not value >= 0.0:
            raise ValueError(f"Adagrad: initial_accumulator_value must be >= 0; got {initial_accumulator_value!r}.")
        self.initial_accumulator_value = value

    def get_updates(self, loss, params):
        grads, lr = self._begin_updates(loss, params)
        accumulators = [K.variable(np.full(K.int_shape(p), self.initial_accumulator_value, dtype=K.dtype(p)),
                                   dtype=K.dtype(p), name=f"Adagrad/accumulator_{i}") for i, p in enumerate(params)]
        self.weights = [self.iterations] + accumulators
        for p, g, a in zip(params, grads, accumulators):
            new_a = a + K.square(g)
            self.updates.append(K.update(a, new_a))
            new_p = p - lr * g / (K.sqrt(new_a) + self.epsilon)
            self.updates.append(K.update(p, self._constrained(p, new_p)))
        return self.updates


    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value}


class Adadelta(Optimizer):
    _HYPER = ("lr", "rho", "decay")

    def __init__(self, learning_rate=1.0, rho=0.95, epsilon=None, decay=0.0, **kwargs):
        super().__init__({"lr": learning_rate, "rho": rho, "decay": decay}, epsilon, **kwargs)

    def get_updates(self, loss, params):
        grads, lr = self._begin_updates(loss, params)
        accumulators = self._slots(params, "accumulator")
        deltas = self._slots(params, "delta_accumulator")
        self.weights = [self.iterations] + accumulators + deltas
        for p, g, a, d_a in zip(params, grads, accumulators, deltas):
            new_a = self.rho * a + (1.0 - self.rho) * K.square(g)
            self.updates.append(K.update(a, new_a))
            step = g * K.sqrt(d_a + self.epsilon) / K.sqrt(new_a + self.epsilon)
            new_p = p - lr * step
            self.updates.append(K.update(p, self._constrained(p, new_p)))
            self.updates.append(K.update(d_a, self.rho * d_a + (1.0 - self.rho) * K.square(step)))
        return self.updates


class Adam(Optimizer):
    _HYPER = ("lr", "beta_1", "beta_2", "decay")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, amsgrad=False, **kwargs):
        super().__init__({"lr": learning_rate, "beta_1": beta_1, "beta_2": beta_2, "decay": decay}, epsilon, **kwargs)
        self.amsgrad = amsgrad

    def get_updates(self, loss, params):
        grads, lr = self._begin_updates(loss, params)
        t = K.cast(self.iterations, K.floatx()) + 1.0
        lr_t = lr * (K.sqrt(1.0 - K.pow(self.beta_2, t)) / (1.0 - K.pow(self.beta_1, t)))
        ms = self._slots(params, "m")
        vs = self._slots(params, "v")
        vhats = self._slots(params, "vhat") if self.amsgrad else []
        self.weights = [self.iterations] + ms + vs + vhats
        for i, (p, g, m, v) in enumerate(zip(params, grads, ms, vs)):
            m_t = self.beta_1 * m + (1.0 - self.beta_1) * g
            v_t = self.beta_2 * v + (1.0 - self.beta_2) * K.square(g)
            if self.amsgrad:
                vhat_t = K.maximum(vhats[i], v_t)
                new_p = p - lr_t * m_t / (K.sqrt(vhat_t) + self.epsilon)
                self.updates.append(K.update(vhats[i], vhat_t))
            else:
                new_p = p - lr_t * m_t / (K.sqrt(v_t) + self.epsilon)
            self.updates += [K.update(m, m_t), K.update(v, v_t), K.update(p, self._constrained(p, new_p))]
        return self.updates

    def get_config(self):
        return {**super().get_config(), "amsgrad": self.amsgrad}


class Adamax(Optimizer):
    _HYPER = ("lr", "beta_1", "beta_2", "decay")

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, **kwargs):
        super().__init__({"lr": learning_rate, "beta_1": beta_1, "beta_2": beta_2, "decay": decay}, epsilon, **kwargs)

    def get_updates(self, loss, params):
        grads, lr = self._begin_updates(loss, params)
        t = K.cast(self.iterations, K.floatx()) + 1.0
        lr_t = lr / (1.0 - K.pow(self.beta_1, t))
        ms = self._slots(params, "m")
        us = self._slots(params, "u")
        self.weights = [self.iterations] + ms + us
        for p, g, m, u in zip(params, grads, ms, us):
            m_t = self.beta_1 * m + (1.0 - self.beta_1) * g
            u_t = K.maximum(self.beta_2 * u, K.abs(g))
            new_p = p - lr_t * m_t / (u_t + self.epsilon)
            self.updates += [K.update(m, m_t), K.update(u, u_t), K.update(p, self._constrained(p, new_p))]
        return self.updates


class Nadam(Optimizer):
    """Adam with Nesterov momentum (Dozat); ``schedule_decay`` warms the momentum up."""

    _HYPER = ("lr", "beta_1", "beta_2")

    def __init__(self, learning_rate=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, schedule_decay=0.004, **kwargs):
        super().__init__({"lr": learning_rate, "beta_1": beta_1, "beta_2": beta_2}, epsilon, **kwargs)
        self.m_schedule = _scalar(1.0, "Nadam/m_schedule")
        self.schedule_decay = schedule_decay

    def get_updates(self, loss, params):
        grads, _ = self._begin_updates(loss, params)  # (no decay: Nadam schedules its momentum instead)
        t = K.cast(self.iterations, K.floatx()) + 1.0
        cache_t = self.beta_1 * (1.0 - 0.5 * K.pow(0.96, t * self.schedule_decay))
        cache_t_1 = self.beta_1 * (1.0 - 0.5 * K.pow(0.96, (t + 1.0) * self.schedule_decay))
        m_schedule_new = self.m_schedule * cache_t
        m_schedule_next = self.m_schedule * cache_t * cache_t_1
        self.updates.append(K.update(self.m_schedule, m_schedule_new))
        ms = self._slots(params, "m")
        vs = self._slots(params, "v")
        self.weights = [self.iterations, self.m_schedule] + ms + vs
        for p, g, m, v in zip(params, grads, ms, vs):
            g_prime = g / (1.0 - m_schedule_new)
            m_t = self.beta_1 * m + (1.0 - self.beta_1) * g
            m_t_prime = m_t / (1.0 - m_schedule_next)
            v_t = self.beta_2 * v + (1.0 - self.beta_2) * K.square(g)
            v_t_prime = v_t / (1.0 - K.pow(self.beta_2, t))
            m_t_bar = (1.0 - cache_t) * g_prime + cache_t_1 * m_t_prime
            new_p = p - self.lr * m_t_bar / (K.sqrt(v_t_prime) + self.epsilon)
            self.updates += [K.update(m, m_t), K.update(v, v_t), K.update(p, self._constrained(p, new_p))]
        return self.updates

    def get_config(self):
        return {**super().get_config(), "schedule_decay": self.schedule_decay}


sgd, rmsprop, adagrad, adadelta, adam, adamax, nadam = SGD, RMSprop, Adagrad, Adadelta, Adam, Adamax, Nadam

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta, "adam": Adam,
            "adamax": Adamax, "nadam": Nadam, "SGD": SGD, "RMSprop": RMSprop, "Adagrad": Adagrad,
            "Adadelta": Adadelta, "Adam": Adam, "Adamax": Adamax, "Nadam": Nadam}


def serialize(optimizer):
    return serialize_object(optimizer)


#: settings of tf-keras optimizers that change nothing at these values
_NEUTRAL = {"name": None, "weight_decay": None, "use_ema": False, "ema_momentum": None,
            "ema_overwrite_frequency": None, "jit_compile": None, "is_legacy_optimizer": None, "momentum": 0.0,
            "centered": False, "global_clipnorm": None, "clipnorm": None, "clipvalue": None}


def _keras2_arguments(cls, config: dict) -> dict:
    """An optimizer config written by Keras 2.2, tf-keras's legacy or its newer optimizers, as ``cls``'s arguments.

    tf-keras's ``global_clipnorm`` is Keras 2.2's (and symkeras's) clipnorm; settings symkeras has no rule for
    are dropped with a warning when they would change the updates.
    """
    accepted = set(inspect.signature(cls.__init__).parameters) | {"clipnorm", "clipvalue"}
    config = dict(config)
    if "lr" in config:
        config["learning_rate"] = config.pop("lr")
    if config.get("global_clipnorm") is not None:
        if config.get("clipnorm") is not None:
            warnings.warn("The optimizer config sets both clipnorm (per variable) and global_clipnorm; symkeras "
                          "clips by the global norm only.", UserWarning, stacklevel=3)
        config["clipnorm"] = config["global_clipnorm"]
    arguments, ignored = {}, {}
    for key, value in config.items():
        if key in accepted and key != "self" and not (key in ("clipnorm", "clipvalue") and value is None):
            arguments[key] = value
        elif key not in accepted and key in _NEUTRAL and _NEUTRAL[key] is not None and value != _NEUTRAL[key]:
            ignored[key] = value
        elif key not in accepted and key not in _NEUTRAL:
            ignored[key] = value
    if ignored:
        warnings.warn(f"{cls.__name__}: settings without a symkeras equivalent are ignored: {ignored}", UserWarning,
                      stacklevel=3)
    return arguments


def deserialize(config, custom_objects=None):
    """An optimizer from {"class_name", "config"} (Keras 2.2 and tf-keras spellings, "Custom>" prefixes too)."""
    if isinstance(config, dict):
        name = config["class_name"].split(">")[-1]
        custom = (custom_objects or {}).get(name)
        cls = custom or _BY_NAME.get(name) or _BY_NAME.get(name.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: {config['class_name']}")
        if custom is not None:
            return cls.from_config(config["config"])
        return cls(**_keras2_arguments(cls, config["config"]))
    return deserialize_object(config, _BY_NAME, custom_objects, kind="optimizer")


def get(identifier):
    """An optimizer from a name ('sgd', 'rmsprop', 'adam', ...), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize(identifier)()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
