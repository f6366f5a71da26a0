"""Parallel loops through the shared launcher (codegen/numba/launch.py): the rewrite's safety rules, the
block's array round trip, and compiled kernels that split their samples giving NumPy's values."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen.numba import launch, threads

F4 = ("float32", 4, "C", False)


def _lines(text: str) -> list[str]:
    return ["    " + line for line in text.strip("\n").splitlines()]


ELEMENTWISE = """
n1 = a0.shape[0]
m2 = 0 if a0.shape[0] == 1 else 1
if n1 < 0:
    raise ValueError('bad')
out = np.empty((n1, 4, 4, 8), np.float32)
for f0 in range(3):
    out[0, 0, 0, f0] = 0
for i0 in numba.prange(n1):
    for i1 in range(4):
        s0 = np.float32(a0[i0 * m2, i1, 0, 0])
        out[i0, i1, 0, 0] = s0
return out
"""


def test_split_passes_parameters_and_allocations_and_reruns_pure_sizes():
    before, after, work, passed, no_aliases = launch.split_parallel_loop(_lines(ELEMENTWISE), {"a0": F4}, 2)
    assert passed == [("a0", F4), ("out", F4)]
    assert not no_aliases
    # the body re-runs the sizes the loop reads, not the check, the fill or the allocation
    assert work[:2] == ["    n1 = a0.shape[0]", "    m2 = 0 if a0.shape[0] == 1 else 1"]
    assert work[2] == "    for i0 in range(part_[0] * (n1) // 2, (part_[0] + 1) * (n1) // 2):"
    assert work[-1] == "    return part_"
    assert not any("prange" in line for line in before + after + work)
    assert before[-1].strip().startswith("out[0, 0, 0, f0]") and after == ["    return out"]
    kernel = launch.launch_lines(passed, 2, "body0")
    assert kernel[0] == "    block_ = np.empty(19, np.int64)"
    # body0: the body's address, then the launcher's (one slice of the step's fns)
    assert kernel[-1] == "    invoke(body0[1], LAUNCH, (body0, block_))"


FLAT = """
out = np.empty((a0.shape[0],), np.float32)
for i in numba.prange(out.size):
    s0 = np.float32(a0[i] * np.float32(2.0))
    out[i] = s0
return out
"""


def test_a_loop_variable_used_only_as_an_index_runs_unsigned():
    F1 = ("float32", 1, "C", False)
    _, _, work, passed, _ = launch.split_parallel_loop(_lines(FLAT), {"a0": F1}, 2)
    assert passed == [("out", F1), ("a0", F1)]
    # (a signed start unknown to LLVM keeps Numba's negative-index check in the loop: no vectorization)
    assert work[0] == ("    for i in range(np.uint64(part_[0] * (out.size) // 2), "
                       "np.uint64((part_[0] + 1) * (out.size) // 2)):")
    # computed with (i0 * m2 in ELEMENTWISE): stays signed, an unsigned product would be a float
    _, _, work, _, _ = launch.split_parallel_loop(_lines(ELEMENTWISE), {"a0": F4}, 2)
    assert "np.uint64" not in work[2]


@pytest.mark.parametrize("old, new, why", [
    ("m2 = 0 if a0.shape[0] == 1 else 1", "m2 = int(np.sum(a0))", "a size made by a call not known to be pure"),
    ("m2 = 0 if a0.shape[0] == 1 else 1", "m2 = 0\nfor q in range(2):\n    m2 = q", "a name set inside a loop"),
    ("out = np.empty((n1, 4, 4, 8), np.float32)", "out = a0.copy()", "an array the parts write, made by a call"),
])
def test_split_refuses_what_it_cannot_prove(old, new, why):
    assert launch.split_parallel_loop(_lines(ELEMENTWISE.replace(old, new)), {"a0": F4}, 2) is None, why


def test_split_refuses_two_loops_a_nested_loop_and_unknown_types():
    two = ELEMENTWISE.replace("return out", "for i in numba.prange(n1):\n    out[i, 0, 0, 0] = 1\nreturn out")
    assert launch.split_parallel_loop(_lines(two), {"a0": F4}, 2) is None
    nested = "out = np.empty((4,), np.float32)\nif True:\n    for i in numba.prange(4):\n        out[i] = 1\n"
    assert launch.split_parallel_loop(_lines(nested), {}, 2) is None
    assert launch.split_parallel_loop(_lines(ELEMENTWISE), {"a0": None}, 2) is None


def test_in_place_writes_and_partial_sums_keep_their_no_aliasing_promise():
    in_place = ELEMENTWISE.replace("out = np.empty((n1, 4, 4, 8), np.float32)",
                                   "out = a0 if a0.shape == (n1, 4, 4, 8) else np.empty((n1, 4, 4, 8), np.float32)")
    *_, passed, no_aliases = launch.split_parallel_loop(_lines(in_place), {"a0": F4}, 2)
    assert no_aliases and passed == [("a0", F4), ("out", F4)]
    summing = ELEMENTWISE.replace("out[i0, i1, 0, 0] = s0", "out[i0, i1, 0, 0] += s0")
    assert launch.split_parallel_loop(_lines(summing), {"a0": F4}, 2)[-1]


BLOCK_SIZE = 1 + launch.slots(("float32", 2, "A", False)) + launch.slots(("float64", 0, "C", True)) + 3
pack_array, array_view = launch.pack_array, launch.array_view


@numba.njit
def _round_trip(strided, scalar, out):
    block = np.empty(BLOCK_SIZE, np.int64)
    at = pack_array(block, 1, strided)
    at = pack_array(block, at, scalar)
    pack_array(block, at, out)
    view = array_view(block, 1, "float32:2:A:0")
    value = array_view(block, 6, "float64:0:C:1")
    target = array_view(block, 7, "float32:1:C:0")
    for i in range(view.shape[0]):
        target[i] = view[i, 1] + value[()]
    return block


def test_block_round_trip_keeps_strides_and_zero_d_arrays():
    base = np.arange(24, dtype=np.float32).reshape(4, 6)
    strided = base[:, ::2]
    scalar = np.array(0.5)
    scalar.setflags(write=False)
    out = np.zeros(4, np.float32)
    block = _round_trip(strided, scalar, out)
    np.testing.assert_array_equal(out, strided[:, 1] + 0.5)
    assert block[1] == strided.ctypes.data and tuple(block[2:6]) == strided.shape + strided.strides


def test_split_kernels_compute_numpys_values():
    rng = np.random.default_rng(0)
    x = K.placeholder((None, 16, 16, 64))
    y = K.placeholder((None, 16, 16, 64))
    f = K.function([x, y], [K.relu(x * y - 0.25) / 3.0, K.sum(x * y, axis=0), K.max(x, axis=(1, 2))])
    for batch in (1, 7):
        a = rng.standard_normal((batch, 16, 16, 64)).astype(np.float32)
        b = rng.standard_normal((batch, 16, 16, 64)).astype(np.float32)
        relu, total, peak = f([a, b])
        np.testing.assert_allclose(relu, np.maximum(a * b - 0.25, 0) / 3, rtol=1e-6)
        np.testing.assert_allclose(total, (a * b).sum(0), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(peak, a.max(axis=(1, 2)))
    sources = f.program.layout.kernel_sources
    parallel = [s for s in sources if "numba.prange" in s]
    if threads.parts() > 1:  # one parallel module, the launcher, which the splitting kernels call
        assert len(parallel) == 1 and "def kernel(body_, block_)" in parallel[0]
        assert sum("invoke(body" in s and "LAUNCH" in s for s in sources) >= 2
    else:
        assert not any("'prange': True" in s for s in sources)
