"""Generated CUDA kernels: their source, compiled once per process by numba.cuda, and their launch sizes.

A kernel's source is kept (``Kernel.source``, and ``CudaProgram.source`` lists every kernel a program
launches), so what runs on the GPU can be read like the CPU backend's generated step.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from dataclasses import dataclass

from symkeras.codegen.cuda import device

#: threads per block of the one-thread-per-element kernels (the simulator runs each thread in Python,
#: one at a time: smaller blocks keep its launches short)
THREADS = 128
SIMULATED_THREADS = 32
#: at most this many blocks a launch on the simulator, whose threads then loop over several elements
#: each (it starts a Python thread per CUDA thread: a few threads doing many elements run far faster)
SIMULATED_BLOCKS = 2


@dataclass(frozen=True)
class Kernel:
    """One compiled kernel: ``function[blocks, threads](*args)`` launches it."""

    source: str
    function: object


def compile_kernel(params: list[str], body: list[str], header: str) -> Kernel:
    """The kernel ``kernel(*params)`` with ``body`` (lines at depth 1), compiled by numba.cuda (once per
    process for each text: equal texts share the compiled kernel)."""
    source = header + "\n\n@cuda.jit\ndef kernel(" + ", ".join(params) + "):\n" + \
        "".join(f"    {line}\n" for line in body)
    kernel = _compiled(source)
    for kernels in _collecting:
        kernels.append(kernel)
    return kernel


_collecting: list[list] = []


@contextlib.contextmanager
def collect():
    """The kernels made (or found already compiled) while the block runs, as a list."""
    kernels: list = []
    _collecting.append(kernels)
    try:
        yield kernels
    finally:
        _collecting.remove(kernels)


#: the module name the kernels' code runs under
MODULE = "symkeras_cuda_kernels"


@functools.cache
def _compiled(source: str) -> Kernel:
    device.cuda()  # a clear error where CUDA cannot run
    if device.simulated():
        # the simulator runs kernels on NumPy scalars, which warn where the GPU computes IEEE results
        # silently: uint64 arithmetic wrapping around (the random generator's point), a cast to float32
        # overflowing to inf
        warnings.filterwarnings("ignore", "overflow encountered in", RuntimeWarning, MODULE)
    namespace: dict = {"__name__": MODULE}
    exec(compile(source, f"<symkeras cuda kernel {abs(hash(source)):x}>", "exec"), namespace)
    return Kernel(source, namespace["kernel"])


def launch(kernel: Kernel, count: int, *args) -> None:
    """Run ``kernel(count, *args)`` over ``count`` threads (one per result element); nothing for 0."""
    if count:
        blocks, threads = launch_size(count)
        kernel.function[blocks, threads](count, *args)


#: most blocks a block-per-item launch starts (blocks then take every gridDim-th item)
MAX_BLOCKS = 65535


def launch_blocks(kernel: Kernel, count: int, *args) -> None:
    """Run ``kernel(count, *args)`` with a block of ``threads_per_block()`` threads for each of ``count``
    items (the block reductions' outputs); nothing for 0."""
    if count:
        counted()
        blocks = min(count, SIMULATED_BLOCKS if device.simulated() else MAX_BLOCKS)
        kernel.function[blocks, threads_per_block()](count, *args)


def each_thread(bound: str) -> list[str]:
    """The kernel line that opens the loop of one thread over the flat indices ``i < bound`` it computes
    (every ``gridsize``-th from its own: one index a thread where the launch covers them all)."""
    return [f"for i in range(cuda.grid(1), {bound}, cuda.gridsize(1)):"]


def unflatten(names: list[str], sizes: list[str], flat: str = "i") -> list[str]:
    """Kernel lines setting ``names`` (one index per axis, the last varying fastest) from the flat index
    ``flat`` over axes of run-time ``sizes`` (source expressions)."""
    lines, rest = [], flat
    for pos in range(len(names) - 1, 0, -1):
        lines += [f"{names[pos]} = {rest} % {sizes[pos]}", f"r = {rest} // {sizes[pos]}"]
        rest = "r"
    if names:
        lines.append(f"{names[0]} = {rest}")
    return lines


def axes_of(shape_of: str, axes) -> list[str]:
    """``shape_of.shape[a]`` for each of ``axes``."""
    return [f"{shape_of}.shape[{a}]" for a in axes]


def threads_per_block() -> int:
    return SIMULATED_THREADS if device.simulated() else THREADS


def launch_size(count: int) -> tuple[int, int]:
    """(blocks, threads per block) covering ``count`` threads; counts the launch (see ``launches``)."""
    threads = threads_per_block()
    counted()
    blocks = max(1, -(-count // threads))
    return (min(blocks, SIMULATED_BLOCKS) if device.simulated() else blocks), threads


_launches = [0]


def counted() -> None:
    """Count one kernel launch."""
    _launches[0] += 1


def launches() -> int:
    """Kernel launches in this process so far (CudaProgram reports those of its last call)."""
    return _launches[0]
