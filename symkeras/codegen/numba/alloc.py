"""Array allocation compiled inline: ``np.empty``, ``np.zeros`` and ``np.ascontiguousarray`` without
Numba's overloads.

Numba implements ``np.empty(shape, dtype)`` as an overload whose body is a
jitted function of its own, compiled again for every combination of shape
and dtype types and in every process: 0.02-0.1 s each, 1.4 s of B3's 11.8 s
of compile work (``np.zeros`` compiles ``np.empty`` and a fill method on top;
``np.ascontiguousarray`` another 0.14 s).  ``empty_``, ``zeros_`` and
``contiguous_`` are intrinsics: they emit the allocation (the memset, the
copy) straight into the calling kernel.  The generated text keeps writing
NumPy's names; ``inline_allocations`` swaps the calls when a module's
source is assembled.
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


ALLOC_IMPORT = "from symkeras.codegen.numba.alloc import contiguous_, empty_, zeros_"
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
    text = "".join(pieces) + source[last:]
    head, sep, rest = text.partition("\nimport numba\n")
    if not sep:
        return ALLOC_IMPORT + "\n" + text
    return head + sep + ALLOC_IMPORT + "\n" + rest
