"""Gradient ascent on an input image, the filter-visualization pattern of Keras 2 tutorials.

A small feature map is computed from the image with plain ops; the loss is
the mean activation of one of its channels.  K.gradients gives d loss / d image,
normalized by its RMS, and a K.function returns both; 20 ascent steps follow.
Run: ``python -m symkeras.demos.gradient_ascent``.
"""

from __future__ import annotations

import numpy as np

import symkeras.backend as K
from symkeras.graph import debugprint


def build_iterate(height=16, width=16, channels=3, filters=8, channel=2, seed=0):
    """The compiled step ``[image] -> [loss, normalized gradient]``."""
    rng = np.random.default_rng(seed)
    image = K.placeholder(shape=(1, height, width, channels), name="input_img")
    w1 = K.constant(rng.normal(0, 0.5, size=(channels, filters)), name="w1")
    w2 = K.constant(rng.normal(0, 0.5, size=(filters, filters)), name="w2")
    hidden = K.tanh(K.dot(image, w1))
    # a 2x2 neighbourhood sum makes each feature depend on nearby pixels
    pooled = hidden[:, :-1, :-1, :] + hidden[:, 1:, :-1, :] + hidden[:, :-1, 1:, :] + hidden[:, 1:, 1:, :]
    features = K.relu(K.dot(pooled, w2))
    loss = K.mean(features[:, :, :, channel])
    loss.name = "loss"
    grads = K.gradients(loss, [image])[0]
    grads = grads / (K.sqrt(K.mean(K.square(grads))) + 1e-5)
    grads.name = "normalized_grads"
    return image, K.function([image], [loss, grads], name="iterate")


def run(steps=20, step_size=0.05, verbose=True, seed=0):
    """Run the ascent; returns the list of losses."""
    image, iterate = build_iterate(seed=seed)
    rng = np.random.default_rng(seed + 1)
    img = rng.random((1,) + image.shape[1:]) * 0.2 + 0.4
    losses = []
    for step in range(steps):
        loss_value, grads_value = iterate([img])
        img = img + grads_value * step_size
        losses.append(float(loss_value))
        if verbose:
            print(f"step {step + 1:2d}: loss {loss_value:.5f}")
    if verbose:
        print("\nThe compiled function's graph:")
        debugprint(iterate)
        if iterate.rewrites:
            print("\nRewrites that fired:")
            print(iterate.rewrites)
    return losses


if __name__ == "__main__":
    run()
