"""Read NPZ members without ever unpickling: playnano 0.5.0's strings, decoded safely.

playnano 0.5.0 stored its NPZ strings (channel, JSON) as pickled numpy object arrays.
:func:`read_member` returns plain arrays as they are (``allow_pickle=False``) and
such an object array only as the single str/bytes it holds, found by interpreting the
pickle's opcodes on a private stack where a global is just a name and a call is just
a record: nothing is imported or called, so a crafted file cannot run code.
"""

from __future__ import annotations

import pickletools
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError

_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct")}
_RECONSTRUCT.add(("numpy._core.multiarray", "_reconstruct"))
_ALLOWED_GLOBALS = _RECONSTRUCT | {("numpy", "ndarray"), ("numpy", "dtype")}
_PUSH_ARG = {
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
    "SHORT_BINBYTES", "BINBYTES", "BINBYTES8",
    "BININT", "BININT1", "BININT2", "LONG1",
}  # fmt: skip


class _Unsafe(Exception):
    """The pickle is not a numpy object array holding one string."""


@dataclass
class _Call:
    """A REDUCE that was recorded, never performed."""

    func: tuple[str, str]
    args: tuple[Any, ...]
    state: Any = field(default=None)


def string_from_pickle(payload: bytes) -> str | bytes:
    """The single str/bytes inside a pickled numpy object array, without unpickling.

    The opcodes are interpreted on a private stack where a global is only a name and
    a call is only recorded; nothing is imported or called. Anything but the shape of
    ``numpy.array(text, dtype=object)`` raises ``_Unsafe``.
    """
    stack: list[Any] = []
    marks: list[int] = []
    memo: dict[Any, Any] = {}

    def pop_mark() -> list[Any]:
        start = marks.pop()
        items = stack[start:]
        del stack[start:]
        return items

    def push_global(module: Any, name: Any) -> None:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise _Unsafe(f"it refers to {module}.{name}")
        stack.append((module, name))

    try:
        for op, arg, _ in pickletools.genops(payload):
            name = op.name
            if name in {"PROTO", "FRAME"}:
                continue
            if name == "STOP":
                break
            if name in _PUSH_ARG:
                stack.append(arg)
            elif name in {"NONE", "NEWTRUE", "NEWFALSE"}:
                stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
            elif name == "MARK":
                marks.append(len(stack))
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in {"TUPLE1", "TUPLE2", "TUPLE3"}:
                n = int(name[-1])
                top = tuple(stack[-n:])
                del stack[-n:]
                stack.append(top)
            elif name == "TUPLE":
                stack.append(tuple(pop_mark()))
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name in {"APPEND", "APPENDS"}:
                items = [stack.pop()] if name == "APPEND" else pop_mark()
                if not isinstance(stack[-1], list):
                    raise _Unsafe("it appends to something that is not a list")
                stack[-1].extend(items)
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in {"BINPUT", "LONG_BINPUT"}:
                memo[arg] = stack[-1]
            elif name in {"BINGET", "LONG_BINGET"}:
                stack.append(memo[arg])
            elif name == "GLOBAL":
                module, _, attr = str(arg).partition(" ")
                push_global(module, attr)
            elif name == "STACK_GLOBAL":
                attr, module = stack.pop(), stack.pop()
                push_global(module, attr)
            elif name == "REDUCE":
                args, func = stack.pop(), stack.pop()
                if func not in _ALLOWED_GLOBALS or not isinstance(args, tuple):
                    raise _Unsafe("it calls something other than numpy's constructors")
                stack.append(_Call(func, args))
            elif name == "BUILD":
                state = stack.pop()
                if not isinstance(stack[-1], _Call) or stack[-1].state is not None:
                    raise _Unsafe("it sets the state of something not built by numpy")
                stack[-1].state = state
            else:
                raise _Unsafe(f"it uses the {name} opcode")
    except (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise _Unsafe(f"malformed pickle ({exc})") from None

    not_a_string = _Unsafe("it is not an object array holding one string")
    root = stack[0] if len(stack) == 1 else None
    if not (
        isinstance(root, _Call)
        and root.func in _RECONSTRUCT
        and root.args[:1] == (("numpy", "ndarray"),)
        and isinstance(root.state, tuple)
        and len(root.state) == 5
    ):
        raise not_a_string
    _version, shape, dtype, _fortran, items = root.state
    if not (
        isinstance(dtype, _Call)
        and dtype.func == ("numpy", "dtype")
        and dtype.args[:1] == ("O8",)
        and shape in ((), (1,))
        and isinstance(items, list)
        and len(items) == 1
        and isinstance(items[0], (str, bytes))
    ):
        raise not_a_string
    return items[0]


def read_member(zf: zipfile.ZipFile, member: str, path: Path) -> Any:
    """An array from an NPZ member; object arrays only as their single string."""
    key = member[: -len(".npy")]
    fmt = np.lib.format
    try:
        with zf.open(member) as fh:
            version = fmt.read_magic(fh)
            read_header = (
                fmt.read_array_header_1_0
                if version == (1, 0)
                else fmt.read_array_header_2_0
            )
            _shape, _fortran, dtype = read_header(fh)
            if dtype.hasobject:
                try:
                    return string_from_pickle(fh.read())
                except _Unsafe as exc:
                    raise ReadError(
                        f"{path}: member {key!r} is a pickled object that is not a "
                        f"plain string ({exc}); refusing to unpickle it"
                    ) from None
        with zf.open(member) as fh:
            return fmt.read_array(fh, allow_pickle=False)
    except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile) as exc:
        raise ReadError(f"{path}: member {key!r} is unreadable ({exc})") from None
