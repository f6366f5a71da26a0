"""Backend results against Keras 2 (tf-keras) fixtures made by tests/fixtures/make_keras2_fixtures.py."""

import os

import numpy as np
import pytest
from fixtures.keras2_cases import CASES, INPUTS

import symkeras.backend as K

pytestmark = pytest.mark.usefixtures("backend")

FIXTURES = np.load(os.path.join(os.path.dirname(__file__), "..", "fixtures", "keras2_backend.npz"))

# tf-keras computes binary cross-entropy from probabilities as -log(p + eps) (Keras 2.2.4:
# from clipped logits log(p / (1 - p))); they agree except where p is clipped at 0 or 1.
SKIP_ROWS = {"binary_crossentropy": 0}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras2(name):
    fn, arg_names = CASES[name]
    values = [INPUTS[a] for a in arg_names]
    placeholders = [K.placeholder(shape=v.shape, dtype=v.dtype.name, name=a) for a, v in zip(arg_names, values)]
    got = K.function(placeholders, [fn(K, *placeholders)])(values)[0]
    want = FIXTURES[name]
    assert got.shape == want.shape
    if name in SKIP_ROWS:
        got, want = np.delete(got, SKIP_ROWS[name], 0), np.delete(want, SKIP_ROWS[name], 0)
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_fixtures_come_from_keras2():
    assert str(FIXTURES["__keras_version__"]).startswith("2.")
