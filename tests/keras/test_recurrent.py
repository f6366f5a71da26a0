"""Recurrent layers beyond the fixtures: initial states (and their gradients), constants, custom cells,
masks carried through layers, dropout masks drawn outside the loop, Keras 1 spellings, saving, bad input."""

import os
import warnings

import numpy as np
import pytest

import symkeras.backend as K
from symkeras import layers
from symkeras.engine.base_layer import Layer
from symkeras.graph import ops
from symkeras.graph.fgraph import Graph, clone_tensors
from symkeras.layers import GRU, LSTM, RNN, Dense, Embedding, Input, SimpleRNN
from symkeras.models import Model, Sequential, load_model, model_from_json
from symkeras.testing.gradcheck import verify_grad


def test_initial_state_as_a_call_argument_sets_where_the_loop_starts(backend, rng):
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    h0 = rng.normal(size=(2, 5)).astype("float32")
    inputs, state = Input((4, 3)), Input((5,))
    layer = SimpleRNN(5, return_sequences=True)
    model = Model([inputs, state], layer(inputs, initial_state=state))
    kernel, recurrent, bias = layer.get_weights()
    h, expected = h0, []
    for t in range(4):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        expected.append(h)
    np.testing.assert_allclose(model.predict([x, h0]), np.stack(expected, 1), rtol=1e-5, atol=1e-6)


def test_gradients_with_respect_to_initial_states_match_finite_differences(rng):
    K.set_floatx("float64")
    inputs, h0, c0 = Input((3, 2)), Input((2,)), Input((2,))
    layer = LSTM(2, return_sequences=True)
    output = layer(inputs, initial_state=[h0, c0])
    weights = layer.trainable_weights
    points = [rng.normal(size=(2, 3, 2)), rng.normal(size=(2, 2)), rng.normal(size=(2, 2))]
    points += [K.get_value(w) for w in weights]

    def rebuilt(*tensors):
        return clone_tensors([output], dict(zip([inputs, h0, c0] + weights, tensors)))[output]

    verify_grad(rebuilt, points, rng=np.random.default_rng(1))


class MinimalRNNCell(Layer):
    """The custom cell of Keras 2's RNN documentation."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units), initializer="uniform")
        self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.units, self.units),
                                                initializer="uniform")
        self.built = True

    def call(self, inputs, states):
        prev_output = states[0]
        h = K.dot(inputs, self.kernel)
        output = h + K.dot(prev_output, self.recurrent_kernel)
        return output, [output]


def test_a_custom_cell_from_keras_documentation_runs_and_trains(backend, rng):
    cell = MinimalRNNCell(4)
    x = Input((None, 5))
    y = RNN(cell)(x)
    model = Model(x, y)
    model.compile("sgd", "mse")
    data = rng.normal(size=(6, 3, 5)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    model.fit(data, np.zeros((6, 4), "float32"), verbose=0)
    assert model.predict(data).shape == (6, 4)
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))
    # stacked custom cells
    stacked = Model(x, RNN([MinimalRNNCell(3), MinimalRNNCell(2)])(x))
    assert stacked.predict(data).shape == (6, 2)


class ConstantCell(Layer):
    """A cell adding a per-sample constant (given through ``constants``) at each step."""

    state_size = 3

    def call(self, inputs, states, constants):
        output = states[0] + inputs[:, :3] + constants[0]
        return output, [output]


def test_constants_reach_every_step(backend, rng):
    x, c = Input((4, 3)), Input((3,))
    model = Model([x, c], RNN(ConstantCell())(x, constants=c))
    data, offset = rng.normal(size=(2, 4, 3)).astype("float32"), rng.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(model.predict([data, offset]), data.sum(1) + 4 * offset, rtol=1e-5, atol=1e-5)


def test_masks_flow_from_embedding_through_recurrent_layers(backend):
    model = Sequential([Embedding(10, 3, mask_zero=True, input_length=5), LSTM(4, return_sequences=True), GRU(2)])
    assert model.layers[1].output._keras_mask is not None
    padded = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])
    # masked steps keep the states: the padding does not change the last output
    shorter = Sequential([Embedding(10, 3, input_length=3), LSTM(4, return_sequences=True), GRU(2)])
    shorter.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(padded)[0], shorter.predict(padded[:, :3])[0], rtol=1e-5, atol=1e-6)


def test_dropout_masks_are_drawn_before_the_loop_and_fixed_over_time():
    x = Input((5, 3))
    layer = LSTM(4, dropout=0.5, recurrent_dropout=0.5)
    out = layer(x, training=True)
    graph = Graph([x], [out], allow_missing=True)
    loops = [n for n in graph.nodes if isinstance(n.op, ops.Loop)]
    assert len(loops) == 1
    assert not any(n.op.is_random for n in loops[0].op.step.nodes)
    assert sum(n.op.is_random for n in graph.nodes) == 2  # one mask for the inputs, one for the state


def test_dropout_is_active_in_training_only(backend, rng):
    model = Sequential([SimpleRNN(4, dropout=0.5, recurrent_dropout=0.5, input_shape=(3, 2))])
    data = rng.normal(size=(16, 3, 2)).astype("float32")
    inference = model.predict(data)
    np.testing.assert_array_equal(inference, model.predict(data))
    train = K.function([model.input, K.learning_phase()], [model.output])
    assert np.abs(train([data, 1])[0] - inference).max() > 1e-3


def test_keras1_spellings_warn_and_work():
    with pytest.warns(DeprecationWarning, match="`output_dim` is deprecated; use `units`"):
        layer = LSTM(output_dim=3, input_length=4, input_dim=2)
    assert layer.units == 3 and layer.batch_input_shape == (None, 4, 2)
    with pytest.warns(DeprecationWarning) as record:
        layer = GRU(2, dropout_W=0.2, dropout_U=0.1)
    assert (layer.dropout, layer.recurrent_dropout) == (0.2, 0.1)
    assert sorted(str(w.message).split(":")[1].split(" is")[0] for w in record) == \
        [" the argument `dropout_U`", " the argument `dropout_W`"]
    with pytest.warns(DeprecationWarning, match="`consume_less` is deprecated; use `implementation=2`"):
        layer = LSTM(2, consume_less="gpu")
    assert layer.implementation == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LSTM(2, input_shape=(3, 2), implementation=2)


def test_models_with_recurrent_layers_save_and_load(tmp_path, rng):
    model = Sequential([Embedding(20, 4, mask_zero=True, input_length=6),
                        layers.Bidirectional(LSTM(3, return_sequences=True)),
                        layers.TimeDistributed(Dense(2)), GRU(3, reset_after=False), Dense(1)])
    model.compile("adam", "mse")
    x, y = rng.integers(0, 20, size=(8, 6)), rng.normal(size=(8, 1))
    model.fit(x, y, verbose=0)
    path = os.path.join(tmp_path, "model.h5")
    model.save(path)
    np.testing.assert_array_equal(load_model(path).predict(x), model.predict(x))
    again = model_from_json(model.to_json())
    again.set_weights(model.get_weights())
    np.testing.assert_array_equal(again.predict(x), model.predict(x))


@pytest.mark.parametrize("make, message", [
    (lambda: Sequential([LSTM(2, input_shape=(3,))]), "expects a sequence input"),
    (lambda: Sequential([LSTM(2, stateful=True, input_shape=(3, 2))]), "needs to know its batch size"),
    (lambda: Sequential([LSTM(2, unroll=True, input_shape=(None, 2))]), "cannot unroll a RNN"),
    (lambda: LSTM(0), "units must be a positive integer"),
    (lambda: GRU(2, dropout=1.5), "dropout must be between 0 and 1"),
    (lambda: layers.Bidirectional(LSTM(2), merge_mode="max"), "Invalid merge mode"),
    (lambda: layers.Bidirectional(Dense(2)), "needs a recurrent layer"),
    (lambda: layers.TimeDistributed(Dense(2))(Input((3,))), "needs an input of rank 3 or more"),
])
def test_bad_layers_and_inputs_raise_clear_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_initial_states_of_the_wrong_count_or_shape_are_refused():
    x = Input((3, 2))
    with pytest.raises(ValueError, match="has 2 states but was passed 1 initial states"):
        LSTM(4)(x, initial_state=[Input((4,))])
    with pytest.raises(ValueError, match=r"initial state 0 should have shape \(samples, 4\)"):
        SimpleRNN(4)(x, initial_state=[Input((5,))])


def test_a_stateful_model_fed_another_batch_size_raises_and_keeps_its_states(rng):
    model = Sequential([LSTM(3, stateful=True, batch_input_shape=(4, 2, 2)), Dense(1)])
    model.compile("sgd", "mse")
    model.predict(rng.normal(size=(4, 2, 2)), batch_size=4)
    states = [K.get_value(s).copy() for s in model.layers[0].states]
    weights = model.get_weights()
    bad = rng.normal(size=(6, 2, 2))
    with pytest.raises(ValueError, match=r"stateful layer\(s\) lstm_\d+ keep states for batches of 4 samples"):
        model.fit(bad, np.zeros((6, 1)), batch_size=4, verbose=0)
    with pytest.raises(ValueError, match="got batch_size=2"):
        model.predict(bad[:4], batch_size=2)
    with pytest.raises(ValueError, match="keep states for batches of 4 samples"):
        model.train_on_batch(bad[:2], np.zeros((2, 1)))
    for before, state in zip(states, model.layers[0].states):
        np.testing.assert_array_equal(before, K.get_value(state))
    for before, after in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_reset_states_to_given_values_checks_their_shapes():
    model = Sequential([SimpleRNN(3, stateful=True, batch_input_shape=(2, 4, 1))])
    layer = model.layers[0]
    layer.reset_states([np.ones((2, 3))])
    np.testing.assert_array_equal(K.get_value(layer.states[0]), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"expected shape=\(2, 3\), found shape=\(3, 3\)"):
        layer.reset_states([np.ones((3, 3))])
    with pytest.raises(AttributeError, match="Layer must be stateful"):
        SimpleRNN(2).reset_states()


@pytest.mark.parametrize("cell, most", [(LSTM, 3), (GRU, 4)])
def test_each_time_step_of_the_training_loops_runs_few_elementwise_kernels(cell, most):
    """The gate arithmetic of a step, forward and reverse, is one or two kernels per step (step_groups), not
    one per gate: each kernel call and result allocation is paid at every time step."""
    from symkeras.graph.ops.fused import Fused, FusedGroup
    from symkeras.graph.ops.loop import Loop

    model = Sequential([cell(8, input_shape=(5, 3)), Dense(1)])
    model.compile("rmsprop", "mse")
    model.train_on_batch(np.zeros((4, 5, 3), "float32"), np.zeros((4, 1), "float32"))
    loops = [n.op for n in model.train_function.optimized_graph.nodes if isinstance(n.op, Loop)]
    assert len(loops) == 2
    for loop in loops:
        elementwise = [n for n in loop.step.nodes if isinstance(n.op, Fused | FusedGroup)]
        assert len(elementwise) <= most, [str(n.op) for n in elementwise]


def test_the_reverse_step_reads_the_recurrent_kernel_transposed_once_before_its_loop():
    """dz U^T at every reverse step multiplies by U transposed: the loop kernel makes that C-ordered copy
    once, before the loop; the forward step's h U reads U as it is."""
    from symkeras.codegen.numba.kernels_loop import _read_transposed
    from symkeras.graph.ops.loop import Loop

    model = Sequential([LSTM(6, input_shape=(4, 3)), Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.random.default_rng(3).normal(size=(5, 4, 3)).astype("float32"), np.ones((5, 1), "float32")
    before = model.get_weights()
    model.train_on_batch(x, y)
    loops = {n.op.backwards: n.op for n in model.train_function.optimized_graph.nodes if isinstance(n.op, Loop)}
    reverse_weights = loops[True].split(loops[True].step.inputs)[2]
    forward_weights = loops[False].split(loops[False].step.inputs)[2]
    assert [_read_transposed(loops[True].step, w) for w in reverse_weights] == [True]
    assert [_read_transposed(loops[False].step, w) for w in forward_weights] == [False]
    # and the update is the one the reference evaluator computes
    _assert_reference_sgd_update(model, before, x, y)


def _assert_reference_sgd_update(model, before, x, y):
    """The weights of ``model`` (LSTM(6) over (4, 3), Dense(1)) after one SGD step from ``before`` on
    (x, y) are those the reference evaluator computes."""
    from symkeras import config

    config.set_backend("reference")
    try:
        reference = Sequential([LSTM(6, input_shape=(4, 3)), Dense(1)])
        reference.compile("sgd", "mse")
        reference.set_weights(before)
        reference.train_on_batch(x, y)
    finally:
        config.set_backend("numba")
    for got, wanted in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, wanted, rtol=1e-5, atol=1e-6)


def test_the_reverse_step_reads_the_saved_gates_instead_of_computing_them_again():
    """The forward LSTM step saves its gates' sigmoids and tanhs per step; the reverse step then evaluates
    no transcendental function, and the recurrent product h U (which only the gates were computed from)
    is not stored at all."""
    from symkeras.graph.ops.fused import Fused, FusedGroup
    from symkeras.graph.ops.linalg import Einsum
    from symkeras.graph.ops.loop import Loop

    model = Sequential([LSTM(6, input_shape=(4, 3)), Dense(1)])
    model.compile("sgd", "mse")
    model.train_on_batch(np.ones((5, 4, 3), "float32"), np.ones((5, 1), "float32"))
    loops = {n.op.backwards: n.op for n in model.train_function.optimized_graph.nodes if isinstance(n.op, Loop)}
    reverse, forward = loops[True], loops[False]
    names = {op.name for n in reverse.step.nodes if isinstance(n.op, Fused | FusedGroup) for op, _ in n.op.program}
    assert not names & {"Sigmoid", "Tanh", "Exp"}, names
    per_step = forward.step.outputs[forward.n_states:]
    assert len(per_step) == 5 and not any(isinstance(o.owner.op, Einsum) for o in per_step if o.owner)
    model.predict(np.ones((2, 4, 3), "float32"))
    (loop,) = [n.op for n in model.predict_function.optimized_graph.nodes if isinstance(n.op, Loop)]
    assert len(loop.step.outputs) == loop.n_states  # with no gradient taken, nothing reads the saved gates


def test_the_forward_step_writes_its_stacked_results_in_place_and_reads_gate_blocks_without_copies():
    """The forward LSTM step's gate group writes the values stacked over time (h, c, the saved gates)
    straight into out[t], and reads the gates' column blocks row by row (raveling them copied each one at
    every time step); the update is the reference evaluator's."""
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(5, 4, 3)).astype("float32"), np.ones((5, 1), "float32")
    model = Sequential([LSTM(6, input_shape=(4, 3)), Dense(1)])
    model.compile("sgd", "mse")
    before = model.get_weights()
    model.train_on_batch(x, y)
    sources = model.train_function.program.layout.kernel_sources
    (forward,) = [s for s in sources if "Loop{sequences=1, states=2, outputs=5}" in s]
    assert forward.count("(stacked over time)") == 7  # h and c kept at every step, five saved gates
    groups = [s for s in sources if "Loop{" not in s and "vm.sigmoid32" in s and "d6" in s]
    assert len(groups) == 1 and "contiguous_(a0[r])" in groups[0] and ".ravel()" not in groups[0]
    _assert_reference_sgd_update(model, before, x, y)


def test_the_gradient_of_a_stacked_layers_input_projection_sums_nothing_back():
    """In stacked LSTMs the gradient reaching the lower layer's output goes through dz W^T, where dz (the
    reverse loop's per-step output) has the batch size of the input projection it is the gradient of.
    Rewrites replace the tensors a step placeholder's size tag names; the loop still finds the size through
    the tagged step input, so no SumToLike (a copy of the whole sequence of gradients) is left."""
    from symkeras.graph.ops.broadcast import SumToLike

    model = Sequential([LSTM(4, return_sequences=True, input_shape=(3, 2)), LSTM(4, return_sequences=True),
                        LSTM(4), Dense(2)])
    model.compile("rmsprop", "mse")
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(5, 3, 2)).astype("float32"), rng.normal(size=(5, 2)).astype("float32")
    model.train_on_batch(x, y)
    sums = [n for n in model.train_function.optimized_graph.nodes if isinstance(n.op, SumToLike)]
    assert not [n for n in sums if n.outputs[0].ndim == 3], [str(n.outputs[0]) for n in sums]
