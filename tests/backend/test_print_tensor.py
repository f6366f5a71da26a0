"""K.print_tensor (Keras 2): the tensor's values, printed with the message each time a compiled function
computes it, on both backends; a side effect that rewrites keep (never merged, folded or fused away)."""

import numpy as np

import symkeras.backend as K


def test_prints_the_message_and_values_at_every_call_and_passes_them_on(backend, capsys):
    x = K.placeholder((None, 3), name="x")
    shown = K.print_tensor(x * 2.0, message="doubled: ")
    again = K.print_tensor(x * 2.0, message="doubled: ")  # an equal node: a side effect, not merged
    f = K.function([x], [K.sum(shown) + K.sum(again)], backend=backend)
    data = np.arange(6, dtype="float32").reshape(2, 3)
    capsys.readouterr()
    for _ in range(2):
        assert f([data])[0] == 60.0
    printed = capsys.readouterr().out
    assert printed.count("doubled: [[ 0.  2.  4.]\n [ 6.  8. 10.]]\n") == 4


def test_a_constant_is_printed_when_the_function_runs_not_when_it_is_built(backend, capsys):
    c = K.print_tensor(K.constant(np.array([1.5, 2.5], "float32")), "constant ")
    x = K.placeholder((None, 2))
    f = K.function([x], [x + c], backend=backend)
    assert capsys.readouterr().out == ""
    np.testing.assert_allclose(f([np.zeros((1, 2), "float32")])[0], [[1.5, 2.5]])
    assert capsys.readouterr().out == "constant [1.5 2.5]\n"
