"""Noise layers, active only while training (Keras 2's arguments and config keys)."""

from __future__ import annotations

import numpy as np

import symkeras.backend as K
from symkeras.engine.base_layer import Layer
from symkeras.graph import ops


class GaussianNoise(Layer):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` while training."""

    def __init__(self, stddev, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.stddev = float(stddev)

    def call(self, inputs, training=None):
        def noised():
            return inputs + K.random_normal(K.shape(inputs), mean=0.0, stddev=self.stddev)

        return K.in_train_phase(noised, inputs, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(Layer):
    """Multiplies by Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))`` while training."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.rate = float(rate)

    def call(self, inputs, training=None):
        if not 0.0 < self.rate < 1.0:
            return inputs

        def noised():
            stddev = np.sqrt(self.rate / (1.0 - self.rate))
            return inputs * K.random_normal(K.shape(inputs), mean=1.0, stddev=stddev)

        return K.in_train_phase(noised, inputs, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of SELU activations: dropped units take SELU's negative
    saturation value, then an affine map restores the statistics (Keras 2's formulas)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed

    def call(self, inputs, training=None):
        if not 0.0 < self.rate < 1.0:
            return inputs
        rate = self.rate

        def uniform():
            if self.noise_shape is None:
                return K.random_uniform(K.shape(inputs), seed=self.seed)
            shape = tuple(d if d is not None else K.int_shape(inputs)[i] for i, d in enumerate(self.noise_shape))
            return ops.random_uniform(shape, 0.0, 1.0, K.floatx(), self.seed, like=inputs if None in shape else None)

        def dropped():
            alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
            kept = K.cast(K.greater_equal(uniform(), rate), K.floatx())
            a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
            b = -a * alpha_p * rate
            return a * (inputs * kept + alpha_p * (1 - kept)) + b

        return K.in_train_phase(dropped, inputs, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed}
