"""The Numba backend: generated source, loud missing kernels, debug mode, dumps, in-place updates."""

import os
import re

import numpy as np
import pytest

import symkeras.backend as K
from symkeras.codegen import cache, scalar
from symkeras.codegen.function import Function
from symkeras.graph import ops, provenance
from symkeras.graph.basic import Op, placeholder


def _mlp_step():
    x = K.placeholder((None, 4), name="x")
    y = K.placeholder((None, 2), name="y")
    w = K.variable(np.linspace(-1, 1, 8).reshape(4, 2), name="w")
    with provenance.origin("dense_1"):
        h = K.dot(x, w)
    loss = K.mean(K.categorical_crossentropy(y, K.softmax(h)))
    (g,) = K.gradients(loss, [w])
    return x, y, w, K.function([x, y], [loss], updates=[(w, w - 0.5 * g)], name="train", backend="numba")


def test_one_readable_module_with_one_entry_point():
    x, y, w, f = _mlp_step()
    src = f.source
    assert src.count("def step(") == 1 and src.count("@numba.njit(cache=True") == 1
    assert "# dense_1 / Einsum{ab,bd->ad} -> float32 (None, 2)" in src
    # the kernels are reached through their addresses: the step does not import (name) them
    assert "# Fused{" in src and "invoke(fns[" in src and "from symkeras_kernel_" not in src
    kernels = f.program.layout.kernel_sources
    assert kernels and all(k.count("def kernel(") == 1 for k in kernels)
    assert any("gemm_into(a0, a1, out)" in k for k in kernels)  # BLAS, in a kernel shared by every graph
    assert all("for function" not in k for k in kernels)
    assert any("for i0 in range(" in k for k in kernels)
    # the module file holds the same code (comments may name another graph's layers: they are not in the key)
    assert os.path.exists(f.program.path) and cache.code_of(open(f.program.path).read()) == cache.code_of(src)
    xs = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    ys = np.eye(2, dtype="float32")[np.arange(6) % 2]
    first = f([xs, ys])[0]
    later = [f([xs, ys])[0] for _ in range(5)]
    assert later[-1] < first  # the update ran inside the step


def test_compiled_training_matches_the_reference_step_by_step():
    x, y, w, f = _mlp_step()
    start = K.get_value(w)
    xs = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    ys = np.eye(2, dtype="float32")[np.arange(6) % 2]
    compiled = [f([xs, ys])[0] for _ in range(3)]
    compiled_w = K.get_value(w)
    K.set_value(w, start)
    ref = Function(f.inputs, f.outputs, updates=f.updates, backend="reference")
    reference = [ref([xs, ys])[0] for _ in range(3)]
    np.testing.assert_allclose(compiled, reference, rtol=1e-5)
    np.testing.assert_allclose(compiled_w, K.get_value(w), rtol=1e-5, atol=1e-6)


def test_a_missing_kernel_is_a_loud_error():
    class NoKernel(Op):
        nin = 1

        def infer(self, inputs):
            return inputs[0].dtype, inputs[0].shape

        def perform(self, inputs, rng=None):
            return inputs[0]

    x = placeholder((2,), name="x")
    try:
        with pytest.raises(NotImplementedError, match="no kernel for NoKernel"):
            Function([x], [NoKernel()(x)], backend="numba")
        assert Function([x], [NoKernel()(x)], backend="reference")([np.ones(2)])[0].tolist() == [1, 1]
    finally:
        from symkeras.graph.basic import OP_TYPES

        OP_TYPES.pop("NoKernel")


def test_debug_mode_names_the_first_bad_node(monkeypatch):
    x = K.placeholder((None, 3), name="x")
    f = K.function([x], [K.sum(K.tanh(x) * 2.0 + K.exp(x))], backend="numba")
    report = f.debug([np.ones((2, 3))])
    assert report.ok, report.message
    # a broken scalar kernel for tanh: debug mode must point at Tanh, not at what follows
    monkeypatch.setitem(scalar.SCALAR, ops.Tanh, lambda op, a, dt, out: f"np.sin({a[0]})")
    g = K.function([x], [K.sum(K.tanh(x) * 2.0 + K.exp(x))], backend="numba")
    report = g.debug([np.ones((2, 3))])
    assert not report.ok
    assert report.node.op.name == "Tanh"
    assert "differs from the reference" in report.message and "inputs of shapes (2, 3)" in report.message
    assert f"Tanh [id {report.label}]" in report.dump
    nan = K.function([x], [K.log(x) + 1.0], backend="numba").debug([np.array([[1.0, -1.0, 2.0]])])
    assert not nan.ok and nan.node.op.name == "Log" and "NaN/Inf" in nan.message
    with pytest.raises(ValueError, match="this one is the reference"):
        K.function([x], [x], backend="reference").debug([np.ones((1, 3))])


def test_dump_dir_gets_every_pass_the_rewrites_and_the_source(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMKERAS_DUMP_DIR", str(tmp_path))
    x = K.placeholder((None, 3), name="x")
    f = K.function([x], [K.mean(K.exp(x) * 1.0)], name="probe", backend="numba")
    (folder,) = os.listdir(tmp_path)
    assert folder.startswith("probe-")
    files = set(os.listdir(tmp_path / folder))
    assert {"00-input.txt", "00-input.dot", "11-fusion.txt", "11-fusion.dot", "rewrites.txt", "source.py"} <= files
    assert "simplify: neutral_element x1" in (tmp_path / folder / "rewrites.txt").read_text()
    assert (tmp_path / folder / "source.py").read_text() == f.source
    assert "Mul" in (tmp_path / folder / "00-input.txt").read_text()
    assert "Fused{Exp->Sum" in (tmp_path / folder / "11-fusion.txt").read_text()


def test_no_optimization_mode_and_excluded_passes_still_compile():
    x = K.placeholder((None, 3), name="x")
    out = K.sum(K.exp(x) * 1.0 + 0.0, axis=1)
    value = np.arange(6, dtype="float32").reshape(2, 3)
    want = np.exp(value).sum(1)
    plain = Function([x], [out], backend="numba", mode="none")
    assert len(plain.optimized_graph.nodes) == len(plain.graph.nodes) and plain.rewrites == ""
    np.testing.assert_allclose(plain([value])[0], want, rtol=1e-6)
    unfused = Function([x], [out], backend="numba", exclude=("fusion",))
    assert "Fused" not in unfused.source
    np.testing.assert_allclose(unfused([value])[0], want, rtol=1e-6)


def test_outputs_never_alias_variables_and_read_values_before_updates():
    v = K.variable(np.array([1.0, 2.0]), name="v")
    f = K.function([], [v, K.transpose(v)], updates=[(v, v * 10)], backend="numba")
    before, view = f([])
    np.testing.assert_array_equal(before, [1, 2])
    np.testing.assert_array_equal(view, [1, 2])
    before[0] = 99
    np.testing.assert_array_equal(K.get_value(v), [10, 20])


def test_in_place_plan_for_updates_and_dying_temporaries():
    from symkeras.codegen.numba.memory import plan_in_place

    x = K.placeholder((None, 3), name="x")
    w = K.variable(np.ones((3, 3)), name="w")
    m = K.variable(np.zeros((3, 3)), name="m")
    loss = K.sum(K.square(K.dot(x, w)))
    (g,) = K.gradients(loss, [w])
    new_m = 0.9 * m + g
    f = K.function([x], [loss], updates=[(m, new_m), (w, w - 0.1 * new_m)], backend="numba")
    returns_m = K.function([x], [loss, m], updates=[(m, new_m)], backend="numba")
    assert "writes into the buffer of v" not in returns_m.source  # m is an output: it must stay intact
    plan = plan_in_place(f.optimized_graph, f.optimized_graph.outputs[:1],
                         list(zip([m, w], f.optimized_graph.outputs[1:])))
    # (new m and new w are one kernel with two results: a tuple of buffers)
    dests = [d for dest in plan.values() for d in (dest if isinstance(dest, tuple) else (dest,))]
    targets = {dest.name for dest in dests if dest is not None and dest.kind == "variable"}
    # old m is read only by the kernel computing new m, which may then live in m's buffer
    assert targets == {"m", "w"}
    assert "into the buffer of v" in f.source
    xs = np.arange(6, dtype="float32").reshape(2, 3) / 10
    reference = Function(f.inputs, f.outputs, updates=f.updates, backend="reference")
    w0, m0 = K.get_value(w), K.get_value(m)
    f([xs])
    w1, m1 = K.get_value(w), K.get_value(m)
    K.set_value(w, w0)
    K.set_value(m, m0)
    reference([xs])
    np.testing.assert_allclose(w1, K.get_value(w), rtol=1e-6)
    np.testing.assert_allclose(m1, K.get_value(m), rtol=1e-6)


def test_a_kernel_writing_into_its_input_uses_one_name_for_the_buffer():
    """An in-place update reads and writes through the same parameter: with two names for one buffer,
    LLVM's run-time alias check fails and the loop runs unvectorized (7x slower for RMSprop)."""
    g = K.placeholder((4, 5), name="g")
    w = K.variable(np.linspace(0.5, 2, 20).reshape(4, 5), name="w")
    a = K.variable(np.full((4, 5), 0.25), name="a")
    new_a = 0.9 * a + 0.1 * K.square(g)
    updates = [(a, new_a), (w, w - 0.01 * g / (K.sqrt(new_a) + 1e-7))]
    f = K.function([g], [K.sum(g)], updates=updates, backend="numba")
    # new a and new w: one kernel (a FusedGroup) writing each through the parameter it reads the variable by
    (src,) = [src for src in f.program.layout.kernel_sources if "for i in range(out0.size):" in src]
    assert "dest" not in src and "d0" not in src
    assert re.search(r"\n    out0 = a\d+\n", src) and re.search(r"\n    out1 = a\d+\n", src), src
    data = np.linspace(-1, 1, 20, dtype="float32").reshape(4, 5)
    reference = Function(f.inputs, f.outputs, updates=f.updates, backend="reference")
    start = K.batch_get_value([w, a])
    f([data])
    compiled = K.batch_get_value([w, a])
    K.batch_set_value(zip([w, a], start))
    reference([data])
    for got, want in zip(compiled, K.batch_get_value([w, a])):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_one_update_kernel_serves_parameters_of_every_shape():
    x = K.placeholder((None, 3), name="x")
    w = K.variable(np.linspace(-1, 1, 6).reshape(3, 2), name="w")
    b = K.variable(np.array([0.5, -0.5]), name="b")
    loss = K.mean(K.square(K.bias_add(K.dot(x, w), b)))
    gw, gb = K.gradients(loss, [w, b])
    f = K.function([x], [loss], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], name="sgd_shapes")
    layout = f.program.layout
    update_kernels = [i for i, src in enumerate(layout.kernel_sources) if "for i in range(out.size):" in src]
    assert len(update_kernels) == 1  # the same rule for a matrix and a vector: one kernel ...
    (slot_types,) = [layout.kernel_signatures[i] for i in update_kernels]
    assert len(slot_types) == 1  # ... compiled once: it sees both parameters raveled
    # the step hands each parameter over as a 1-D view and gets the result back in its shape
    assert f.source.count("invoke_flat(") == 2 and ".ravel()" not in f.source and ".reshape((3, 2))" not in f.source
    xs = np.linspace(0, 1, 12, dtype="float32").reshape(4, 3)
    ref = K.function([x], [loss], updates=[(w, w - 0.1 * gw), (b, b - 0.1 * gb)], backend="reference")
    start = (K.get_value(w), K.get_value(b))
    f([xs])
    compiled = (K.get_value(w), K.get_value(b))
    K.set_value(w, start[0])
    K.set_value(b, start[1])
    ref([xs])
    np.testing.assert_allclose(compiled[0], K.get_value(w), rtol=1e-6)
    np.testing.assert_allclose(compiled[1], K.get_value(b), rtol=1e-6)


def test_layers_of_every_width_share_one_flat_activation_kernel():
    def activation(shape):
        x = K.placeholder((None, *shape), name="x")
        return K.function([x], [K.relu(x) * K.tanh(x) + 1.0], name="activation")

    small, other = activation((6, 6, 4)), activation((5, 5, 8))
    assert "invoke_flat(" in small.source and "invoke_flat(" in other.source
    assert set(small.program.layout.kernel_sources) == set(other.program.layout.kernel_sources)
    rng = np.random.default_rng(0)
    for f, shape in ((small, (3, 6, 6, 4)), (other, (1, 5, 5, 8))):
        xs = rng.standard_normal(shape).astype("float32")
        np.testing.assert_allclose(f([xs])[0], np.maximum(xs, 0) * np.tanh(xs) + 1.0, rtol=1e-6)
    big = activation((16, 16, 64))  # samples large enough to share the elements out over threads
    xs = rng.standard_normal((3, 16, 16, 64)).astype("float32")
    np.testing.assert_allclose(big([xs])[0], np.maximum(xs, 0) * np.tanh(xs) + 1.0, rtol=1e-6)


def test_batches_not_provably_equal_broadcast_as_numpy_does():
    x = K.placeholder((None, 3), name="x")
    y = K.placeholder((None, 3), name="y")
    f = K.function([x, y], [K.exp(x) * y])
    assert "invoke_flat(" not in f.source  # two feeds: nothing says their batches match
    xs = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
    ys = np.array([[1.0, 2.0, 3.0]], dtype="float32")
    np.testing.assert_allclose(f([xs, ys])[0], np.exp(xs) * ys, rtol=1e-6)
    np.testing.assert_allclose(f([ys, xs])[0], np.exp(ys) * xs, rtol=1e-6)


def test_a_kernel_writes_into_a_buffer_nothing_reads_any_more():
    from symkeras.codegen.numba.memory import plan_in_place

    x = K.placeholder((None, 3), name="x")
    w = K.variable(np.linspace(-1, 1, 9).reshape(3, 3), name="w")
    hidden = K.dot(K.exp(x), w)  # exp(x) is read by the product alone
    out = K.tanh(hidden) * x  # neither input dies here (both are outputs or inputs)
    f = K.function([x], [hidden, out], backend="numba")
    graph = f.optimized_graph
    plan = plan_in_place(graph, graph.outputs, [])
    (node,) = [n for n in graph.nodes if n.out is graph.outputs[1]]
    assert str(plan[node].owner.op) == "Fused{Exp}"
    assert "(no longer read)" in f.source
    xs = np.linspace(-1, 1, 12, dtype="float32").reshape(4, 3)
    reference = Function(f.inputs, f.outputs, backend="reference")
    for _ in range(2):
        for got, want in zip(f([xs]), reference([xs])):
            np.testing.assert_allclose(got, want, rtol=1e-6)


def test_random_draws_differing_only_in_seed_share_one_kernel():
    x = K.placeholder((None, 6), name="x")
    outs = [K.dropout(x, 0.5, seed=11), K.dropout(x, 0.5, seed=12), K.random_normal((3, 6), seed=2**63 + 5)]
    f = K.function([x], outs, backend="numba")
    draws = [src for src in f.program.layout.kernel_sources if "key0[0] += 1" in src]
    assert len(draws) == 2  # one for both dropout masks (their seed is data), one for the normal draw
    reference = Function(f.inputs, f.outputs, backend="reference")
    xs = np.ones((4, 6), dtype="float32")
    for _ in range(2):  # each call draws anew, in both backends alike
        got, want = f([xs]), reference([xs])
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-6)
        assert not np.array_equal(got[0], got[1])


def test_a_view_that_no_longer_is_read_does_not_free_the_memory_it_shares():
    from symkeras.codegen.numba.memory import plan_in_place
    from symkeras.graph import Graph, ops
    from symkeras.graph.basic import placeholder

    x = placeholder((None, 3), name="x")
    e = ops.exp(x)
    alias = ops.Identity()(e)  # the same memory as e
    doubled = alias * 2.0  # the alias is read for the last time here, e is still read below
    root = ops.sqrt(x)
    total = e + root
    graph = Graph([x], [doubled, total])
    plan = plan_in_place(graph, graph.outputs, [])
    (node,) = [n for n in graph.nodes if n.out is root]
    assert plan.get(node) is None  # writing root into alias's buffer would overwrite e
    f = Function([x], [doubled, total], backend="numba", exclude=("fusion",))
    xs = np.linspace(0.1, 1, 6, dtype="float32").reshape(2, 3)
    got = f([xs])
    np.testing.assert_allclose(got[0], np.exp(xs) * 2, rtol=1e-6)
    np.testing.assert_allclose(got[1], np.exp(xs) + np.sqrt(xs), rtol=1e-6)


def test_reductions_over_inner_axes_accumulate_locally_and_float_sums_reassociate():
    g = K.placeholder((300, 70), name="g")
    f = K.function([g], [K.sum(K.square(g)), K.mean(g, axis=1), K.max(g, axis=-1), K.sum(g, axis=0)],
                   backend="numba")
    sources = f.program.layout.kernel_sources
    reassociating = [s for s in sources if "fastmath={'reassoc'}" in s]
    # the full and the per-row sums (the mean's) accumulate in a register and may be reassociated;
    # the max accumulates locally without reassociation; the column sum writes each output in turn
    assert len(reassociating) == 2 and all("acc += " in s for s in reassociating)
    assert any("acc = (acc if" in s and "reassoc" not in s for s in sources)
    data = np.random.default_rng(0).normal(size=(300, 70)).astype("float32")
    total, means, maxima, columns = f([data])
    np.testing.assert_allclose(total, (data.astype("float64") ** 2).sum(), rtol=1e-6)
    np.testing.assert_allclose(means, data.mean(1), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(maxima, data.max(-1))
    np.testing.assert_allclose(columns, data.sum(0), rtol=1e-5, atol=1e-6)
    nan_row = data.copy()
    nan_row[3, 5] = np.nan
    total, means, maxima, _ = f([nan_row])  # NaN still propagates: only reassociation is allowed
    assert np.isnan(total) and np.isnan(means[3]) and np.isnan(maxima[3]) and not np.isnan(means[4])


def test_large_samples_are_shared_out_over_threads_with_the_reference_values():
    """Elementwise nests, poolings and sums over the batch of large samples (>= loops.SPLIT_ELEMENTS elements
    each) share their batch axis out over the threads when there are threads (launch.py); values match the
    reference either way (overlapping windows too, whose gradients add up within one sample; the sums, with
    partial sums per part)."""
    from symkeras.codegen.numba import threads
    from symkeras.codegen.numba.loops import SPLIT_ELEMENTS
    from symkeras.codegen.reference import evaluate

    x = K.placeholder((None, 16, 16, 32), name="x")
    assert 16 * 16 * 32 >= SPLIT_ELEMENTS
    b = K.variable(np.linspace(-0.5, 0.5, 32), name="b")
    h = K.relu(x + b)
    pooled = [K.pool2d(h, (2, 2), strides=(2, 2)), K.pool2d(h, (3, 3), strides=(1, 1), padding="same"),
              K.pool2d(h, (2, 2), strides=(2, 2), pool_mode="avg"),
              K.pool2d(h, (3, 3), strides=(2, 2), padding="same", pool_mode="avg")]
    loss = sum(K.sum(K.square(p)) for p in pooled)
    sums = [K.sum(h, axis=0), K.sum(h * 2.0, axis=(0, 1, 2), keepdims=True)]  # split into partial sums
    outputs = [h, *pooled, *sums, *K.gradients(loss, [x, b])]
    f = K.function([x], outputs, backend="numba")
    data = np.random.default_rng(3).normal(size=(5, 16, 16, 32)).astype("float32")
    for got, want, t in zip(f([data]), evaluate(outputs, {x: data}), outputs):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5, err_msg=repr(t))
    sources = f.program.layout.kernel_sources
    if threads.parts() > 1:  # CI's 2 cores: the relu, its gradient, six pooling kernels and three sums
        # each splits through the shared launcher (launch.py), the one module with a parallel loop
        parallel = [s for s in sources if "numba.prange" in s]
        assert len(parallel) == 1 and "'prange': True" in parallel[0] and "def kernel(body_, block_)" in parallel[0]
        assert any("invoke(body" in s and "LAUNCH" in s for s in sources)
        bodies = [s for s in sources if "def kernel(part_, block_)" in s]  # kernels may share their text
        assert len(bodies) >= 11 and sum("_parts[t, " in s for s in bodies) >= 3
    else:
        assert not any("'prange': True" in s for s in f.program.layout.kernel_sources)


def test_convolutions_of_one_window_share_their_kernels_across_layers():
    """Two 3x3 valid convolutions with different channels and image sizes compile one forward, one
    kernel-gradient and one input-gradient kernel between them, and each computes its own values."""
    from symkeras.codegen.reference import evaluate

    x = K.placeholder((None, 9, 9, 2), name="x")
    w1 = K.variable(np.linspace(-1, 1, 3 * 3 * 2 * 4).reshape(3, 3, 2, 4), name="w1")
    w2 = K.variable(np.linspace(1, -1, 3 * 3 * 4 * 5).reshape(3, 3, 4, 5), name="w2")
    y = K.conv2d(K.conv2d(x, w1), w2)
    loss = K.sum(K.square(y))
    outputs = [y, *K.gradients(loss, [x, w1, w2])]
    f = K.function([x], outputs, backend="numba")
    data = np.random.default_rng(4).normal(size=(3, 9, 9, 2)).astype("float32")
    for got, want in zip(f([data]), evaluate(outputs, {x: data})):  # float32 sums of terms up to ~1e3
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6 * np.abs(want).max())
    conv_kernels = [s for s in f.program.layout.kernel_sources if "|= gemm_into(" in s]  # (or their bodies)
    assert len(conv_kernels) == 3  # forward (both layers), kernel gradient (both), input gradient (the 2nd)


def test_parallel_convolutions_call_their_loop_bodies_through_addresses():
    """With threads to share out, a convolution kernel's parts run its body, a serial kernel of its own,
    through the shared launcher, both reached through addresses the step passes (parts.py, launch.py);
    values match the reference, a scalar (0-d) epilogue operand included, and the step compiles with every
    kernel type foreseen."""
    from symkeras.codegen.numba import threads
    from symkeras.codegen.reference import evaluate

    x = K.placeholder((None, 6, 6, 3), name="x")
    w = K.variable(np.linspace(-1, 1, 3 * 3 * 3 * 4).reshape(3, 3, 3, 4), name="w")
    y = K.relu(K.conv2d(x, w) * 0.5)  # the scale is a 0-d constant the convolution's epilogue reads
    outputs = [y, *K.gradients(K.sum(K.square(y)), [x, w])]
    f = K.function([x], outputs, backend="numba")
    data = np.random.default_rng(5).normal(size=(5, 6, 6, 3)).astype("float32")
    for got, want in zip(f([data]), evaluate(outputs, {x: data})):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6 * np.abs(want).max())
    sources = f.program.layout.kernel_sources
    bodies = [s for s in sources if "|= gemm_into(" in s]
    callers = [s for s in sources if "invoke(body0[1], LAUNCH" in s]
    if threads.parts() > 1:  # CI's 2 cores: the parts run by the shared launcher (launch.py)
        assert len(bodies) == len(callers) == 3
        assert all("def kernel(part, block_)" in s for s in bodies)
        assert [s for s in sources if "'prange': True" in s] == [s for s in sources if "def kernel(body_, block_)" in s]
        assert not any("'prange': True" in s for s in bodies + callers)
    else:
        assert len(bodies) == 3 and not callers


def test_graphs_differing_only_in_their_kernels_share_one_step_module():
    """Two models whose steps differ only in the sizes their kernels loop over (layer widths) compile one
    step module: the step names no kernel, it calls them through the addresses it is given (defect 9:
    memory per distinct model, 1.75 -> 0.6 MB warm)."""
    from symkeras.layers import Dense
    from symkeras.models import Sequential

    steps = set()
    for width in (5, 6):
        model = Sequential([Dense(width, activation="relu", input_shape=(3,)), Dense(2)])
        model.compile("adam", "mse")
        model.train_on_batch(np.ones((4, 3), "float32"), np.zeros((4, 2), "float32"))
        steps.add(model.train_function.program.path)
        x = np.arange(6, dtype="float32").reshape(2, 3)
        w1, b1, w2, b2 = model.get_weights()
        np.testing.assert_allclose(model.predict(x), np.maximum(x @ w1 + b1, 0) @ w2 + b2, rtol=1e-5, atol=1e-6)
    assert len(steps) == 1


def test_dense_layers_of_different_widths_share_their_kernels():
    """A (batch, features) kernel reads its feature count from its arguments (loops.SHARED_WIDTH), so
    models that differ only in a Dense layer's width compile no kernel of their own (defect 9: memory per
    distinct model); each still computes its own values."""
    from symkeras.codegen.reference import evaluate

    sources = []
    for width in (24, 40):
        x = K.placeholder((None, width), name="x")
        b = K.variable(np.linspace(-1, 1, width), name="b")
        y = K.relu(x + b)
        outputs = [y, *K.gradients(K.sum(K.square(y)), [x, b])]
        f = K.function([x], outputs, backend="numba")
        data = np.random.default_rng(width).normal(size=(3, width)).astype("float32")
        for got, want in zip(f([data]), evaluate(outputs, {x: data})):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
        sources.append(set(f.program.layout.kernel_sources))
    assert sources[0] == sources[1]
