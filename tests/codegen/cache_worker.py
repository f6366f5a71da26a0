"""Builds and runs one small training step; used by the cache tests in fresh processes."""

import numpy as np


def build_and_run(seed=0):
    import symkeras.backend as K

    x = K.placeholder((None, 4), name="x")
    y = K.placeholder((None, 3), name="y")
    w = K.variable(np.linspace(-1, 1, 12).reshape(4, 3), name="w")
    loss = K.mean(K.categorical_crossentropy(y, K.softmax(K.dot(x, w))))
    (g,) = K.gradients(loss, [w])
    f = K.function([x, y], [loss], updates=[(w, w - 0.1 * g)], name="cache_probe")
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(8, 4)).astype("float32")
    ys = np.eye(3, dtype="float32")[np.arange(8) % 3]
    losses = [float(f([xs, ys])[0]) for _ in range(3)]
    import sys

    numba_imported = "numba" in sys.modules  # (before the module is imported to read its stats below)
    native = bool(f.program.stats.get("native"))
    stats = f.program.module.step.stats
    return losses, stats.cache_hits, stats.cache_misses, f.program.path, native, numba_imported


if __name__ == "__main__":
    import json

    losses, hits, misses, path, native, numba_imported = build_and_run()
    print(json.dumps({"losses": losses, "hits": sum(hits.values()), "misses": sum(misses.values()), "path": path,
                      "native": native, "numba_imported": numba_imported}))
