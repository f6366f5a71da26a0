"""Writing a program's bundle (native.py): its step's and kernels' machine code from Numba's cache, in one file.

Run in a process that has loaded the program through Numba, right after the load; a later process then
restores the program without importing Numba.  Only what the native loader can run is bundled: machine
code in Numba's object-file form, in nopython mode, that needs no re-initializer but the threading
layer's start (a kernel with parallel loops runs on the workqueue layer, which the loader starts as
Numba would), whose environments' constants pickle without Numba's own objects.  Anything else leaves
the program without a bundle (it loads through Numba, as before).
"""

from __future__ import annotations

import builtins
import pickle
import warnings

from symkeras.codegen.numba import native
from symkeras.codegen.numba.loading import cached_entry
from symkeras.codegen.numba.precompile import numba_signature


def symbol_sources() -> dict[str, str]:
    """Where each symbol Numba registers for its machine code comes from (native.SOURCES)."""
    from numba import _dynfunc, _helperlib
    from numba.core import intrinsics
    from numba.core.runtime import _nrt_python

    sources = {f"numba_{name}": "helperlib" for name in _helperlib.c_helpers}
    sources.update({f"numba_{name}": "dynfunc" for name in _dynfunc.c_helpers})
    sources.update({name if name.startswith("_") else f"NRT_{name}": "nrt" for name in _nrt_python.c_helpers})
    sources.update({name: "math" for name in intrinsics.INTR_MATH if name in _helperlib.c_helpers})
    sources.update({f"PyExc_{name}": "exception" for name, value in vars(builtins).items()
                    if isinstance(value, type) and issubclass(value, BaseException)})
    sources.update({name: "threading" for name in native.THREADING_SYMBOLS})
    sources["_Py_NoneStruct"] = "none"
    sources["numba_unpickle"] = "unpickle"
    return sources


#: how an object-mode block (a print, an allreduce) reads in generated code
OBJECT_MODE = "numba.objmode"


class _Unbundlable(Exception):
    """A part of the program the native loader cannot run."""


def _starts_parallel_loops(function) -> bool:
    """Whether a cache entry's re-initializer is Numba's for a function with parallel loops (it starts the
    threading layer, which native.py starts itself)."""
    return getattr(function, "__name__", None) == "_reload_parfors" and \
        getattr(function, "__module__", "").startswith("numba.")


def _object_code(entry) -> bytes:
    library, _, _, _, objectmode, _, _, reload_init, _ = entry
    if objectmode or len(library) != 3 or library[1] != "object":
        raise _Unbundlable("not nopython machine code in object form")
    if not all(_starts_parallel_loops(f) for f in reload_init):
        raise _Unbundlable("it needs another re-initializer than the threading layer's start")
    return library[2][0]


def _constants(environment) -> bytes | None:
    consts = list(environment.consts)
    if not consts:
        return None
    data = pickle.dumps(consts, protocol=pickle.HIGHEST_PROTOCOL)
    if b"numba" in data:
        raise _Unbundlable("an environment holds Numba's objects")
    return data


def gather(program, arguments) -> tuple[dict, list[bytes]]:
    """The header and blobs of ``program``'s bundle for the step's ``arguments``.

    Raises:
        _Unbundlable: a part the native loader cannot run.
    """
    import numba

    if any(OBJECT_MODE in source for source in [program._source, *program.layout.kernel_sources]):
        raise _Unbundlable("an object-mode block looks names up in its module, which the bundle does not import")
    blobs: list[bytes] = []
    objects, environments, names = [], [], {}

    def add(entry) -> None:
        blobs.append(_object_code(entry))
        objects.append(len(blobs) - 1)
        for environment in entry[8]:
            if environment.env_name in names:
                continue
            consts = _constants(environment)
            if consts is not None:
                blobs.append(consts)
            names[environment.env_name] = len(environments)
            environments.append([environment.env_name, None if consts is None else len(blobs) - 1])

    kernels, seen = [], set()
    for k, arg_types, _, function in program.layout.functions:
        dispatcher = getattr(program.kernel_modules[k], function)
        signature = numba_signature(arg_types)
        entry = cached_entry(dispatcher, signature)
        if entry is None:
            raise _Unbundlable(f"no cache entry for {dispatcher.py_func.__module__}")
        if (dispatcher, signature) not in seen:
            seen.add((dispatcher, signature))
            add(entry)
        kernels.append(entry[1].llvm_func_name)
    machine = tuple(program.module.step.targetctx.codegen().magic_tuple())
    if machine != native.host_machine():
        raise _Unbundlable(f"Numba compiles for {machine[1]} with other features than the host's (NUMBA_CPU_*)")
    step_types = tuple(numba.typeof(a) for a in arguments)
    entry = cached_entry(program.module.step, step_types)
    if entry is None:
        raise _Unbundlable("no cache entry for the step")
    add(entry)
    fndesc, environment = entry[1], entry[2]
    if environment.env_name not in names:
        raise _Unbundlable("the step's environment is not among those its code refers to")
    from symkeras.codegen.numba.program import _signature

    header = {"versions": native.runtime_versions(), "machine": list(machine),
              "signature": [list(s) for s in _signature(arguments)],
              "objects": objects, "environments": environments, "kernels": kernels, "symbols": symbol_sources(),
              "step": {"wrapper": fndesc.llvm_cpython_wrapper_name, "environment": names[environment.env_name],
                       "module": fndesc.modname}}
    return header, blobs


def write_bundle(path: str, program, arguments) -> bool:
    """Write ``program``'s bundle to ``path``; whether it was written (not: a part it cannot hold, or the
    cache could not be read or written, which is warned about)."""
    try:
        header, blobs = gather(program, arguments)
    except _Unbundlable:
        return False
    except Exception as error:  # noqa: BLE001  (a damaged cache entry: the program runs on without a bundle)
        warnings.warn(f"symkeras: the program's bundle was not written ({type(error).__name__}: {error})",
                      RuntimeWarning, stacklevel=2)
        return False
    try:
        native.write(path, header, blobs)
    except OSError as error:
        warnings.warn(f"symkeras: the program's bundle was not written ({error})", RuntimeWarning, stacklevel=2)
        return False
    return True
