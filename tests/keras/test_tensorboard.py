"""The TensorBoard callback's event files, read back record by record: scalars per epoch and per batch,
the graph of layers, weight histograms."""

import glob
import struct

import numpy as np
import pytest

from symkeras.callbacks import TensorBoard
from symkeras.layers import Dense, Input, concatenate
from symkeras.models import Model

pytest.importorskip("tensorboardX", reason="tensorboardX (the tensorboard extra) is not installed")
from tensorboardX.proto import event_pb2, graph_pb2  # noqa: E402


def _events(log_dir):
    events = []
    for path in sorted(glob.glob(f"{log_dir}/events.out.tfevents.*")):
        data = open(path, "rb").read()
        at = 0
        while at < len(data):  # TFRecord: length, its CRC, the record, its CRC
            (length,) = struct.unpack("<Q", data[at:at + 8])
            events.append(event_pb2.Event.FromString(data[at + 12:at + 12 + length]))
            at += 12 + length + 4
    return events


def _model():
    a, b = Input(shape=(3,), name="a"), Input(shape=(2,), name="b")
    out = Dense(1, name="out")(concatenate([Dense(4, name="da")(a), b], name="join"))
    model = Model([a, b], out)
    model.compile("sgd", "mse", metrics=["mae"])
    return model


def test_scalars_graph_and_histograms_are_written(tmp_path, rng):
    model = _model()
    x = [rng.normal(size=(16, 3)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")]
    y = rng.normal(size=(16, 1)).astype("float32")
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[TensorBoard(log_dir=str(tmp_path), histogram_freq=2, update_freq="batch")])
    events = _events(tmp_path)
    scalars = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField("simple_value"):
                scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    for name in ("loss", "mae", "val_loss", "val_mae"):
        assert [step for step, _ in scalars[name]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in scalars[name]], history.history[name], rtol=1e-6)
    assert [step for step, _ in scalars["batch_loss"]] == [1, 2, 3, 4, 5, 6]  # 2 batches an epoch
    graphs = [graph_pb2.GraphDef.FromString(e.graph_def) for e in events if e.graph_def]
    nodes = {node.name: (node.op, list(node.input)) for node in graphs[0].node}
    assert nodes == {"a": ("InputLayer", []), "b": ("InputLayer", []), "da": ("Dense", ["a"]),
                     "join": ("Concatenate", ["da", "b"]), "out": ("Dense", ["join"])}
    histograms = {(v.tag, e.step) for e in events for v in e.summary.value if v.HasField("histo")}
    assert {("da/kernel_0", 0), ("da/kernel_0", 2), ("out/bias_0", 2)} <= histograms
    assert not any(step == 1 for _, step in histograms)


def test_what_symkeras_does_not_write_is_refused():
    with pytest.raises(ValueError, match="write_grads is not written by symkeras"):
        TensorBoard(write_grads=True)
    with pytest.raises(ValueError, match="update_freq must be"):
        TensorBoard(update_freq="hourly")
