"""BatchNormalization: batch statistics while training (moving averages updated in the step), moving ones after."""

from __future__ import annotations

import symkeras.backend as K
from symkeras import constraints, initializers, regularizers
from symkeras.engine.base_layer import Layer, fmt_shape
from symkeras.utils.generic_utils import serialize_object


class BatchNormalization(Layer):
    """Normalizes each feature (along ``axis``) to zero mean and unit variance, then scales and shifts."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        if isinstance(axis, (list, tuple)):  # tf-keras writes the axis as a list
            if len(axis) != 1:
                raise ValueError(f"BatchNormalization {self.name}: one axis is supported; got {list(axis)}.")
            axis = axis[0]
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = center, scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                             f"{self.name} received an input with shape {fmt_shape(input_shape)}.")
        shape = (dim,)
        self.gamma = self.add_weight("gamma", shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", shape, initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape,
                                               initializer=self.moving_variance_initializer, trainable=False)
        self.built = True

    def call(self, inputs, training=None):
        ndim = K.ndim(inputs)
        axis = self.axis % ndim
        reduction_axes = [i for i in range(ndim) if i != axis]

        def inference():
            return K.batch_normalization(inputs, self.moving_mean, self.moving_variance, self.beta, self.gamma,
                                         axis=axis, epsilon=self.epsilon)

        if training in (0, False):
            return inference()
        # the batch's mean and variance come from one node with two outputs (one kernel computes both)
        normed, mean, variance = K.normalize_batch_in_training(inputs, self.gamma, self.beta, reduction_axes,
                                                               epsilon=self.epsilon)
        # the moving variance is the unbiased estimate, as Keras 2 keeps it
        sizes = K.shape(inputs)
        sample_size = None
        for i in reduction_axes:
            size = K.cast(sizes[i], K.floatx())
            sample_size = size if sample_size is None else sample_size * size
        unbiased = variance * (sample_size / (sample_size - (1.0 + self.epsilon)))
        self.add_update([K.moving_average_update(self.moving_mean, mean, self.momentum),
                         K.moving_average_update(self.moving_variance, unbiased, self.momentum)], inputs)
        return K.in_train_phase(normed, inference, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": serialize_object(self.beta_initializer),
                "gamma_initializer": serialize_object(self.gamma_initializer),
                "moving_mean_initializer": serialize_object(self.moving_mean_initializer),
                "moving_variance_initializer": serialize_object(self.moving_variance_initializer),
                "beta_regularizer": serialize_object(self.beta_regularizer),
                "gamma_regularizer": serialize_object(self.gamma_regularizer),
                "beta_constraint": serialize_object(self.beta_constraint),
                "gamma_constraint": serialize_object(self.gamma_constraint)}
