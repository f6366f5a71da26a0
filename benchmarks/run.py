"""Run the workloads on symkeras (cold and warm processes) and on PyTorch eager; write results.json.

Usage (BLAS at its full AVX-512 speed, as ../shared/bench/SPEC.md asks):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python benchmarks/run.py [B1 B2 B3 B7 B4 B5 B5e]

Each measurement runs in a fresh process; the symkeras "cold" run starts with
an empty kernel cache, the "warm" run reuses it (a second process).  symkeras's
own bytecode is compiled first, as installing a package does: an editable
install under PYTHONDONTWRITEBYTECODE=1 (set on these machines) would otherwise
compile its ~130 modules from source in every process (0.1-0.2 s of a start).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from workloads import SPECS  # noqa: E402


def run(workload, framework, cache):
    env = dict(os.environ, SYMKERAS_CACHE_DIR=cache)
    out = subprocess.run([sys.executable, "-W", "ignore", os.path.join(HERE, "run_one.py"), workload, framework],
                         env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def gemm_gflops():
    import time

    import numpy as np

    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    times = []
    for _ in range(20):
        start = time.perf_counter()
        a @ a
        times.append(time.perf_counter() - start)
    return 2 * 1024**3 / sorted(times)[len(times) // 2] / 1e9


def compile_bytecode():
    """Write the bytecode of the symkeras package, as ``pip install`` does (``compileall``)."""
    import compileall

    import symkeras

    compileall.compile_dir(os.path.dirname(os.path.abspath(symkeras.__file__)), quiet=1)


def breakdown_text(b: dict) -> str:
    """One line of a compile's breakdown (run_one.compile_breakdown)."""
    if b["restored"]:
        how = ("from its bundle, Numba not imported" if not b.get("numba_imported") else "from its bundle") \
            if b.get("native") else "through Numba"
        return f"program restored from the cache (no rewrite or code generation), loaded {how} in {b['load_s']:.3f} s"
    return (f"rewrites {b['rewrite_s']:.3f} s, code generation {b['generate_s']:.3f} s, LLVM {b['llvm_s']:.2f} s "
            f"({b['modules_compiled']} modules compiled), load {b['load_s']:.3f} s")


def main(workloads=("B1", "B2", "B3", "B7", "B4", "B5", "B5e")):
    compile_bytecode()
    results = {"gemm_gflops": gemm_gflops(), "runs": []}
    for workload in workloads:
        if workload == "B6":  # B2's model's predict
            with tempfile.TemporaryDirectory() as cache:
                run("B6", "keras", cache)  # (compiles; the next process measures from the cache)
                row = {"workload": "B6", "keras": run("B6", "keras", cache), "torch": run("B6", "torch", "")}
            results["runs"].append(row)
            ours, torch = row["keras"], row["torch"]
            print(f"B6 predict: symkeras {ours['samples_per_s']:,.0f} samples/s, torch {torch['samples_per_s']:,.0f} "
                  f"(x{ours['samples_per_s'] / torch['samples_per_s']:.2f}); single sample "
                  f"{ours['single_sample_us']:.0f} us, torch {torch['single_sample_us']:.0f} us", flush=True)
            continue
        mlp = SPECS[workload]["kind"] == "mlp"
        row = {"workload": workload}
        with tempfile.TemporaryDirectory() as cache:
            if mlp:  # the bare K.function step as well
                row["cold"] = run(workload, "symkeras", cache)
                row["warm"] = run(workload, "symkeras", cache)
            row["keras_cold"] = run(workload, "keras", cache)
            row["keras"] = run(workload, "keras", cache)
        row["torch"] = run(workload, "torch", "")
        results["runs"].append(row)
        keras, torch = row["keras"], row["torch"]
        if mlp:
            warm, cold = row["warm"], row["cold"]
            print(f"{workload}: symkeras {warm['samples_per_s']:,.0f} samples/s, torch {torch['samples_per_s']:,.0f} "
                  f"(x{warm['samples_per_s'] / torch['samples_per_s']:.2f}); cold first step {cold['first_step_s']:.1f}"
                  f" s (compiled from {cold['compiled_s']:.1f} s, after {cold['reference_calls']} reference calls),"
                  f" warm first step {warm['first_step_s']:.2f} s (import + build + first step"
                  f" {warm['build_s'] + warm['first_step_s']:.2f} s)", flush=True)
        print(f"{workload} as Keras 2 code (Sequential + fit): {keras['samples_per_s']:,.0f} samples/s "
              f"(x{keras['samples_per_s'] / torch['samples_per_s']:.2f} torch {torch['samples_per_s']:,.0f}); "
              f"first train_on_batch {row['keras_cold']['first_step_s']:.1f} s cold (compiled step from "
              f"{row['keras_cold']['compiled_s']:.1f} s, after {row['keras_cold']['reference_calls']} reference "
              f"calls), {keras['first_step_s']:.2f} s warm", flush=True)
        for label in ("keras_cold", "keras"):
            print(f"{workload} compile, {'cold' if label == 'keras_cold' else 'warm'}: "
                  f"{breakdown_text(row[label]['breakdown'])}", flush=True)
    with open(os.path.join(HERE, "results.json"), "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main(tuple(sys.argv[1:]) or ("B1", "B2", "B3", "B7", "B4", "B5", "B5e"))
