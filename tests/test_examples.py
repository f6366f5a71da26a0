"""The example scripts (examples/), each run in its quick mode as a user runs it, its printed results
checked."""

import os
import re
import runpy
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


def _run(name, capsys, monkeypatch):
    monkeypatch.syspath_prepend(EXAMPLES)
    monkeypatch.setattr(sys, "argv", [os.path.join(EXAMPLES, name), "--quick"])
    runpy.run_path(os.path.join(EXAMPLES, name), run_name="__main__")
    return capsys.readouterr().out


def _numbers(text):
    return [float(v) for v in re.findall(r"-?\d+\.\d+|\d+", text)]


@pytest.mark.parametrize("name", ["mlp_softmax.py", "mlp_binary.py", "conv1d_sequence.py", "embedding_lstm.py",
                                  "stacked_lstm.py", "stateful_lstm.py"])
def test_the_training_examples_lower_their_loss(name, capsys, monkeypatch):
    out = _run(name, capsys, monkeypatch)
    first, last = (float(v) for v in re.search(r"loss (\d+\.\d+) -> (\d+\.\d+)", out).groups())
    assert last < first, out
    if name == "embedding_lstm.py":
        assert "padded to (64, 20)" in out
    if name == "stateful_lstm.py":
        assert "carried state (32, 32)" in out


def test_the_vgg_like_cnn_has_its_parameters_and_trains(capsys, monkeypatch):
    out = _run("vgg_like_cnn.py", capsys, monkeypatch)
    assert out.startswith("215850 parameters;")  # (3x3 convolutions 32-32-64-64 on 24x24, Dense 256 and 10)
    first, last = (float(v) for v in re.search(r"loss (\d+\.\d+) -> (\d+\.\d+)", out).groups())
    assert 0 < first < 5 and 0 < last < 5


def test_linear_regression_finds_the_line(capsys, monkeypatch):
    w, b = _numbers(_run("linear_regression.py", capsys, monkeypatch))
    assert abs(w - 3) < 0.1 and abs(b - 2) < 0.1


def test_the_height_weight_age_classifier_reaches_the_tutorials_accuracy(capsys, monkeypatch):
    accuracy, cap = _numbers(_run("height_weight_age.py", capsys, monkeypatch))
    assert 0.75 < accuracy <= cap + 0.03
