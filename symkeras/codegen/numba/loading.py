"""Loading compiled functions from Numba's cache without setting up its compiler.

``Dispatcher.compile`` refreshes the target before it looks in the cache:
the first refresh in a process imports and installs every typing and
lowering registry (NumPy support, the CPython builtins: ~0.1 s), which a
compile needs and loading machine code does not (it needs Numba's runtime
alone, whose set-up is cheap).  ``load_cached`` takes the
cached overload directly; a function that is not cached is left to
``compile``, which then sets the target up as usual.

Kernels are called by the step through their addresses alone, so ``load_address`` goes further: it adds
the cached machine code to Numba's JIT engine as an object file and looks the function up, without making
a dispatcher overload of it.  Numba's own load parses the function's LLVM bitcode (kept for inlining into
other functions), registers its symbols one by one and builds a callable wrapper: 3-5 ms a kernel, 0.17 of
the 0.25 s that B3's 57 kernels took to load.
"""

from __future__ import annotations

import threading

#: (cache index file, function, argument types) -> (address, return type, the environments its code points to); an
#: object file cannot be unloaded, so each is added once per process and the environments live as long
_ADDRESSES: dict = {}
_ADDRESSES_LOCK = threading.Lock()


def load_cached(dispatcher, signature) -> bool:
    """Install ``dispatcher``'s overload for ``signature`` from Numba's cache.

    Args:
        dispatcher: a Numba CPU dispatcher made with ``cache=True``.
        signature: a tuple of Numba argument types.

    Returns:
        True when the overload is in place (loaded now, or before); False when
        the cache holds none (or the dispatcher has no cache).

    Raises:
        Whatever reading a damaged cache entry raises (EOFError, pickle's
        errors); ``cache.compile_healing`` handles those.
    """
    from numba.core import sigutils
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.runtime import rtsys

    args, _ = sigutils.normalize_signature(signature)
    if tuple(args) in dispatcher.overloads:
        return True
    load = getattr(dispatcher._cache, "_load_overload", None)  # (NullCache: a dispatcher without cache=True)
    if load is None:
        return False
    with global_compiler_lock:
        rtsys.initialize(dispatcher.targetctx)  # (the runtime's symbols, which cached code links against)
        compiled = load(signature, dispatcher.targetctx)
        if compiled is None:
            return False
        if not compiled.objectmode:
            dispatcher.targetctx.insert_user_function(compiled.entry_point, compiled.fndesc, [compiled.library])
        dispatcher.add_overload(compiled)
    dispatcher._cache_hits[signature] += 1
    return True


def cached_entry(dispatcher, arg_types):
    """Numba's cache entry of ``dispatcher`` for the Numba types ``arg_types``, as it unpickles it
    (Numba's CompileResult reduced: library, function descriptor, environment, signature, object mode,
    lifted loops, type annotation, re-initializers, referenced environments), or None."""
    cache = getattr(dispatcher, "_cache", None)
    cache_file = getattr(cache, "_cache_file", None)
    if cache_file is None:
        return None
    data = cache_file.load(cache._index_key(tuple(arg_types), dispatcher.targetctx.codegen()))
    if not isinstance(data, tuple) or len(data) != 9:
        return None
    return data


def load_address(dispatcher, signature):
    """The address of ``dispatcher``'s machine code for ``signature``, from Numba's cache, without an overload.

    Args:
        dispatcher: a Numba CPU dispatcher made with ``cache=True`` whose function is only called through
            its address (no CPython wrapper needed).
        signature: a tuple of Numba argument types.

    Returns:
        ``(address, return_type)``, or None when the cache holds no entry for ``signature`` (or one in a
        form this loader does not take: Numba's ``load_cached`` or ``compile`` is then the way).

    Raises:
        Whatever reading a damaged cache entry raises (EOFError, pickle's errors).
    """
    from llvmlite import binding
    from numba.core import sigutils
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.runtime import rtsys

    args, _ = sigutils.normalize_signature(signature)
    cache = dispatcher._cache
    cache_file = getattr(cache, "_cache_file", None)  # (NullCache: a dispatcher without cache=True)
    if cache_file is None:
        return None
    key = (getattr(cache_file, "_index_path", None), dispatcher.py_func.__qualname__, tuple(args))
    with _ADDRESSES_LOCK:
        known = _ADDRESSES.get(key)
    if known is not None:
        return known[:2]
    with global_compiler_lock:
        context = dispatcher.targetctx
        rtsys.initialize(context)  # (the runtime's symbols, which the machine code links against)
        codegen = context.codegen()
        data = cached_entry(dispatcher, args)
        if data is None:
            return None
        library, fndesc, _, cached_signature, objectmode, _, _, reload_init, environments = data
        if objectmode or len(library) != 3 or library[1] != "object":
            return None
        for initialize in reload_init:  # (a parallel kernel's threading layer)
            initialize()
        engine = codegen._engine._ee
        engine.add_object_file(binding.ObjectFileRef.from_data(library[2][0]))
        engine.finalize_object()
        for environment in environments:
            codegen.set_env(environment.env_name, environment)
        address = engine.get_function_address(fndesc.llvm_func_name)
    if not address:
        return None
    with _ADDRESSES_LOCK:
        _ADDRESSES[key] = (address, cached_signature.return_type, environments)
    return address, cached_signature.return_type
