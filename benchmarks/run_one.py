"""Measure one workload on one framework in this process; prints one JSON line.

python benchmarks/run_one.py B2 symkeras|keras|torch
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np  # noqa: E402
from workloads import SPECS, build_symkeras_step, build_torch_step, data  # noqa: E402


def blas_report():
    try:
        from threadpoolctl import threadpool_info

        return [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"), os.path.basename(i["filepath"]))
                for i in threadpool_info()]
    except ImportError:
        return []


def epochs(step, batches, n):
    start = time.perf_counter()
    for _ in range(n):
        for batch in batches:
            step(batch)
    return time.perf_counter() - start


def until_compiled(function, call):
    """Go on calling ``call(i)`` (a training step) while ``function``'s first calls run on the reference
    evaluator (its compile going on in the background); the time its compiled step has first run, and how
    many calls ran on the reference."""
    i = 1
    while getattr(function.program, "fns", True) is None:
        call(i)
        i += 1
    return time.perf_counter(), function.program.stats.get("reference_calls", 0)


def compile_breakdown(function) -> dict:
    """Where a compiled function's build went: rewrites, code generation, LLVM (the uncached modules'
    compile, waited for) and loading the cached code; how many modules were compiled."""
    stats = function.stats
    load = stats.get("load_seconds", 0.0)
    return {"rewrite_s": stats.get("rewrite_seconds", 0.0), "generate_s": stats.get("generate_seconds", 0.0),
            "llvm_s": max(0.0, stats.get("compile_seconds", 0.0) - load), "load_s": load,
            "modules_compiled": (stats.get("compile") or {}).get("pending", 0), "restored": bool(stats.get("restored")),
            "native": bool(stats.get("native")), "numba_imported": "numba" in sys.modules}


def predict(framework, repeats=3) -> dict:
    """B6: B2's model's batch predict (8192 x 784, batch 128; samples/s, median of ``repeats``) and
    single-sample predict latency (median of 200 calls), symkeras's ``model.predict`` or PyTorch's forward
    under ``no_grad``."""
    spec = SPECS["B2"]
    x, _ = data(spec)
    bs = spec["batch"]
    if framework == "keras":
        from workloads import build_keras_model

        model = build_keras_model(spec)
        model.predict(x[:bs], batch_size=bs)
        function = model.predict_function
        until_compiled(function, lambda i: model.predict(x[:bs], batch_size=bs))

        def batch_run():
            return model.predict(x, batch_size=bs)

        def one():
            return model.predict_on_batch(x[:1])
    else:
        import torch
        from workloads import _torch_model

        torch.set_num_threads(2)
        net = _torch_model(spec).eval()
        xt = torch.from_numpy(x)

        def batch_run():
            with torch.no_grad():
                return [net(xt[i:i + bs]) for i in range(0, len(xt), bs)]

        def one():
            with torch.no_grad():
                return net(xt[:1]).numpy()
    batch_run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        batch_run()
        times.append(time.perf_counter() - start)
    for _ in range(20):
        one()
    latencies = []
    for _ in range(200):
        start = time.perf_counter()
        one()
        latencies.append(time.perf_counter() - start)
    return {"workload": "B6", "framework": framework, "samples_per_s": len(x) / statistics.median(times),
            "single_sample_us": 1e6 * statistics.median(latencies)}


def main(workload, framework, repeats=3):
    if workload == "B6":
        print(json.dumps(predict(framework)))
        return
    spec = SPECS[workload]
    x, y = data(spec)
    bs = spec["batch"]
    n = len(x) // bs
    result = {"workload": workload, "framework": framework}
    t0 = time.perf_counter()
    if framework == "symkeras":
        fn = build_symkeras_step(spec)
        batches = [[x[i * bs:(i + 1) * bs], y[i * bs:(i + 1) * bs]] for i in range(n)]
        built = time.perf_counter()
        fn(batches[0])
        first = time.perf_counter()
        compiled, result["reference_calls"] = until_compiled(fn, lambda i: fn(batches[i % n]))
        result["compiled_s"] = compiled - built
        result["breakdown"] = compile_breakdown(fn)
        step = fn
        result["rewrite_s"] = fn.stats["rewrite_seconds"]
        result["compile_s"] = fn.stats["compile_seconds"]
        result["kernels"] = fn.stats["kernels"]
        import symkeras.backend as K

        xs = K.placeholder((None, 4), name="probe")
        tiny = K.function([xs], [xs * 2.0], name="overhead_probe")
        probe = [np.ones((1, 4), np.float32)]
        tiny(probe)
        calls = []
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(2000):
                tiny(probe)
            calls.append((time.perf_counter() - start) / 2000)
        result["call_overhead_us"] = 1e6 * min(calls)
    elif framework == "keras":
        from workloads import build_keras_model

        model = build_keras_model(spec)
        built = time.perf_counter()
        model.train_on_batch(x[:bs], y[:bs])
        first = time.perf_counter()
        result["build_s"] = built - t0
        result["first_step_s"] = first - built
        compiled, result["reference_calls"] = until_compiled(
            model.train_function, lambda i: model.train_on_batch(x[i % n * bs:(i % n + 1) * bs],
                                                                 y[i % n * bs:(i % n + 1) * bs]))
        result["compiled_s"] = compiled - built
        result["breakdown"] = compile_breakdown(model.train_function)
        model.fit(x, y, batch_size=bs, epochs=1, verbose=0)  # warm-up epoch
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            model.fit(x, y, batch_size=bs, epochs=spec["epochs"], verbose=0)
            times.append(time.perf_counter() - start)
        result["samples_per_s"] = len(x) * spec["epochs"] / statistics.median(times)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
        return
    else:
        import torch
        from workloads import torch_batches

        torch.set_num_threads(2)
        step = build_torch_step(spec)
        batches = torch_batches(spec, x, y)
        built = time.perf_counter()
        step(batches[0])
        first = time.perf_counter()
    result["build_s"] = built - t0
    result["first_step_s"] = first - built
    epochs(step, batches, 1)  # warm-up epoch
    times = [epochs(step, batches, spec["epochs"]) for _ in range(repeats)]
    result["samples_per_s"] = n * bs * spec["epochs"] / statistics.median(times)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["blas"] = blas_report()
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
