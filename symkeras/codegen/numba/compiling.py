"""Generated functions that Numba compiles with other settings than its defaults.

A setting wraps the dispatcher's function compiler (Numba's
``_FunctionCompiler``, which every compile of the dispatcher goes through);
loading from the cache is unaffected.
"""

from __future__ import annotations


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
