"""The digits MLP that `make demo` runs: Keras 2 code end to end on a real data set."""

from symkeras.demos import digits_mlp


def test_digits_mlp_reaches_95_percent_on_held_out_digits(capsys):
    accuracy = digits_mlp.run(epochs=20, verbose=2)
    assert accuracy >= 0.95
    out = capsys.readouterr().out
    assert "dense_1 (Dense)              (None, 128)               8320" in out
    assert "Total params: 17,226" in out
    assert out.count("Epoch ") == 20 and "val_accuracy:" in out
    assert f"Test accuracy: {accuracy:.4f} (360 held-out digits)" in out
