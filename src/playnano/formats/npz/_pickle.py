"""playnano 0.5.0's pickled NPZ strings, decoded without ever unpickling.

playnano 0.5.0 stored its NPZ strings (channel, JSON) as pickled numpy object arrays.
:func:`string_from_pickle` returns the single str/bytes such an array holds, found by
interpreting the pickle's opcodes on a private stack where a global is just a name
and a call is just a record: nothing is imported or called, so a crafted file cannot
run code.
"""

from __future__ import annotations

import pickletools
from dataclasses import dataclass, field
from typing import Any

_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct")}
_RECONSTRUCT.add(("numpy._core.multiarray", "_reconstruct"))
_ALLOWED_GLOBALS = _RECONSTRUCT | {("numpy", "ndarray"), ("numpy", "dtype")}
_PUSH_ARG = {
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8",
    "SHORT_BINBYTES", "BINBYTES", "BINBYTES8",
    "BININT", "BININT1", "BININT2", "LONG1",
}  # fmt: skip


class UnsafePickle(Exception):
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
    ``numpy.array(text, dtype=object)`` raises ``UnsafePickle``.
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
            raise UnsafePickle(f"it refers to {module}.{name}")
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
                    raise UnsafePickle("it appends to something that is not a list")
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
                    raise UnsafePickle(
                        "it calls something other than numpy's constructors"
                    )
                stack.append(_Call(func, args))
            elif name == "BUILD":
                state = stack.pop()
                if not isinstance(stack[-1], _Call) or stack[-1].state is not None:
                    raise UnsafePickle(
                        "it sets the state of something not built by numpy"
                    )
                stack[-1].state = state
            else:
                raise UnsafePickle(f"it uses the {name} opcode")
    except (ValueError, IndexError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise UnsafePickle(f"malformed pickle ({exc})") from None

    not_a_string = UnsafePickle("it is not an object array holding one string")
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
