"""Everything a GPU machine should measure, in one run: the CUDA tests on the GPU, the matrix-product kernel
against cuBLAS, and the workloads of ../shared/bench/SPEC.md on the cuda device against PyTorch CUDA in the
same process.  Prints one table (and writes gpu.json into $OUT when that is set); meant to finish within
6 minutes on one GPU.

Usage, on the GPU machine, from the repository root (its python3 has numba, numba-cuda and PyTorch):

    PYTHONPATH=. python3 benchmarks/gpu.py            # everything
    PYTHONPATH=. python3 benchmarks/gpu.py --quick    # tiny sizes: checks that the script itself runs

``--quick`` also runs where there is no GPU (on Numba's CUDA simulator, NUMBA_ENABLE_CUDASIM=1), so the
script is checked before a GPU is available.  A workload whose graph has an op without a CUDA kernel yet
is reported as such, with the op's name.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)

QUICK = "--quick" in sys.argv
#: the workloads measured (those with every op on the GPU first); B6 is B2's model's predict
WORKLOADS = ("B1", "B2", "B3", "B4")


def environment() -> dict:
    import numba
    import numpy

    from symkeras.codegen.cuda import device

    info = {"python": sys.version.split()[0], "numpy": numpy.__version__, "numba": numba.__version__,
            "simulated": device.simulated(), "cuda": device.available(), "why_not": device.reason()}
    try:
        import importlib.metadata as metadata

        info["numba_cuda"] = metadata.version("numba-cuda")
    except Exception:
        info["numba_cuda"] = None
    if device.available() and not device.simulated():
        name = device.cuda().get_current_device().name
        info["gpu"] = name.decode() if isinstance(name, bytes) else str(name)
    torch = _torch_cuda()
    info["torch"] = None if torch is None else torch.__version__
    return info


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def run_tests() -> dict:
    """The CUDA tests, on the GPU (or the simulator with --quick and no GPU): the CUDA backend's own and
    the cuda runs of the backend-parametrized ones."""
    start = time.perf_counter()
    tests = [os.path.join(ROOT, "tests", *part.split("/")) for part in
             ("codegen/test_cuda_backend.py", "backend", "graph", "keras", "test_demo.py")]
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "cuda", *tests],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
    except subprocess.TimeoutExpired as expired:  # (the benchmarks still run)
        out = expired.stdout.decode() if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        return {"rc": None, "summary": f"stopped after 300 s; progress: {out.strip()[-200:]}",
                "seconds": round(time.perf_counter() - start, 1), "failures": []}
    tail = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-300:]
    return {"rc": proc.returncode, "summary": tail, "seconds": round(time.perf_counter() - start, 1),
            "failures": [line for line in proc.stdout.splitlines() if line.startswith("FAILED")][:10]}


def _timed(fn, repeats: int, sync) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gemm() -> dict:
    """C = A B, float32, square: symkeras's kernel (through a K.function) against cuBLAS without TF32."""
    import numpy as np

    import symkeras.backend as K
    from symkeras.codegen.cuda import device

    n = 12 if QUICK else 4096
    a = K.placeholder((n, n), name="a")
    b = K.placeholder((n, n), name="b")
    f = K.function([a, b], [K.dot(a, b)], backend="cuda")
    rng = np.random.default_rng(0)
    x, y = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    program = f.program
    cuda = device.cuda()
    dx, dy = cuda.to_device(x), cuda.to_device(y)
    launcher = program.launchers[0]
    seconds = _timed(lambda: launcher([dx, dy]), 1 if QUICK else 5, cuda.synchronize)
    result = {"n": n, "symkeras_tflops": 2 * n ** 3 / seconds / 1e12}
    got = launcher([dx, dy])[0].copy_to_host()
    result["max_rel_error"] = float(np.abs(got - x @ y).max() / np.abs(x @ y).max())
    torch = _torch_cuda()
    if torch is not None:
        torch.backends.cuda.matmul.allow_tf32 = False
        ta, tb = torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda()
        seconds = _timed(lambda: ta @ tb, 5, torch.cuda.synchronize)
        result["cublas_tflops"] = 2 * n ** 3 / seconds / 1e12
        result["fraction_of_cublas"] = result["symkeras_tflops"] / result["cublas_tflops"]
    return result


def _spec(name: str) -> dict:
    from workloads import SPECS

    spec = dict(SPECS[name])
    if QUICK:  # (the simulator runs every GPU thread in Python: a few samples)
        spec.update(batch=4, samples=8, epochs=1)
        if spec["kind"] == "mlp":
            spec.update(hidden=8, inputs=min(spec["inputs"], 20))
    return spec


def symkeras_workload(name: str) -> dict:
    import numpy as np
    from workloads import build_keras_model, data

    import symkeras.backend as K

    spec = _spec(name)
    x, y = data(spec)
    K.clear_session()
    K.set_device("cuda")
    try:
        model = build_keras_model(spec)
        start = time.perf_counter()
        try:
            model.train_on_batch(x[:spec["batch"]], y[:spec["batch"]])
        except NotImplementedError as error:
            return {"status": f"not yet: {str(error).split(' (')[0]}"}
        first = time.perf_counter() - start
        model.fit(x, y, batch_size=spec["batch"], epochs=1, verbose=0)  # warm-up
        times = []
        for _ in range(1 if QUICK else 3):
            start = time.perf_counter()
            model.fit(x, y, batch_size=spec["batch"], epochs=spec["epochs"], verbose=0)
            times.append(time.perf_counter() - start)
        result = {"status": "ok", "samples_per_s": len(x) * spec["epochs"] / statistics.median(times),
                  "first_step_s": first, "launches_per_step": model.train_function.program.stats.get("launches")}
        if name == "B2":
            model.predict(x[:spec["batch"]], batch_size=spec["batch"])
            xs = np.concatenate([x] * max(1, 8192 // len(x)))[:8192 if not QUICK else 8]
            start = time.perf_counter()
            model.predict(xs, batch_size=128 if not QUICK else 4)
            result["predict_samples_per_s"] = len(xs) / (time.perf_counter() - start)
        return result
    finally:
        K.set_device("cpu")


def torch_workload(name: str) -> dict:
    torch = _torch_cuda()
    if torch is None:
        return {"status": "no PyTorch with CUDA here"}
    from workloads import build_torch_step, data, torch_batches

    spec = _spec(name)
    x, y = data(spec)
    step = build_torch_step(spec, device="cuda")
    batches = torch_batches(spec, x, y, device="cuda")

    def epochs(n):
        for _ in range(n):
            for batch in batches:
                step(batch)
        torch.cuda.synchronize()

    epochs(1)
    times = []
    for _ in range(1 if QUICK else 3):
        start = time.perf_counter()
        epochs(spec["epochs"])
        times.append(time.perf_counter() - start)
    return {"status": "ok", "samples_per_s": len(batches) * spec["batch"] * spec["epochs"] / statistics.median(times)}


def table(report: dict) -> str:
    lines = [f"environment: {json.dumps(report['environment'])}",
             f"tests on the GPU: {report['tests']['summary']} ({report['tests']['seconds']} s)"]
    lines += [f"  {failure}" for failure in report["tests"]["failures"]]
    g = report["gemm"]
    cublas = f"{g['cublas_tflops']:.1f}" if "cublas_tflops" in g else "-"
    share = f"{g['fraction_of_cublas']:.0%}" if "fraction_of_cublas" in g else "-"
    lines.append(f"float32 GEMM {g['n']}^3: symkeras {g['symkeras_tflops']:.2f} TFLOP/s, cuBLAS (no TF32) {cublas} "
                 f"TFLOP/s, {share} of cuBLAS; max relative error {g['max_rel_error']:.1e}")
    lines.append("| workload | symkeras cuda samples/s | PyTorch CUDA samples/s | ratio | launches a step "
                 "| first step |")
    lines.append("|---|---|---|---|---|---|")
    for name, row in report["workloads"].items():
        ours, theirs = row["symkeras"], row["torch"]
        if ours["status"] != "ok":
            lines.append(f"| {name} | {ours['status']} | {theirs.get('samples_per_s', '-')} | - | - | - |")
            continue
        peer = theirs.get("samples_per_s")
        ratio = f"{ours['samples_per_s'] / peer:.2f}x" if peer else "-"
        lines.append(f"| {name} | {ours['samples_per_s']:,.0f} | {f'{peer:,.0f}' if peer else theirs['status']} | "
                     f"{ratio} | {ours['launches_per_step']} | {ours['first_step_s']:.2f} s |")
        if "predict_samples_per_s" in ours:
            lines.append(f"| B6 (B2's predict) | {ours['predict_samples_per_s']:,.0f} | - | - | - | - |")
    lines.append(f"total {report['seconds']:.0f} s")
    return "\n".join(lines)


def _progress(what: str, start: float) -> None:
    print(f"[{time.perf_counter() - start:6.1f} s] {what}", file=sys.stderr, flush=True)


def main() -> None:
    start = time.perf_counter()
    report = {"environment": environment()}
    if not report["environment"]["cuda"]:
        print(f"CUDA unavailable: {report['environment']['why_not']}")
        sys.exit(1)
    _progress("tests", start)
    report["tests"] = run_tests()
    _progress("matrix product", start)
    report["gemm"] = gemm()
    report["workloads"] = {}
    for name in (("B1", "B2") if QUICK else WORKLOADS):
        _progress(name, start)
        report["workloads"][name] = {"symkeras": symkeras_workload(name), "torch": torch_workload(name)}
    report["seconds"] = time.perf_counter() - start
    print(table(report))
    if os.environ.get("OUT"):
        with open(os.path.join(os.environ["OUT"], "gpu.json"), "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()
