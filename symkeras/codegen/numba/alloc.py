"""Array allocation compiled inline: ``np.empty``, ``np.zeros``, ``np.ascontiguousarray`` and the
reshape of a C-contiguous array without Numba's overloads.

Numba implements ``np.empty(shape, dtype)`` as an overload whose body is a
jitted function of its own, compiled again for every combination of shape
and dtype types and in every process: 0.02-0.1 s each, 1.4 s of B3's 11.8 s
of compile work (``np.zeros`` compiles ``np.empty`` and a fill method on top;
``np.ascontiguousarray`` another 0.14 s).  ``empty_``, ``zeros_`` and
``contiguous_`` are intrinsics: they emit the allocation (the memset, the
copy) straight into the calling kernel.  Numba's ``array.reshape``
compiles a helper of its own in every process (0.1 s) and costs a kernel
0.04 s more to compile; ``reshaped_`` makes the view of a C array directly.
The generated text keeps writing NumPy's names; ``inline_allocations``
swaps the calls when a module's source is assembled (a reshape when its
array is ``np.ascontiguousarray(...)``'s).
"""

from __future__ import annotations

import re

from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.core.typing.npydecl import parse_dtype, parse_shape
from numba.extending import intrinsic
from numba.np.arrayobj import _as_layout_array, _empty_nd_impl, _parse_shape


def _array_type(name, shape, dtype):
    nb_dtype = parse_dtype(dtype)
    ndim = parse_shape(shape)
    if nb_dtype is None or ndim is None:
        raise TypingError(f"symkeras: cannot allocate np.{name}({shape}, {dtype})")
    return types.Array(nb_dtype, ndim, "C")


def _allocate(context, builder, signature, args, zero: bool):
    array_type = signature.return_type
    array = _empty_nd_impl(context, builder, array_type, _parse_shape(context, builder, signature.args[0], args[0]))
    if zero:
        cgutils.memset(builder, array.data, builder.mul(array.itemsize, array.nitems), 0)
    return array._getvalue()


@intrinsic
def empty_(typingctx, shape, dtype):
    """``np.empty(shape, dtype)``: shape an integer or a tuple of them, dtype a NumPy scalar type or dtype."""
    array_type = _array_type("empty", shape, dtype)

    def codegen(context, builder, signature, args):
        return _allocate(context, builder, signature, args, zero=False)

    return array_type(shape, dtype), codegen


@intrinsic
def zeros_(typingctx, shape, dtype):
    """``np.zeros(shape, dtype)``, as ``empty_`` then a memset."""
    array_type = _array_type("zeros", shape, dtype)

    def codegen(context, builder, signature, args):
        return _allocate(context, builder, signature, args, zero=True)

    return array_type(shape, dtype), codegen


@intrinsic
def contiguous_(typingctx, array):
    """``np.ascontiguousarray(array)``: the array itself when it is C-contiguous, else a C copy."""
    if not isinstance(array, types.Array):
        raise TypingError(f"symkeras: np.ascontiguousarray of {array}")
    result = types.Array(array.dtype, max(array.ndim, 1), "C")

    def codegen(context, builder, signature, args):
        return _as_layout_array(context, builder, signature, args, output_layout="C")

    return result(array), codegen


def _shape_items(shape) -> list | None:
    if isinstance(shape, types.Integer):
        return [shape]
    if isinstance(shape, types.BaseTuple) and all(isinstance(s, types.Integer) for s in shape):
        return list(shape)
    return None


@intrinsic
def reshaped_(typingctx, array, shape):
    """``array.reshape(shape)`` of a C-contiguous ``array``: a view (one size may be -1), or ValueError
    when the sizes do not multiply to the array's."""
    items = _shape_items(shape)
    if not isinstance(array, types.Array) or array.layout != "C" or items is None:
        raise TypingError(f"symkeras: reshaped_ needs a C-contiguous array and integer sizes, got {array}, {shape}")
    result = types.Array(array.dtype, len(items), "C", readonly=not array.mutable)

    def codegen(context, builder, signature, args):
        from numba.core.imputils import impl_ret_borrowed

        from symkeras.codegen.numba.calls import _with_shape

        intp = context.get_value_type(types.intp)
        one, minus_one = context.get_constant(types.intp, 1), context.get_constant(types.intp, -1)
        if isinstance(shape, types.Integer):
            sizes = [context.cast(builder, args[1], shape, types.intp)]
        else:
            sizes = [context.cast(builder, builder.extract_value(args[1], i), t, types.intp)
                     for i, t in enumerate(items)]
        known = one
        for size in sizes:
            known = builder.mul(known, builder.select(builder.icmp_signed("==", size, minus_one), one, size))
        nitems = context.make_array(array)(context, builder, args[0]).nitems
        zero = context.get_constant(types.intp, 0)
        is_zero = builder.icmp_signed("==", known, zero)
        missing = builder.select(is_zero, zero, builder.sdiv(nitems, builder.select(is_zero, one, known)))
        sizes = [builder.select(builder.icmp_signed("==", s, minus_one), missing, s) for s in sizes]
        total = one
        for size in sizes:
            total = builder.mul(total, size)
        bad = builder.or_(builder.icmp_signed("!=", total, nitems),
                          builder.icmp_signed("<", builder.select(is_zero, one, known), zero))
        with cgutils.if_unlikely(builder, bad):
            context.call_conv.return_user_exc(builder, ValueError, ("cannot reshape array into the shape given",))
        assert all(s.type == intp for s in sizes)
        view = _with_shape(context, builder, array, args[0], sizes, result)
        return impl_ret_borrowed(context, builder, result, view)

    return result(array, shape), codegen


ALLOC_IMPORT = "from symkeras.codegen.numba.alloc import contiguous_, empty_, reshaped_, zeros_"
#: the calls swapped, with the number of positional arguments each intrinsic takes
_INTRINSICS = {"empty": ("empty_", 2), "zeros": ("zeros_", 2), "ascontiguousarray": ("contiguous_", 1)}
_CALL = re.compile(r"\bnp\.(empty|zeros|ascontiguousarray)\(")


def _arguments(text: str, start: int) -> tuple[list[str], int]:
    """The top-level arguments of the call whose parenthesis opens at ``start - 1``, and the index after it."""
    depth, args, begin = 0, [], start
    for i in range(start, len(text)):
        char = text[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                args.append(text[begin:i])
                return args, i + 1
            depth -= 1
        elif char == "," and depth == 0:
            args.append(text[begin:i])
            begin = i + 1
    return [], len(text)  # unbalanced: not a call to rewrite


_CONTIGUOUS = re.compile(r"\bcontiguous_\(")
_RESHAPE = ".reshape("


def _inline_reshapes(text: str) -> str:
    """``contiguous_(x).reshape(shape)`` (one argument) written as ``reshaped_(contiguous_(x), shape)``."""
    pieces, last = [], 0
    for match in _CONTIGUOUS.finditer(text):
        if match.start() < last:
            continue
        _, end = _arguments(text, match.end())
        if not text.startswith(_RESHAPE, end):
            continue
        args, after = _arguments(text, end + len(_RESHAPE))
        if len(args) != 1 or "=" in args[0]:
            continue
        pieces += [text[last:match.start()], f"reshaped_({text[match.start():end]}, {args[0].strip()})"]
        last = after
    return "".join(pieces) + text[last:] if pieces else text


def inline_allocations(source: str) -> str:
    """``source`` (a generated module) with its ``np.empty(shape, dtype)``, ``np.zeros(shape, dtype)`` and
    ``np.ascontiguousarray(array)`` calls made through the intrinsics; a call in another form (no dtype, a
    keyword) stays Numba's."""
    pieces, last = [], 0
    for match in _CALL.finditer(source):
        if match.start() < last:
            continue
        args, end = _arguments(source, match.end())
        intrinsic_name, arity = _INTRINSICS[match.group(1)]
        if len(args) != arity or any("=" in a for a in args):
            continue
        pieces += [source[last:match.start()], f"{intrinsic_name}(", source[match.end():end]]
        last = end
    if not pieces:
        return source
    text = _inline_reshapes("".join(pieces) + source[last:])
    head, sep, rest = text.partition("\nimport numba\n")
    if not sep:
        return ALLOC_IMPORT + "\n" + text
    return head + sep + ALLOC_IMPORT + "\n" + rest
