"""Running a cached step without importing Numba: its machine code loaded with llvmlite alone.

``import numba`` takes 0.12-0.2 s (its ``__init__`` builds the compiler: typing and lowering registries,
stencils, parfors), which was most of a warm process's first batch; running code Numba compiled needs
none of it.  The step and its kernels are object files in Numba's cache; what they call is Numba's C
runtime (three extension modules), CPython's C API and the C library.  So when a program has run once
in a process with Numba, ``bundling.write`` gathers its machine code into one *bundle* file beside the
program's entry in the cache; a later process restores the program from that file (``load``):

- Numba's extension modules ``_helperlib``, ``_dynfunc`` and ``core.runtime._nrt_python`` are loaded
  from their files under their own names (a later ``import numba`` finds and uses them, as it finds
  SciPy's BLAS modules, ``scipy_blas.py``), and the symbols Numba would register are registered;
- the object files go into one MCJIT engine of llvmlite's, each environment (the constants a function
  boxes results with) is made and pointed to, and the step's CPython wrapper becomes a Python function
  (``_dynfunc.make_function``, as Numba makes its own);
- the wrapper boxes each result array with the array type it unpickles (``numba_unpickle``); Numba's
  unpickler imports ``numba.core.serialize``, so while Numba is not imported that symbol is this
  module's (``pickle.loads``, memoized per constant as Numba's is).

The step is called with exactly the argument types it was compiled for (a Numba dispatcher would
choose among overloads; ``NativeStep.accepts`` checks them), else the caller goes the way through
Numba.  Every symbol an object file needs is resolved before the engine links it (an unresolved one
would abort the process): a bundle that cannot be fully resolved, was written by other versions or for
another CPU (hosts sharing a cache folder each keep their own, named by ``machine_tag``), or is damaged
is not loaded (``load`` returns None) and the program is loaded through Numba as before.
Bundles are written by symkeras into its own cache folder (machine code that runs either way); nothing
in them is unpickled but the constants Numba itself pickled into its cache entries.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import functools
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import pickle
import re
import struct
import sys
import threading
import warnings

#: the first bytes of a bundle file, with its format's version
MAGIC = b"SYMKERAS-NATIVE-1\n"
#: Numba's C extension modules the machine code calls into, loaded in this order
EXTENSIONS = ("numba._helperlib", "numba._dynfunc", "numba.core.runtime._nrt_python")
#: where a bundle's symbols come from: Numba's C helpers (``numba_`` + name), its runtime's (``NRT_`` +
#: name), the C math functions Numba maps to its helpers' copies, a built-in exception (``PyExc_`` +
#: name), None, this module's unpickler, the threading layer, or the process
SOURCES = ("helperlib", "dynfunc", "nrt", "math", "exception", "none", "unpickle", "threading", "process")
#: the threading layer's functions a kernel with parallel loops calls, by the names Numba registers them
#: under: the attribute of the layer's module holding each one's address
THREADING_SYMBOLS = {"numba_parallel_for": "parallel_for", "do_scheduling_signed": "do_scheduling_signed",
                     "do_scheduling_unsigned": "do_scheduling_unsigned", "allocate_sched": "allocate_sched",
                     "deallocate_sched": "deallocate_sched", "get_num_threads": "get_num_threads",
                     "set_num_threads": "set_num_threads", "get_thread_id": "get_thread_id",
                     "set_parallel_chunksize": "set_parallel_chunksize",
                     "get_parallel_chunksize": "get_parallel_chunksize", "get_sched_size": "get_sched_size"}
#: the one threading layer bundles run on (symkeras's choice, threads.py)
LAYER = "workqueue"


class BundleError(Exception):
    """A bundle that cannot be loaded here (other versions, a symbol not found, a damaged file)."""


def runtime_versions() -> dict:
    """The versions a bundle's machine code depends on besides its own source (it was made by them)."""
    return {"python": sys.version.split()[0], "numba": _distribution_version("numba"),
            "llvmlite": _distribution_version("llvmlite"), "format": MAGIC.decode().strip()}


@functools.cache
def _distribution_version(name: str) -> str:
    """``name.__version__`` without importing ``name`` where its versioneer file says it (Numba's and
    llvmlite's do; reading it is 0.1 ms, importlib.metadata 10-15 ms), else the installed distribution's."""
    module = sys.modules.get(name)
    if module is not None and hasattr(module, "__version__"):
        return str(module.__version__)
    found = versioneer_version(name)
    if found is not None:
        return found
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


@functools.cache
def host_machine() -> tuple[str, str, str]:
    """(target triple, CPU name, CPU features) of this host as LLVM sees them: Numba's description of the
    machine its code is compiled for (its ``magic_tuple``) when no ``NUMBA_CPU_*`` setting changes it.
    Machine code compiled for one host may not run on another (a cache folder shared by a team)."""
    from llvmlite import binding

    try:
        features = binding.get_host_cpu_features().flatten()
    except RuntimeError:
        features = ""
    return binding.get_process_triple(), binding.get_host_cpu_name(), features


def machine_tag() -> str:
    """A short name of ``host_machine()``, part of a bundle's file name (so hosts sharing a cache folder
    keep one bundle each)."""
    return hashlib.sha1("|".join(host_machine()).encode()).hexdigest()[:8]


def versioneer_version(name: str) -> str | None:
    """The version the versioneer file ``_version.py`` of the package ``name`` holds, read as text (the
    package is not imported); None when there is none."""
    spec = importlib.util.find_spec(name) if name not in sys.modules else sys.modules[name].__spec__
    for folder in (spec.submodule_search_locations or []) if spec is not None else []:
        try:
            with open(os.path.join(folder, "_version.py"), encoding="utf-8") as file:
                text = file.read()
        except OSError:
            continue
        found = re.search(r"""["']version["']:\s*["']([^"']+)["']|version_version\s*=\s*["']([^"']+)["']""", text)
        if found:
            return found.group(1) or found.group(2)
    return None


# --- the file -------------------------------------------------------------------------------------

def write(path: str, header: dict, blobs: list[bytes]) -> None:
    """Write a bundle: ``header`` (JSON data naming blobs by their index) and the ``blobs``, atomically."""
    offsets, position = [], 0
    for blob in blobs:
        offsets.append([position, len(blob)])
        position += len(blob)
    digest = hashlib.sha256(b"".join(blobs)).hexdigest()
    text = json.dumps(dict(header, blobs=offsets, sha256=digest)).encode()
    temporary = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(temporary, "wb") as file:
        file.write(MAGIC + struct.pack("<Q", len(text)) + text)
        for blob in blobs:
            file.write(blob)
    os.replace(temporary, path)


def read(path: str) -> tuple[dict, list[bytes]]:
    """The header and blobs of the bundle at ``path``.

    Raises:
        OSError: no such file.
        BundleError: the file is not a whole bundle of this format.
    """
    with open(path, "rb") as file:
        data = file.read()
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 8:
        raise BundleError(f"{path} is not a symkeras bundle of this format")
    (length,) = struct.unpack_from("<Q", data, len(MAGIC))
    start = len(MAGIC) + 8
    try:
        header = json.loads(data[start:start + length])
        base = start + length
        blobs = [data[base + offset:base + offset + size] for offset, size in header["blobs"]]
    except (ValueError, KeyError, TypeError) as error:
        raise BundleError(f"{path}: a damaged header ({error})") from None
    if any(len(blob) != size for blob, (_, size) in zip(blobs, header["blobs"])):
        raise BundleError(f"{path} is cut short")
    if hashlib.sha256(data[base:]).hexdigest() != header.get("sha256"):
        raise BundleError(f"{path} does not match its content hash")
    return header, blobs


def elf_symbols(data: bytes) -> tuple[set[str], set[str]]:
    """(global symbols defined, symbols used but not defined) of a little-endian ELF64 object file.

    Raises:
        BundleError: the data is not such a file.
    """
    if data[:4] != b"\x7fELF" or len(data) < 64 or data[4] != 2 or data[5] != 1:
        raise BundleError("not a little-endian ELF64 object file")
    try:
        (section_offset,) = struct.unpack_from("<Q", data, 0x28)
        entry_size, count = struct.unpack_from("<HH", data, 0x3A)
        sections = [struct.unpack_from("<IIQQQQIIQQ", data, section_offset + i * entry_size) for i in range(count)]
        defined, undefined = set(), set()
        for _, kind, _, _, offset, size, link, _, _, symbol_size in sections:
            if kind != 2 or not symbol_size:  # (SHT_SYMTAB)
                continue
            strings_at, strings_size = sections[link][4], sections[link][5]
            strings = data[strings_at:strings_at + strings_size]
            for k in range(size // symbol_size):
                name_at, info, _, section, _, _ = struct.unpack_from("<IBBHQQ", data, offset + k * symbol_size)
                if not name_at:
                    continue
                name = strings[name_at:strings.index(b"\0", name_at)].decode()
                if section == 0:  # (SHN_UNDEF)
                    undefined.add(name)
                elif info >> 4 in (1, 2):  # (STB_GLOBAL, STB_WEAK)
                    defined.add(name)
    except (struct.error, ValueError, IndexError) as error:
        raise BundleError(f"a damaged object file ({error})") from None
    return defined, undefined - defined


# --- the runtime: Numba's C extensions, the symbols, one engine -------------------------------------

def _extension(name: str):
    """Numba's extension module ``name``, loaded from its file under its own name if not imported yet."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    spec = importlib.util.find_spec("numba") if "numba" not in sys.modules else sys.modules["numba"].__spec__
    if spec is None or not spec.submodule_search_locations:
        raise BundleError("numba is not installed")
    parts = name.split(".")
    folder = os.path.join(list(spec.submodule_search_locations)[0], *parts[1:-1])
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = os.path.join(folder, parts[-1] + suffix)
        if os.path.exists(path):
            break
    else:
        raise BundleError(f"{name}: no extension module file in {folder}")
    loader = importlib.machinery.ExtensionFileLoader(name, path)
    module_spec = importlib.util.spec_from_file_location(name, path, loader=loader)
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


_UNPICKLED: dict = {}


def _unpickle(address: int, data: bytes):
    """The constant at ``address`` (its pickle ``data``) unpickled, once each (``numba_unpickle``, see the
    module's docstring; machine code cannot be unloaded, so an address names one constant for good)."""
    value = _UNPICKLED.get(address)
    if value is None:
        value = _UNPICKLED[address] = pickle.loads(data)
    return value


#: ``numba_unpickle`` for bundles: calls ``_unpickle`` through CPython's C API, so that an exception raised
#: there (a KeyboardInterrupt's handler runs in it) reaches the step's caller as it does through Numba's
_UNPICKLE_IR = """
declare ptr @PyLong_FromVoidPtr(ptr)
declare ptr @PyBytes_FromStringAndSize(ptr, i64)
declare ptr @PyObject_CallFunctionObjArgs(ptr, ...)
declare void @Py_DecRef(ptr)

define ptr @symkeras_unpickle(ptr %data, i32 %size, ptr %digest) {
entry:
  %address = call ptr @PyLong_FromVoidPtr(ptr %data)
  %length = sext i32 %size to i64
  %bytes = call ptr @PyBytes_FromStringAndSize(ptr %data, i64 %length)
  %no_address = icmp eq ptr %address, null
  %no_bytes = icmp eq ptr %bytes, null
  %failed = or i1 %no_address, %no_bytes
  br i1 %failed, label %error, label %call
call:
  %value = call ptr (ptr, ...) @PyObject_CallFunctionObjArgs(ptr inttoptr (i64 FUNCTION to ptr), ptr %address,
                                                              ptr %bytes, ptr null)
  call void @Py_DecRef(ptr %address)
  call void @Py_DecRef(ptr %bytes)
  ret ptr %value
error:
  call void @Py_DecRef(ptr %address)
  call void @Py_DecRef(ptr %bytes)
  ret ptr null
}
"""


class _Runtime:
    """What loaded machine code needs in this process (made once, by ``runtime()``)."""

    def __init__(self):
        from llvmlite import binding

        self.binding = binding
        modules = [_extension(name) for name in EXTENSIONS]
        self.helperlib, self.dynfunc, self.nrt = modules
        binding.initialize_native_target()
        binding.initialize_native_asmprinter()
        target = binding.Target.from_triple(binding.get_process_triple())
        machine = target.create_target_machine(reloc="static", codemodel="jitdefault")
        self.engine = binding.create_mcjit_compiler(binding.parse_assembly(""), machine)
        self.machine = machine
        module = binding.parse_assembly(_UNPICKLE_IR.replace("FUNCTION", str(id(_unpickle))))
        module.triple = binding.get_process_triple()
        self.engine.add_module(module)
        self.engine.finalize_object()
        self.unpickle = self.engine.get_function_address("symkeras_unpickle")
        self._unpickle_module = module  # (the engine owns it now; kept with the runtime)
        self.lock = threading.Lock()
        #: every environment made, kept alive with the engine (the machine code points to them)
        self.environments: list = []
        #: the object files added (their SHA-1): each once, since two definitions of a symbol abort LLVM
        self.loaded: set[bytes] = set()
        self.defined: set[str] = set()
        self._layer, self._layer_pid = None, None

    def address(self, source: str, name: str) -> int | None:
        """The address symbol ``name`` (of origin ``source``, one of SOURCES) has in this process."""
        if source == "helperlib":
            return self.helperlib.c_helpers.get(name[len("numba_"):]) if name.startswith("numba_") else None
        if source == "dynfunc":
            return self.dynfunc.c_helpers.get(name[len("numba_"):]) if name.startswith("numba_") else None
        if source == "math":
            return self.helperlib.c_helpers.get(name)
        if source == "nrt":
            return self.nrt.c_helpers.get(name if name.startswith("_") else name[len("NRT_"):])
        if source == "exception":
            kind = getattr(builtins, name[len("PyExc_"):], None)
            return id(kind) if isinstance(kind, type) and issubclass(kind, BaseException) else None
        if source == "threading":
            attribute = THREADING_SYMBOLS.get(name)
            return getattr(self.threading_layer(), attribute, None) if attribute else None
        if source == "none":
            return id(None)
        if source == "unpickle":
            if "numba.core.serialize" in sys.modules:  # (Numba's own works now, and is the one it registers)
                return self.helperlib.c_helpers["unpickle"]
            return self.unpickle
        return self.binding.address_of_symbol(name) or None

    def add(self, objects: list[bytes], symbols: dict[str, str]) -> None:
        """Add the object files not added before to the engine, every symbol they use resolved first.

        Raises:
            BundleError: a symbol is not found in this process, or an object file is damaged.
        """
        digests = [hashlib.sha1(data).digest() for data in objects]
        new = {digest: data for digest, data in zip(digests, objects) if digest not in self.loaded}
        defined, needed = set(self.defined), set()
        for data in new.values():
            have, wants = elf_symbols(data)
            defined |= have
            needed |= wants
        resolved = {}
        for name in sorted(needed - defined):
            source = symbols.get(name, "process")
            address = self.address(source, name)
            if not address:
                raise BundleError(f"symbol {name} ({source}) is not found in this process")
            resolved[name] = (source, address)
        for name, (source, address) in resolved.items():
            if source != "process":
                self.binding.add_symbol(name, address)
        for digest, data in new.items():
            self.engine.add_object_file(self.binding.ObjectFileRef.from_data(data))
            self.loaded.add(digest)
        self.defined = defined
        self.engine.finalize_object()

    def threading_layer(self):
        """Numba's workqueue threading layer, its threads started (as Numba starts them for a cached kernel
        with parallel loops: once a process, ``NUMBA_NUM_THREADS`` of them).

        Raises:
            BundleError: the process runs or asks for another layer.
        """
        if self._layer is not None and self._layer_pid == os.getpid():
            return self._layer
        numba = sys.modules.get("numba")
        if numba is not None and hasattr(numba, "config"):
            from numba.np.ufunc import parallel

            from symkeras.codegen.numba import blas_pools

            blas_pools.configure()
            parallel._launch_threads()
            if parallel._threading_layer != LAYER:
                raise BundleError(f"the process runs Numba's {parallel._threading_layer} threading layer")
            layer = sys.modules[f"numba.np.ufunc.{LAYER}"]
        else:
            chosen = os.environ.get("NUMBA_THREADING_LAYER")
            if chosen is not None and chosen.lower() != LAYER:
                raise BundleError(f"NUMBA_THREADING_LAYER asks for {chosen}")
            from symkeras.codegen.numba import blas_pools

            layer = _extension(f"numba.np.ufunc.{LAYER}")
            count = blas_pools.numba_threads()
            ctypes.CFUNCTYPE(None, ctypes.c_int)(layer.launch_threads)(count)  # (a no-op when they run)
            ctypes.CFUNCTYPE(None, ctypes.c_int)(layer.set_num_threads)(count)
        self._layer, self._layer_pid = layer, os.getpid()
        return layer

    def environment(self, name: str, consts: list):
        """A new environment for the global ``name`` of the loaded code, holding ``consts``."""
        environment = self.dynfunc.Environment({})
        environment.consts[:] = consts
        where = self.engine.get_global_value_address(name)
        if not where:
            raise BundleError(f"environment {name} is not in the loaded code")
        ctypes.c_void_p.from_address(where).value = id(environment)
        self.environments.append(environment)
        return environment


_RUNTIME: _Runtime | None = None
_RUNTIME_LOCK = threading.Lock()


def runtime() -> _Runtime:
    """The process's runtime for bundles (made on first use)."""
    global _RUNTIME
    with _RUNTIME_LOCK:
        if _RUNTIME is None:
            _RUNTIME = _Runtime()
        return _RUNTIME


# --- loading a bundle ------------------------------------------------------------------------------

class NativeStep:
    """A step loaded from a bundle: ``function(*arguments)`` runs it, ``fns`` are its kernels' addresses.

    Attributes:
        fns: the int64 array of the kernels' addresses, in the order the step calls them.
        signature: per argument of the step, (dtype, ndim, layout, read-only) as compiled.
    """

    def __init__(self, function, fns, signature):
        import numpy as np

        self.function = function
        self.fns = fns
        self.signature = [tuple(s) for s in signature]
        self._kinds = [(np.dtype(s[0]), s[1], s[3]) for s in self.signature]

    def accepts(self, arguments, count: int | None = None) -> bool:
        """Whether ``arguments`` have the types the step was compiled for (C-contiguous arrays of its
        dtypes and ranks, writable where it writes); only the first ``count`` of them when given (the
        caller knows the others did).  (Run before every call: kept to a few attribute reads.)"""
        kinds = self._kinds
        if len(arguments) != len(kinds):
            return False
        for i in range(len(kinds) if count is None else count):
            value = arguments[i]
            dtype, ndim, readonly = kinds[i]
            try:
                flags = value.flags
                if value.ndim != ndim or not flags.c_contiguous or (not readonly and not flags.writeable) \
                        or value.dtype != dtype:
                    return False
            except AttributeError:
                return False
        return True


def load(path: str, signature) -> NativeStep | None:
    """The step in the bundle at ``path`` if it was compiled for ``signature`` (see NativeStep) and loads
    here; else None (no bundle, other versions or types, a damaged file, a symbol not found)."""
    import numpy as np

    try:
        header, blobs = read(path)
    except FileNotFoundError:
        return None
    except (OSError, BundleError) as error:
        warnings.warn(f"symkeras: a damaged program bundle was removed and is made again ({error})",
                      RuntimeWarning, stacklevel=3)
        with contextlib.suppress(OSError):
            os.remove(path)
        return None
    if header.get("versions") != runtime_versions() or [list(s) for s in signature] != header.get("signature") \
            or header.get("machine") != list(host_machine()):
        return None
    try:
        rt = runtime()
        with rt.lock:
            rt.add([blobs[i] for i in header["objects"]], header["symbols"])
            environments = [rt.environment(name, pickle.loads(blobs[consts]) if consts is not None else [])
                            for name, consts in header["environments"]]
            addresses = [rt.engine.get_function_address(name) for name in header["kernels"]]
            wrapper = rt.engine.get_function_address(header["step"]["wrapper"])
            environment = environments[header["step"]["environment"]]
    except (BundleError, KeyError, IndexError, TypeError, ValueError, pickle.UnpicklingError, RuntimeError):
        return None
    if not wrapper or not all(addresses):
        return None
    module = type(sys)(header["step"]["module"])
    function = rt.dynfunc.make_function(module, "step", f"step of {header['step']['module']} (from a bundle)",
                                        wrapper, environment, (rt.engine,))
    return NativeStep(function, np.array(addresses or [0], dtype=np.int64), header["signature"])
