"""Loading compiled functions from Numba's cache without setting up its compiler.

``Dispatcher.compile`` refreshes the target before it looks in the cache:
the first refresh in a process imports and installs every typing and
lowering registry (NumPy support, the CPython builtins: ~0.1 s), which a
compile needs and loading machine code does not (it needs Numba's runtime
alone, whose set-up is cheap).  ``load_cached`` takes the
cached overload directly; a function that is not cached is left to
``compile``, which then sets the target up as usual.
"""

from __future__ import annotations


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
