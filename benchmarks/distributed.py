"""Data-parallel B2 on this machine: 1 rank x 2 threads against 2 ranks x 1 thread (symkeras.distributed).

    python benchmarks/distributed.py [--runs 3] [--weak]

Each configuration runs ``--runs`` times, each in fresh processes: one epoch to compile and warm up, then
B2's 3 epochs timed between barriers.  Strong scaling (the default): the 2 ranks share B2's batch of 128
(64 each), so both configurations compute the same steps; ``--weak``: each rank takes 128.  Prints, per
configuration, samples/s (median, min-max), and for 2 ranks the scaling efficiency (2-rank samples/s over
1-rank samples/s: the 2 threads of one rank against 2 ranks of one), the bytes each rank allreduces a step
and the time a step spends in the allreduce (the wait for the slower rank included).

Run it with this machine's OpenBLAS caps unset, as the other benchmarks:
``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/distributed.py``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def worker(per_rank_batch_of_128: bool) -> None:
    """One rank: B2 data-parallel; rank 0 prints one JSON line."""
    import numpy as np
    from workloads import SPECS, build_keras_model, data

    import symkeras.distributed as hvd

    hvd.init()
    spec = SPECS["B2"]
    size = hvd.size()
    batch = spec["batch"] if per_rank_batch_of_128 else spec["batch"] // size
    x, y = hvd.shard(*data(spec))
    model = build_keras_model(spec)
    model.compile(hvd.DistributedOptimizer(model.optimizer), "categorical_crossentropy")
    broadcast = hvd.callbacks.BroadcastGlobalVariablesCallback(0)
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False, callbacks=[broadcast])  # compile, warm
    comm = hvd.collectives.comm()
    hvd.allreduce_stats(reset=True)
    comm.Barrier()
    start = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=spec["epochs"], verbose=0, shuffle=False)
    comm.Barrier()
    seconds = time.perf_counter() - start
    stats = hvd.allreduce_stats()
    steps = spec["epochs"] * -(-len(x) // batch)
    first = hvd.allgather(model.get_weights()[0][None])
    # the allreduce of one step's gradients alone, both ranks ready: its cost without the wait for the other
    buffer = np.zeros(sum(int(np.prod(w.shape)) for w in model.get_weights()), np.float32)
    alone = []
    for _ in range(30):
        comm.Barrier()
        t = time.perf_counter()
        hvd.collectives.reduce_in_place(buffer, True, False) if size > 1 else None
        alone.append(time.perf_counter() - t)
    if hvd.rank() == 0:
        print(json.dumps({"ranks": size, "samples_per_s": spec["epochs"] * len(x) * size / seconds,
                          "steps": steps, "bytes_per_step": stats["bytes"] / steps if stats["calls"] else 0,
                          "allreduce_ms_per_step": 1e3 * stats["seconds"] / steps,
                          "step_ms": 1e3 * seconds / steps, "allreduce_alone_ms": 1e3 * statistics.median(alone),
                          "weights_equal": bool(all(np.array_equal(w, first[0]) for w in first))}))


def _run(ranks: int, weak: bool) -> dict:
    script = [os.path.abspath(__file__), "worker"] + (["--weak"] if weak else [])
    threads = str(2 // ranks)
    env = dict(os.environ, NUMBA_NUM_THREADS=threads, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads)
    if ranks == 1:
        line = [sys.executable, *script]
    else:
        line = [sys.executable, "-m", "symkeras.distributed.run", "-np", str(ranks), *script]
    proc = subprocess.run(line, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(line)} failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
    weak = "--weak" in sys.argv
    results = {1: [], 2: []}
    for _ in range(runs):  # alternated, so that a slow spell of the machine falls on both
        for ranks in (1, 2):
            results[ranks].append(_run(ranks, weak))
    one = [r["samples_per_s"] for r in results[1]]
    two = [r["samples_per_s"] for r in results[2]]
    print(f"B2 data-parallel, {'weak' if weak else 'strong'} scaling, {runs} runs each (fresh processes)")
    print("| configuration | samples/s median (min-max) | step ms | bytes allreduced a step | allreduce ms a step "
          "| the allreduce alone, ms |")
    print("|---|---|---|---|---|---|")
    for ranks, values in ((1, one), (2, two)):
        rows = results[ranks]
        print(f"| {ranks} rank{'s' if ranks > 1 else ''} x {2 // ranks} thread{'s' if ranks == 1 else ''} | "
              f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f}) | "
              f"{statistics.median(r['step_ms'] for r in rows):.2f} | "
              f"{statistics.median(r['bytes_per_step'] for r in rows):,.0f} | "
              f"{statistics.median(r['allreduce_ms_per_step'] for r in rows):.2f} | "
              f"{statistics.median(r['allreduce_alone_ms'] for r in rows):.2f} |")
    ratios = [b / a for a, b in zip(one, two)]
    print(f"scaling efficiency (2 ranks / 1 rank, per run): median {statistics.median(ratios):.2f} "
          f"({min(ratios):.2f}-{max(ratios):.2f}); weights equal on the ranks: "
          f"{all(r['weights_equal'] for r in results[2])}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker("--weak" in sys.argv)
    else:
        main()
