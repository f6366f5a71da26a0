"""The program cache: a graph built again runs the program kept for it, with its own seeds, leaves and names."""

import json
import os

import numpy as np

import symkeras.backend as K
from symkeras.codegen import cache, program_cache
from symkeras.graph.basic import Op
from symkeras.graph.fgraph import Graph
from symkeras.layers import Dense, Dropout
from symkeras.models import Sequential

X = np.linspace(-1, 1, 24, dtype="float32").reshape(6, 4)
Y = np.eye(3, dtype="float32")[np.arange(6) % 3]


def _train_step(seed=1, backend=None, scale=0.1):
    """A small training step: Dense, Dropout (seed ``seed``), softmax cross-entropy, SGD with momentum."""
    x = K.placeholder((None, 4), name="x")
    y = K.placeholder((None, 3), name="y")
    w = K.variable(np.linspace(-1, 1, 12).reshape(4, 3), name="w")
    velocity = K.zeros((4, 3))
    steps = K.variable(0.0)
    h = K.dropout(K.dot(x, w), 0.5, seed=seed)
    loss = K.mean(K.categorical_crossentropy(y, K.softmax(h)))
    (g,) = K.gradients(loss, [w])
    new_velocity = 0.9 * velocity - scale * g
    # an update whose new value reads nothing of its variable: the variable is no leaf of the graph
    updates = [(velocity, new_velocity), (w, w + new_velocity), (steps, K.constant(2.0) * K.constant(3.0))]
    f = K.function([x, y], [loss, h], updates=updates, name="program_probe", backend=backend)
    return f, [w, velocity, steps]


def _run(f, variables, calls=3):
    outputs = [[np.array(o) for o in f([X, Y])] for _ in range(calls)]
    return outputs, [K.get_value(v) for v in variables]


def test_a_graph_built_again_runs_the_kept_program_with_its_own_variables():
    first, first_vars = _train_step()
    again, again_vars = _train_step()
    assert again.program.stats.get("restored") and again.program_key == first.program_key
    assert set(again.program.layout.variables) == set(again_vars)
    want, want_vars = _run(first, first_vars)
    got, got_vars = _run(again, again_vars)
    reference, reference_vars = _run(*_train_step(backend="reference"))
    for g, w, r in zip(got, want, reference):
        for a, b, c in zip(g, w, r):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
    for a, b, c in zip(got_vars, want_vars, reference_vars):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=1e-6)
    assert float(got_vars[2]) == 6.0  # the folded constant's update
    # what the rewrites made is there when asked for
    assert again.rewrite_seconds == 0.0 and again.optimized_graph.nodes and again.rewrite_seconds > 0


def test_a_restored_program_draws_with_the_seeds_of_its_own_graph():
    seeded_1, _ = _train_step(seed=1)
    seeded_2, variables = _train_step(seed=2)
    assert seeded_2.program.stats.get("restored") and seeded_2.program_key == seeded_1.program_key
    masks_1 = seeded_1([X, Y])[1] != 0
    masks_2 = seeded_2([X, Y])[1] != 0
    reference = _train_step(seed=2, backend="reference")[0]
    np.testing.assert_array_equal(masks_2, reference([X, Y])[1] != 0)
    assert (masks_1 != masks_2).any()


def _key(outputs, inputs):
    graph = Graph(inputs, outputs)
    form = program_cache.canonical(graph, inputs, outputs, [], "options", "context")
    return None if form is None else form.key


def test_keys_follow_structure_constants_and_which_nodes_share_a_seed():
    x = K.placeholder((None, 3))
    assert _key([x * 2.0 + 1.0], [x]) == _key([x * 2.0 + 1.0], [x])
    assert _key([x * 2.0 + 1.0], [x]) != _key([x * 2.0 + 2.0], [x])  # a constant's value
    assert _key([x * 2.0], [x]) != _key([x + 2.0], [x])
    unread = K.placeholder((None, 3))
    assert _key([x * 2.0], [x]) != _key([x * 2.0], [x, unread])  # an input no output reads is still one
    wider = K.placeholder((None, 4))
    assert _key([K.exp(x)], [x]) != _key([K.exp(wider)], [wider])  # a leaf's shape

    def two_dropouts(a, b):
        return [K.dropout(x, 0.5, seed=a) + K.dropout(x, 0.5, seed=b)]

    assert _key(two_dropouts(1, 2), [x]) == _key(two_dropouts(7, 9), [x])  # seeds left out
    assert _key(two_dropouts(1, 1), [x]) != _key(two_dropouts(1, 2), [x])  # sharing one is not
    graph = Graph([x], [x * 2.0])
    assert program_cache.canonical(graph, [x], graph.outputs, [], "options", None) is None  # backend keeps none


class Doubled(Op):
    """An op from outside symkeras: its code is not in the key, so no graph holding it is cached."""

    nin = 1

    def infer(self, inputs):
        return inputs[0].dtype, inputs[0].shape

    def perform(self, inputs, call=0):
        return inputs[0] * 2


def test_graphs_with_ops_from_elsewhere_are_not_cached():
    x = K.placeholder((None, 3))
    assert _key([Doubled()(x)], [x]) is None
    assert _key([x * 2.0], [x]) is not None


def test_a_damaged_entry_is_compiled_again_and_written_anew():
    first, _ = _train_step()
    path = os.path.join(cache.cache_dir(), f"{program_cache.PREFIX}{first.program_key}.json")
    with open(path) as fh:
        entry = json.load(fh)
    entry["payload"]["variables"] = [0]  # changed: its checksum no longer matches
    with open(path, "w") as fh:
        json.dump(entry, fh)
    again, variables = _train_step()
    assert not again.program.stats.get("restored")
    got, got_vars = _run(again, variables)
    want, want_vars = _run(*_train_step(backend="reference"))
    np.testing.assert_allclose(got_vars[0], want_vars[0], rtol=1e-5, atol=1e-6)
    assert program_cache.load(first.program_key) is not None  # written again, whole
    with open(path, "w") as fh:
        fh.write("{not json")
    assert program_cache.load(first.program_key) is None and not os.path.exists(path)


def _model(name):
    model = Sequential([Dense(5, activation="relu", input_shape=(4,), name=f"{name}_hidden"), Dropout(0.3, seed=3),
                        Dense(3, activation="softmax", name=f"{name}_scores")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def test_a_restored_keras_program_trains_alike_and_names_its_own_layers():
    first, second = _model("first"), _model("second")
    second.set_weights(first.get_weights())
    for _ in range(2):
        assert float(first.train_on_batch(X, Y)) == float(second.train_on_batch(X, Y))
    assert second.train_function.program.stats.get("restored")
    assert second.train_function.program_key == first.train_function.program_key
    for a, b in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert "# second_hidden" in second.train_function.source and "first_hidden" not in second.train_function.source


def test_a_kernel_from_elsewhere_for_a_symkeras_op_turns_the_cache_off():
    from symkeras.codegen.registry import KernelRegistry
    from symkeras.graph.ops.elemwise import Exp

    registry = KernelRegistry("probe")
    registry.register(Doubled)(lambda em, node: None)  # an op of its own, with its own kernel: no matter
    assert registry.is_own()
    registry.register(Exp)(lambda em, node: None)  # would change what symkeras's own graphs compile to
    assert not registry.is_own()
