"""Determinism (issue 13's guarantee): with np.random.seed alone, two fresh processes train bit-identical
weights (initializers, dropout masks and shuffling all follow the seed; the threaded kernels split work
the same way every run)."""

import subprocess
import sys
import textwrap

_TRAIN = textwrap.dedent("""
    import hashlib
    import numpy as np
    np.random.seed(1)
    from symkeras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from symkeras.models import Sequential
    x = np.random.rand(96, 12, 12, 1).astype("float32")
    y = np.eye(3, dtype="float32")[np.random.randint(0, 3, 96)]
    model = Sequential([Conv2D(4, 3, activation="relu", input_shape=(12, 12, 1)), MaxPooling2D(2), Dropout(0.3),
                        Flatten(), Dense(8, activation="relu"), Dropout(0.5), Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    print(hashlib.sha256(b"".join(w.tobytes() for w in model.get_weights())).hexdigest())
""")


def test_two_fresh_processes_train_bit_identical_weights():
    digests = [subprocess.run([sys.executable, "-c", _TRAIN], capture_output=True, text=True, check=True,
                              timeout=300).stdout.split()[-1] for _ in range(2)]
    assert digests[0] == digests[1]
