"""Random ops: explicit seeds, reproducible sequences, new draws per call, distributions."""

import numpy as np
import pytest

from symkeras.codegen.function import Function
from symkeras.codegen.reference import evaluate
from symkeras.graph import ops
from symkeras.graph.basic import placeholder

pytestmark = pytest.mark.usefixtures("backend")


def test_seeded_functions_reproduce_the_same_sequence():
    def draws():
        r = ops.random_normal((3, 4), seed=11)
        f = Function([], [r])
        return [f([])[0] for _ in range(3)]

    first, second = draws(), draws()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # each call draws anew


def test_distributions(rng):
    n = (200, 100)
    normal = evaluate(ops.random_normal(n, mean=2.0, stddev=0.5, seed=1))
    assert normal.dtype == np.float32 and normal.shape == n
    assert abs(normal.mean() - 2.0) < 0.02 and abs(normal.std() - 0.5) < 0.02
    uniform = evaluate(ops.random_uniform(n, minval=-1, maxval=3, seed=2, dtype="float64"))
    assert uniform.dtype == np.float64
    assert uniform.min() >= -1 and uniform.max() < 3 and abs(uniform.mean() - 1) < 0.05
    trunc = evaluate(ops.truncated_normal(n, mean=1.0, stddev=2.0, seed=3))
    assert trunc.min() >= 1 - 4 and trunc.max() <= 1 + 4
    assert abs(trunc.std() - 2 * 0.8796) < 0.05  # std of a normal truncated at 2 sigma
    binom = evaluate(ops.random_binomial(n, p=0.3, seed=4))
    assert set(np.unique(binom)) <= {0.0, 1.0} and abs(binom.mean() - 0.3) < 0.02


def test_none_sizes_come_from_a_reference_tensor():
    x = placeholder((None, 3))
    mask = ops.random_binomial((None, 1), p=0.5, seed=5, like=x)
    assert mask.shape == (None, 1)
    got = evaluate(mask, {x: np.zeros((7, 3), "float32")})
    assert got.shape == (7, 1)
    with pytest.raises(ValueError, match="needs a reference tensor"):
        ops.random_normal((None, 3), seed=1)


def test_random_ops_carry_no_gradient():
    from symkeras.graph import gradients

    x = placeholder((None, 3), dtype="float64")
    noise = ops.random_normal((None, 3), seed=1, like=x, dtype="float64")
    g = gradients(ops.reduce_sum(x * noise), x)
    value = np.ones((2, 3))
    f = Function([x], [g, noise])
    grad_value, noise_value = f([value])
    # the gradient is the noise of the same draw
    np.testing.assert_allclose(grad_value, noise_value)
