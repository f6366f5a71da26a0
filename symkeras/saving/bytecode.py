"""Functions stored as bytecode (Lambda layers), and the checks that keep a bad payload from crashing.

``func_dump`` writes the function's code with marshal, tagged with the running interpreter's bytecode
magic number and marshal version; ``func_load`` refuses a tagged payload from another interpreter, and
checks every payload before it becomes a function: marshal data that decodes to a code object, opcodes
this Python knows, constant/name/local indices and jump targets inside their tables, and a stack that
never goes below empty or beyond the code's declared size.  Invalid bytecode would crash the interpreter
when it runs; this turns it into a ValueError at load time.  Payloads written by Keras 2 carry no tag:
they pass the same checks and load with a warning that their interpreter cannot be verified.

Loading still runs the function's code when the layer is called: it is only reached with safe mode off
(see safe_mode.py).
"""

from __future__ import annotations

import base64
import binascii
import dis
import importlib.util
import marshal
import types
import warnings

#: tagged payload: TAG, the interpreter's 4-byte bytecode magic, marshal's version, then the marshal data
TAG = b"SYMK"
_NO_FALL_THROUGH = {"RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE", "JUMP_FORWARD",
                    "JUMP_BACKWARD", "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_ABSOLUTE", "JUMP"}


def func_dump(func) -> tuple:
    """A function's code (tagged marshal data, base64), defaults and closure values, for configs."""
    raw = TAG + importlib.util.MAGIC_NUMBER + bytes([marshal.version]) + marshal.dumps(func.__code__)
    closure = tuple(cell.cell_contents for cell in func.__closure__) if func.__closure__ else None
    return base64.b64encode(raw).decode("ascii"), func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None, layer: str = "lambda"):
    """The function ``func_dump`` described (``code`` may be the whole (code, defaults, closure) triple).

    Raises:
        ValueError: naming ``layer``, when the payload is not base64, not marshal data of a code object,
            from another interpreter, or not valid bytecode for this one.
    """
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    compiled = load_code(code, layer)
    cells = tuple(types.CellType(value) for value in closure) if closure else None
    if len(cells or ()) != len(compiled.co_freevars):
        raise ValueError(f"Lambda layer {layer!r}: its stored function needs {len(compiled.co_freevars)} closure "
                         f"values, the config gives {len(cells or ())}.")
    return types.FunctionType(compiled, globs if globs is not None else {}, name=compiled.co_name,
                              argdefs=tuple(defaults) if defaults else None, closure=cells)


def load_code(text, layer: str = "lambda") -> types.CodeType:
    """The checked code object of a stored payload (see the module's docstring)."""
    try:
        raw = base64.b64decode(str(text).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as error:
        raise ValueError(f"Lambda layer {layer!r}: its stored function is not base64 text ({error}).") from None
    if raw.startswith(TAG):
        magic, version, raw = raw[4:8], raw[8:9], raw[9:]
        if magic != importlib.util.MAGIC_NUMBER or version != bytes([marshal.version]):
            raise ValueError(f"Lambda layer {layer!r}: its function was stored by another Python (bytecode magic "
                             f"{magic.hex()}, marshal version {version.hex() or '?'}; this Python: "
                             f"{importlib.util.MAGIC_NUMBER.hex()}, {marshal.version}). Rebuild the layer from its "
                             f"source code instead.")
    else:
        warnings.warn(f"Lambda layer {layer!r}: its function carries no interpreter tag (written by Keras 2?), "
                      f"so its bytecode is checked but its Python version cannot be verified.", UserWarning,
                      stacklevel=3)
    try:
        compiled = marshal.loads(raw)
    except (ValueError, EOFError, TypeError) as error:
        raise ValueError(f"Lambda layer {layer!r}: its stored function is not valid marshal data ({error}).") from None
    if not isinstance(compiled, types.CodeType):
        raise ValueError(f"Lambda layer {layer!r}: its stored function is a {type(compiled).__name__}, "
                         f"not a code object.")
    check_code(compiled, layer)
    return compiled


def check_code(code: types.CodeType, layer: str = "lambda") -> None:
    """Raise ValueError unless ``code`` (and every code object among its constants) is bytecode this
    interpreter can run without crashing: known opcodes, indices in range, a consistent stack."""
    try:
        instructions = list(dis.get_instructions(code))
    except Exception as error:  # noqa: BLE001  an index out of its table, an undecodable instruction
        raise ValueError(f"Lambda layer {layer!r}: its stored bytecode does not decode ({error!r}).") from None
    size = len(code.co_code)
    at = {ins.offset: i for i, ins in enumerate(instructions)}
    for ins in instructions:
        if ins.opname.startswith("<"):
            _invalid(layer, f"unknown opcode {ins.opcode} at offset {ins.offset}")
        if ins.opcode in dis.hasjrel or ins.opcode in dis.hasjabs:
            if not isinstance(ins.argval, int) or ins.argval not in at:
                _invalid(layer, f"a jump at offset {ins.offset} to {ins.argval!r}, outside the code ({size} bytes)")
    _check_stack(code, instructions, at, layer)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            check_code(const, layer)


def _check_stack(code, instructions, at, layer) -> None:
    """Follow every path from the entry and the exception handlers: the depth stays in [0, co_stacksize]
    and agrees wherever paths meet."""
    depth = {0: 0}
    work = [0]
    handlers = getattr(dis, "_parse_exception_table", None)
    if handlers is not None and getattr(code, "co_exceptiontable", b""):
        for entry in handlers(code):
            if entry.target not in at:
                _invalid(layer, f"an exception handler at {entry.target}, outside the code")
            depth.setdefault(entry.target, entry.depth + 1 + int(entry.lasti))
            work.append(entry.target)

    def reach(offset, value, source):
        if value < 0 or value > code.co_stacksize:
            _invalid(layer, f"the stack reaches depth {value} at offset {source} (declared size "
                            f"{code.co_stacksize})")
        if offset not in at:
            return  # falls off the end: CPython code never does, and a missing target was reported above
        if depth.setdefault(offset, value) != value:
            _invalid(layer, f"paths reach offset {offset} with stack depths {depth[offset]} and {value}")
        elif offset not in seen:
            work.append(offset)

    seen: set[int] = set()
    while work:
        offset = work.pop()
        if offset in seen:
            continue
        seen.add(offset)
        ins = instructions[at[offset]]
        current = depth[offset]
        arg = ins.arg if ins.opcode >= dis.HAVE_ARGUMENT else None
        try:
            if ins.opcode in dis.hasjrel or ins.opcode in dis.hasjabs:
                reach(ins.argval, current + dis.stack_effect(ins.opcode, arg, jump=True), offset)
            if ins.opname not in _NO_FALL_THROUGH:
                following = at[offset] + 1
                if following < len(instructions):
                    reach(instructions[following].offset,
                          current + dis.stack_effect(ins.opcode, arg, jump=False), offset)
        except ValueError as error:
            if "Lambda layer" in str(error):
                raise
            _invalid(layer, f"opcode {ins.opname} at offset {offset}: {error}")


def _invalid(layer: str, why: str) -> None:
    raise ValueError(f"Lambda layer {layer!r}: its stored bytecode is not valid for this Python: {why}.")
