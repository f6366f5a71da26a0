"""Generated functions that Numba compiles with other settings than its defaults.

A setting wraps the dispatcher's function compiler (Numba's
``_FunctionCompiler``, which every compile of the dispatcher goes through);
loading from the cache is unaffected.  ``optimization_level`` sets LLVM's
level for the compiles symkeras starts (precompile, cache.compile_healing).
"""

from __future__ import annotations

import contextlib
import os


def _customized(dispatcher, customize_flags):
    compiler = dispatcher._compiler
    base = type(compiler)

    class Compiler(base):
        def _customize_flags(self, flags):
            return customize_flags(base._customize_flags(self, flags))

    compiler.__class__ = Compiler
    return dispatcher


def without_aliases(dispatcher):
    """Compile ``dispatcher`` with its array arguments marked as not aliasing one another.

    Its caller promises that no two of them overlap except an output written at exactly the position
    each step reads from its input (an elementwise kernel writing into its input's buffer), the case in
    which Numba marks a parfor's arrays the same way (its ``noalias`` flag).
    """

    def noalias(flags):
        flags.noalias = True
        return flags

    return _customized(dispatcher, noalias)


#: LLVM's optimization level for generated code.  O2 runs every pass that matters to these kernels (loop
#: and SLP vectorization, unrolling, LICM) and skips O3's extra inlining and argument promotion, which find
#: nothing to do in kernels that call no Python-level functions: the same speed, 10% less compile work.
OPT_LEVEL = 2


@contextlib.contextmanager
def optimization_level(level: int = OPT_LEVEL):
    """Numba's compiles inside the block run LLVM's optimization passes at ``level``.

    Numba reads the level (``NUMBA_OPT``, default 3) from its configuration
    whenever it builds a pass pipeline, so it is set for the block alone,
    holding Numba's compiler lock: no other thread compiles meanwhile, and
    the user's own jitted functions keep their level.  The target machine is
    created first, at Numba's level, so its machine-code generation is
    unchanged.  A level set by ``NUMBA_OPT`` (in the environment) is kept.
    """
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock
    from numba.core.registry import cpu_target

    if "NUMBA_OPT" in os.environ:
        yield
        return
    with global_compiler_lock:
        cpu_target.target_context.codegen()
        saved = config.OPT
        config.OPT = type(saved)(level)
        try:
            yield
        finally:
            config.OPT = saved
