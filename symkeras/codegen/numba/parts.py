"""A kernel's loop over parts (one per Numba thread) whose body is a serial kernel of its own.

Numba compiles a ``numba.prange`` loop's body into a gufunc and optimizes it
again together with the kernel, so a convolution kernel took 2.0-2.4 s to
compile as a parallel loop against 0.8-0.9 s serial.  Here the loop body
is emitted as a kernel module of its own (compiled serially, cached and
shared like any kernel), run over the parts by the shared launcher of
launch.py, so the kernel itself is serial too.  The step passes the
body's and the launcher's addresses to the kernel as one slice
(``fns[slot:slot + 2]``, see launch.register and linker._call_kernel).

The body recomputes the kernel's prologue (sizes read from its array
arguments: pure, cheap) and receives the arrays the parts share through
the launch block; only the part's index crosses as a value.  Where an
argument's type is not known before Numba types the step (the step then
calls its kernels through their dispatchers), the loop body stays inline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symkeras.codegen.numba import launch, threads
from symkeras.codegen.numba.emitter import VECMATH_IMPORT, Emitter, KernelTarget, KernelText

#: the body's first parameter: the part's index in a 1-element array (the body returns it)
PART_TYPE = ("int64", 1, "C", False)
CALL_IMPORTS = "from symkeras.codegen.numba.calls import function_type, invoke, invoke_flat\n"


@dataclass
class PartsLoop:
    """An open loop over ``parts``; emit the part's lines into ``body``, then ``close()``."""

    kernel: Emitter
    body: Emitter
    split: bool
    shared: list[tuple[str, tuple]]
    imports: str
    #: (name, allocation, type) of the part's own buffers, with ``no_aliases``: allocated by the body's entry
    buffers: list[tuple[str, str, tuple]] = field(default_factory=list)
    #: the body's loops run in a function ``work`` compiled with no aliasing among its arrays
    no_aliases: bool = False
    #: how many of ``body``'s lines are its prologue (sizes and views; ``work`` runs them again)
    prologue: int = 0

    def close(self) -> None:
        em = self.kernel
        if not self.split:
            em.close()
            return
        work_types = None
        if self.no_aliases:
            text, work_types = self._entry_and_work()
        else:
            lines = launch.unpack_lines(self.shared) + self.body.lines + ["    return part"]
            text = KernelText(("part", "block_"), "\n".join(lines) + "\n", imports=self.imports + launch.LAUNCH_IMPORTS)
        addresses = launch.register(em, text, work_types)
        for line in launch.launch_lines(self.shared, threads.parts(), addresses, work=work_types is not None):
            em.line(line.strip())

    def _entry_and_work(self) -> tuple[KernelText, tuple]:
        """The entry views the arrays and allocates the buffers; ``work`` takes them all as parameters,
        so LLVM may assume they do not overlap (compiling.without_aliases): the loops over a tile's
        channels then vectorize without run-time overlap checks between its 16 planes.

        The entry calls ``work`` through its address (the block's last entry, see launch.register): a call
        through its dispatcher would link ``work``'s code into the entry's, which LLVM then optimized and
        compiled to machine code a second time (0.3-0.4 s a convolution).  Returns the body and ``work``'s
        argument types."""
        from symkeras.codegen.numba.linker import KERNEL_JIT

        names = ", ".join(["part", *(n for n, _ in self.shared), *(n for n, _, _ in self.buffers)])
        types = (PART_TYPE, *(t for _, t in self.shared), *(t for _, _, t in self.buffers))
        prologue = self.body.lines[:self.prologue]
        entry = (launch.unpack_lines(self.shared) + prologue + [f"    {n} = {a}" for n, a, _ in self.buffers]
                 + [f"    return invoke(block_[{launch.work_offset(self.shared)}], WORK, ({names},))"])
        work = f"\n@without_aliases\n{KERNEL_JIT}\ndef work({names}):\n" + "\n".join(self.body.lines) + \
            "\n    return part\n\n"
        vecmath = VECMATH_IMPORT + "\n" if "vm." in work and VECMATH_IMPORT not in self.imports else ""
        declaration = f"WORK = function_type({list(types)!r}, {PART_TYPE!r})\n"
        return KernelText(("part", "block_"), "\n".join(entry) + "\n",
                          imports=self.imports + launch.LAUNCH_IMPORTS + declaration + vecmath + work), types


def open_parts(em: Emitter, prologue: int, shared: list[tuple[str, tuple | None]], imports: str,
               buffers: list[tuple[str, str, tuple]] | None = None) -> PartsLoop:
    """Open the loop ``for t in numba.prange(parts)`` of the kernel being emitted into ``em``.

    Args:
        em: the kernel's emitter.
        prologue: how many of ``em``'s lines so far are pure (sizes and views of the arguments): the body
            runs them again.
        shared: the arrays the body reads or writes, as (name, (dtype, ndim, layout, read-only)); a type of
            None keeps the body inline.
        imports: the module lines the body's code needs.
        buffers: (name, allocation, type) of arrays each part allocates for itself; given, the body's lines
            run in a function of their own that takes every array as a parameter, compiled with no aliasing
            among them (the buffers are allocated where the loop stays inline).

    Returns:
        The open loop: its ``body`` emitter is at the body's indentation.
    """
    split = (em.parent is not None and em.table.address_calls and threads.parts() > 1
             and all(t is not None for _, t in shared))
    if not split:
        em.open("for t in numba.prange(parts):")
        for name, allocation, _ in buffers or ():
            em.line(f"{name} = {allocation}")
        return PartsLoop(em, em, False, [], imports)
    body = Emitter(em.table, parent=em.parent, target=KernelTarget())
    body.names = em.names
    body.lines += em.lines[:prologue]
    body.line("t = part[0]")
    return PartsLoop(em, body, True, list(shared), imports, list(buffers or ()), buffers is not None,
                     len(body.lines))
