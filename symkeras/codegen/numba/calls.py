"""The step calls its kernels through their addresses, so no kernel's code is compiled into the step.

Numba links the code of every jitted function a function calls into the
caller and optimizes and compiles the whole again: a step calling 30
kernels compiled all 30 a second time (4-5 s of LLVM work for B2).  Called
through a pointer (Numba's first-class function type, with its own calling
convention, so exceptions and reference counts work as in a direct call),
a kernel is compiled once, in any process, and cached on its own.  The
step receives the addresses in an int64 array at each call.
"""

from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.extending import intrinsic

from symkeras.codegen.numba.precompile import array_type, numba_signature


def function_type(arg_types, result) -> types.FunctionType:
    """The first-class function type of a kernel taking ``arg_types`` and returning ``result``."""
    return types.FunctionType(array_type(result)(*[array_type(a) for a in arg_types]))


#: the start of the typing error of a kernel called with other types than generated for (see NumbaProgram)
MISMATCH = "symkeras generated a kernel call"


@intrinsic
def invoke(typingctx, address, fn_type, args):
    """Call the kernel at ``address`` (from ``jit_address``), of type ``fn_type``, with the tuple ``args``.

    The call follows Numba's own calling convention: an exception raised in
    the kernel propagates out of the step.
    """
    signature = fn_type.instance_type.signature
    if tuple(args) != tuple(signature.args):
        raise TypingError(f"{MISMATCH} for {signature.args} but passes {tuple(args)}")

    def codegen(context, builder, sig, llargs):
        fnty = context.call_conv.get_function_type(signature.return_type, signature.args)
        pointer = builder.inttoptr(llargs[0], fnty.as_pointer())
        values = [builder.extract_value(llargs[2], i) for i in range(len(signature.args))]
        status, result = context.call_conv.call_function(builder, pointer, signature.return_type, signature.args,
                                                         values)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return result

    return signature.return_type(address, fn_type, args), codegen


def jit_address(dispatcher, arg_types, result) -> int:
    """Compile (or load from the cache) ``dispatcher`` for ``arg_types``; the address of its code.

    Raises TypeError when the kernel does not return the array type the
    step was generated for (calling it through the pointer would be unsafe).
    """
    args = numba_signature(arg_types)
    dispatcher.compile(args)
    compiled = dispatcher.overloads[args]
    expected = array_type(result)
    if compiled.signature.return_type != expected:
        raise TypeError(f"kernel {dispatcher.py_func.__module__} returns {compiled.signature.return_type}, "
                        f"the step expects {expected}")
    return compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
