"""Ctrl-C during fit is a KeyboardInterrupt (issue 13, defect 4), with the weights of a completed batch and
the History of the finished epochs; `except KeyboardInterrupt` in user code catches it."""

import signal
import subprocess
import sys
import textwrap

import pytest

_FIT = textwrap.dedent("""
    import sys
    import numpy as np
    from symkeras.callbacks import Callback
    from symkeras.layers import Conv2D, Dense, Flatten
    from symkeras.models import Sequential
    from symkeras.optimizers import SGD

    kind = sys.argv[1]
    rng = np.random.default_rng(0)
    if kind == "conv":
        x = rng.random((512, 12, 12, 1), dtype=np.float32)
        build = lambda: Sequential([Conv2D(8, 3, activation="relu", input_shape=(12, 12, 1)), Flatten(), Dense(4)])
    else:
        x = rng.random((2048, 256), dtype=np.float32)
        build = lambda: Sequential([Dense(256, activation="relu", input_shape=(256,)), Dense(4)])
    y = rng.random((len(x), 4), dtype=np.float32)

    def model():
        m = build()
        m.set_weights([np.random.default_rng(1).normal(size=w.shape).astype("float32") * 0.05
                       for w in m.get_weights()])
        m.compile(SGD(learning_rate=0.01), "mse")
        return m

    class Record(Callback):
        def __init__(self):
            super().__init__()
            self.batches, self.epochs, self.last = 0, 0, None
        def on_batch_end(self, batch, logs=None):
            self.batches += 1
            self.last = self.model.get_weights()
            if self.batches == 1:
                print("training", flush=True)
        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    trained, record = model(), Record()
    try:
        trained.fit(x, y, batch_size=64, epochs=100000, shuffle=False, verbose=0, callbacks=[record])
    except KeyboardInterrupt:
        pass
    else:
        raise SystemExit("fit ended without the interrupt")
    assert trained.history.epoch == list(range(record.epochs)), (trained.history.epoch, record.epochs)
    weights = trained.get_weights()
    replay = model()  # the same batches in the same order, one step at a time: deterministic
    per_epoch = len(x) // 64
    candidates = []
    for step in range(record.batches + 1):
        start = (step % per_epoch) * 64
        replay.train_on_batch(x[start:start + 64], y[start:start + 64])
        if step >= record.batches - 1:
            candidates.append(replay.get_weights())
    # the weights after the last batch the callback saw, or after the one whose step had finished
    same = [all(np.array_equal(a, b) for a, b in zip(weights, c)) for c in candidates]
    assert any(same), "the weights are not those after a completed batch"
    print("interrupted after", record.batches, "batches", record.epochs, "epochs", flush=True)
""")


@pytest.mark.parametrize("kind", ["dense", "conv"])
def test_ctrl_c_during_fit_is_a_keyboard_interrupt_with_a_completed_batch_s_weights(kind):
    for delay in (0.2, 0.7):
        proc = subprocess.Popen([sys.executable, "-c", _FIT, kind], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        assert proc.stdout.readline().strip() == "training"
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            pass
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out + err
        assert "interrupted after" in out, out + err
