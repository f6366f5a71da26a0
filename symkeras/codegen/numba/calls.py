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
from numba.np.arrayobj import populate_array

from symkeras.codegen.numba.precompile import array_type, numba_signature


def result_type(result):
    """Numba's type of a kernel's result: one array's (dtype, ndim, layout, read-only), or a sequence of
    them (a kernel with several outputs returns a tuple of arrays)."""
    if isinstance(result[0], (tuple, list)):
        return types.Tuple(tuple(array_type(r) for r in result))
    return array_type(result)


def function_type(arg_types, result) -> types.FunctionType:
    """The first-class function type of a kernel taking ``arg_types`` and returning ``result``
    (an array's (dtype, ndim, layout, read-only), or a list of them for a kernel with several outputs)."""
    return types.FunctionType(result_type(result)(*[array_type(a) for a in arg_types]))


#: the start of the typing error of a kernel called with other types than generated for (see NumbaProgram)
MISMATCH = "symkeras generated a kernel call"


def _call(context, builder, signature, address, values):
    fnty = context.call_conv.get_function_type(signature.return_type, signature.args)
    pointer = builder.inttoptr(address, fnty.as_pointer())
    status, result = context.call_conv.call_function(builder, pointer, signature.return_type, signature.args, values)
    with cgutils.if_unlikely(builder, status.is_error):
        context.call_conv.return_status_propagate(builder, status)
    return result


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
        values = [builder.extract_value(llargs[2], i) for i in range(len(signature.args))]
        return _call(context, builder, signature, llargs[0], values)

    return signature.return_type(address, fn_type, args), codegen


def _flattens_to(actual, param) -> bool:
    """Whether the C array ``actual`` is passed to a flat kernel's 1-D parameter ``param`` as its elements."""
    return (isinstance(actual, types.Array) and isinstance(param, types.Array) and param.ndim == 1
            and actual.ndim >= 1 and actual.layout == "C" and param.layout == "C"
            and actual.dtype == param.dtype and actual.mutable == param.mutable)


def _with_shape(context, builder, array_type, array, shape, result_type):
    """The C array ``array`` (of ``array_type``) viewed with ``shape``: the same memory and reference."""
    source = context.make_array(array_type)(context, builder, array)
    view = context.make_array(result_type)(context, builder)
    itemsize = context.get_abi_sizeof(context.get_data_type(result_type.dtype))
    strides, stride = [], context.get_constant(types.intp, itemsize)
    for size in reversed(shape[1:]):
        strides.insert(0, stride)
        stride = builder.mul(stride, size)
    if shape:  # (a 0-d view has no strides)
        strides.insert(0, stride)
    populate_array(view, data=source.data, shape=shape, strides=strides, itemsize=source.itemsize,
                   meminfo=source.meminfo, parent=source.parent)
    return view._getvalue()


@intrinsic
def invoke_flat(typingctx, address, fn_type, args, like):
    """Call a flat elementwise kernel (1-D arrays in and out) with C arrays of ``like``'s shape.

    Each array is handed over as a 1-D view of its elements, and the 1-D
    result (each of a tuple of them) comes back with ``like``'s shape: one
    compiled kernel serves every shape without the step spending a reshape
    per argument.
    """
    signature = fn_type.instance_type.signature
    params = tuple(signature.args)
    fits = len(args) == len(params) and all(a == p or _flattens_to(a, p) for a, p in zip(args, params))
    result = signature.return_type
    several = isinstance(result, types.BaseTuple)  # a kernel with several results (FusedGroup)
    results = list(result) if several else [result]
    if not fits or not isinstance(like, types.Array) or any(
            not isinstance(r, types.Array) or r.ndim != 1 or r.layout != "C" for r in results):
        raise TypingError(f"{MISMATCH} for {params} but passes {tuple(args)} (flat, like {like})")
    shapes = [types.Array(r.dtype, like.ndim, "C") for r in results]
    shaped = types.Tuple(shapes) if several else shapes[0]

    def codegen(context, builder, sig, llargs):
        values = []
        for i, (actual, param) in enumerate(zip(args, params)):
            value = builder.extract_value(llargs[2], i)
            if actual != param:
                array = context.make_array(actual)(context, builder, value)
                value = _with_shape(context, builder, actual, value, [array.nitems], param)
            values.append(value)
        flat = _call(context, builder, signature, llargs[0], values)
        shape = cgutils.unpack_tuple(builder, context.make_array(like)(context, builder, llargs[3]).shape, like.ndim)
        if not several:
            return _with_shape(context, builder, result, flat, shape, shaped)
        views = [_with_shape(context, builder, r, builder.extract_value(flat, k), shape, s)
                 for k, (r, s) in enumerate(zip(results, shapes))]
        return context.make_tuple(builder, shaped, views)

    return shaped(address, fn_type, args, like), codegen


def jit_address(dispatcher, arg_types, result) -> int:
    """Compile (or load from the cache) ``dispatcher`` for ``arg_types``; the address of its code.

    A cached function is loaded as machine code alone (``loading.load_address``); one compiled in this
    process, or whose cache entry that loader does not take (or fails to read: ``compile_healing`` heals
    it), goes through Numba's dispatcher.

    Raises TypeError when the kernel does not return the array type the
    step was generated for (calling it through the pointer would be unsafe).
    """
    from symkeras.codegen.cache import compile_healing
    from symkeras.codegen.numba.loading import load_address

    args = numba_signature(arg_types)
    loaded = None
    if args not in dispatcher.overloads:
        try:
            loaded = load_address(dispatcher, args)
        except Exception:  # noqa: BLE001  a damaged entry: compile_healing below reports and heals it
            loaded = None
    if loaded is None:
        compile_healing(dispatcher, args)
        compiled = dispatcher.overloads[args]
        address = compiled.library.get_pointer_to_function(compiled.fndesc.llvm_func_name)
        returns = compiled.signature.return_type
    else:
        address, returns = loaded
    expected = result_type(result)
    if returns != expected:
        raise TypeError(f"kernel {dispatcher.py_func.__module__} returns {returns}, the step expects {expected}")
    return address
