"""predict on one compiled model from several threads at once gives the single-threaded results (issue 13):
steps with parallel kernels take turns (Numba's workqueue aborted the process when two threads launched
parallel loops at once); the first call, which compiles, may also come from several threads."""

import subprocess
import sys
import textwrap

_THREADS = textwrap.dedent("""
    import threading
    import numpy as np
    from symkeras.layers import Conv2D, Dense, Flatten
    from symkeras.models import Sequential

    def build():
        return Sequential([Conv2D(8, 3, activation="relu", input_shape=(40, 40, 1)), Flatten(), Dense(3)])

    rng = np.random.default_rng(0)
    inputs = [rng.random((int(n), 40, 40, 1), dtype=np.float32) for n in rng.integers(1, 40, 12)]
    reference = build()
    want = [reference.predict(x, batch_size=16) for x in inputs]

    for compiled_first in (True, False):
        model = build()
        model.set_weights(reference.get_weights())
        if compiled_first:
            model.predict(inputs[0], batch_size=16)
        got, errors = [None] * len(inputs), []

        def work(i):
            try:
                for _ in range(3):
                    got[i] = model.predict(inputs[i], batch_size=16)
            except Exception as error:  # noqa: BLE001
                errors.append(repr(error))

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    print("ok")
""")


def test_predict_from_several_threads_at_once():
    result = subprocess.run([sys.executable, "-c", _THREADS], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stdout + result.stderr[-3000:]
