"""The gradient-ascent demo that `make demo` runs."""

import numpy as np
import pytest

from symkeras.demos import gradient_ascent

pytestmark = pytest.mark.usefixtures("backend")


def test_ascent_raises_the_loss_every_step(capsys):
    losses = gradient_ascent.run(steps=20)
    assert len(losses) == 20
    assert np.all(np.diff(losses) > 0)
    out = capsys.readouterr().out
    assert "step 20: loss" in out
    assert "Function 'iterate' (inputs: input_img;" in out
    assert "Einsum{abcd,df->abcf}" in out or "Einsum{abcd,de->abce}" in out


def test_iterate_returns_loss_and_normalized_gradient():
    image, iterate = gradient_ascent.build_iterate()
    img = np.random.default_rng(0).random((1,) + image.shape[1:])
    loss, grads = iterate([img])
    assert loss.shape == () and grads.shape == img.shape
    rms = np.sqrt(np.mean(grads**2))
    assert 0.99 < rms <= 1.0  # normalized by (rms + 1e-5)
