"""Typed options that exporters, readers and filters declare.

:class:`Option` covers the core types; :class:`ExtraOption` adds the list and
untyped options of processing steps, and :data:`REQUIRED` marks an option that has
no default.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from playnano.errors import OptionError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def parse_bool(value: Any) -> bool:
    """Parse a bool from a bool or one of true/false, yes/no, on/off, 1/0."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ValueError(f"expected true or false, got {value!r}")


def parse_float(value: Any) -> float:
    """Parse a finite float (scientific notation accepted)."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"expected a finite number, got {value!r}")
    return out


def parse_int(value: Any) -> int:
    """Parse an integer; a float with a fractional part is refused."""
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected an integer, got {value!r}") from None
    if not f.is_integer():
        raise ValueError(f"expected an integer, got {value!r}")
    return int(f)


def parse_str(value: Any) -> str:
    """Accept a string as it is."""
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def parse_float_or_auto(value: Any) -> float | str:
    """Parse a finite float or the word ``auto``."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    return parse_float(value)


def parse_z_bound(value: Any) -> float | str:
    """Parse a finite float or one of the words ``auto``, ``min``, ``max``."""
    if isinstance(value, str) and value.strip().lower() in {"auto", "min", "max"}:
        return value.strip().lower()
    return parse_float(value)


PARSERS: dict[str, Callable[[Any], Any]] = {
    "bool": parse_bool,
    "float": parse_float,
    "int": parse_int,
    "str": parse_str,
    "float|auto": parse_float_or_auto,
    "float|auto|min|max": parse_z_bound,
}


@dataclass(frozen=True)
class Option:
    """One option a plugin accepts.

    Parameters
    ----------
    name : str
        Keyword name (a Python identifier, e.g. ``scale_bar_nm``).
    type : str
        One of ``bool``, ``float``, ``int``, ``str``, ``float|auto``,
        ``float|auto|min|max``.
    default : object
        Value used when the option is not given (``None`` allowed).
    help : str
        One line for ``playnano formats info``.
    choices : tuple, optional
        Allowed values.
    minimum, maximum : float, optional
        Inclusive bounds for numbers.
    nullable : bool
        Whether ``None`` is an accepted value.
    """

    name: str
    type: str
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    nullable: bool = False
    exclusive_minimum: bool = field(default=False)

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"option name {self.name!r} is not a Python identifier")
        if self.type not in PARSERS:
            raise ValueError(
                f"option {self.name!r}: type {self.type!r} is not one of "
                f"{', '.join(PARSERS)}"
            )

    def parse(self, value: Any) -> Any:
        """Return ``value`` converted and checked, or raise ``ValueError``."""
        if value is None or (
            isinstance(value, str) and value.strip().lower() in {"none", "null"}
        ):
            if self.nullable or self.default is None:
                return None
            raise ValueError("a value is required")
        out = PARSERS[self.type](value)
        if self.choices is not None and out not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise ValueError(f"must be one of {allowed}; got {value!r}")
        if isinstance(out, (int, float)) and not isinstance(out, bool):
            if self.minimum is not None:
                too_small = (
                    out <= self.minimum
                    if self.exclusive_minimum
                    else out < self.minimum
                )
                if too_small:
                    op = ">" if self.exclusive_minimum else ">="
                    raise ValueError(f"must be {op} {self.minimum:g}; got {out:g}")
            if self.maximum is not None and out > self.maximum:
                raise ValueError(f"must be <= {self.maximum:g}; got {out:g}")
        return out

    def describe(self) -> dict[str, Any]:
        """The option as plain data (for ``--json`` listings)."""
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
            "help": self.help,
            "choices": list(self.choices) if self.choices is not None else None,
            "minimum": self.minimum,
            "exclusive_minimum": self.exclusive_minimum,
            "maximum": self.maximum,
            "nullable": self.nullable or self.default is None,
        }


# ---------------------------------------------------------------- step options
#: Types :class:`ExtraOption` accepts (processing steps) besides the core types.
EXTRA_TYPES: tuple[str, ...] = ("int_list", "any")


class _Required:
    """Sentinel default of an option the user must give."""

    def __repr__(self) -> str:
        return "<required>"

    def __reduce__(self) -> str:
        return "REQUIRED"


#: Default of an option that has no default (the step cannot run without it).
REQUIRED: Any = _Required()


def _parse_int_list(value: Any) -> list[int]:
    """Parse a list of integers from a list/tuple or text like ``1,2`` / ``[1, 2]``."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("[") and text.endswith("]"):
            text = text[1:-1]
        items: list[Any] = [t.strip() for t in text.split(",") if t.strip()]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        items = [value]
    else:
        raise ValueError(f"expected a list of integers, got {value!r}")
    return [parse_int(v) for v in items]


@dataclass(frozen=True)
class ExtraOption(Option):
    """An option of a type only processing steps use: ``int_list`` or ``any``.

    ``int_list`` takes a list of integers (each within ``minimum``/``maximum``);
    ``any`` accepts any value unchanged (options of 0.5.0-style plugins whose type
    cannot be known).
    """

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"option name {self.name!r} is not a Python identifier")
        if self.type not in EXTRA_TYPES:
            raise ValueError(
                f"option {self.name!r}: type {self.type!r} is not one of "
                f"{', '.join(EXTRA_TYPES)}"
            )

    def parse(self, value: Any) -> Any:
        """Return ``value`` converted and checked, or raise ``ValueError``."""
        if self.type == "any":
            if value is REQUIRED:
                raise ValueError("a value is required")
            return value
        if value is None or (
            isinstance(value, str) and value.strip().lower() in {"none", "null"}
        ):
            if self.nullable or self.default is None:
                return None
            raise ValueError("a value is required")
        out = _parse_int_list(value)
        for v in out:
            if self.minimum is not None and v < self.minimum:
                raise ValueError(f"every value must be >= {self.minimum:g}; got {v}")
            if self.maximum is not None and v > self.maximum:
                raise ValueError(f"every value must be <= {self.maximum:g}; got {v}")
        return out


def resolve_options(
    declared: tuple[Option, ...], given: Mapping[str, Any], *, owner: str
) -> dict[str, Any]:
    """Check ``given`` against ``declared``; return every option with its value.

    Unknown names and bad values raise :class:`OptionError` naming ``owner``.
    """
    by_name = {o.name: o for o in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        import difflib

        hints = []
        for u in unknown:
            close = difflib.get_close_matches(u, list(by_name), n=1)
            hints.append(f"{u!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        accepted = ", ".join(by_name) or "none"
        raise OptionError(
            f"{owner}: unknown option {', '.join(hints)}; accepted: {accepted}"
        )
    out = {o.name: o.default for o in declared}
    for name, value in given.items():
        try:
            out[name] = by_name[name].parse(value)
        except ValueError as exc:
            raise OptionError(f"{owner}: option {name!r}: {exc}") from None
    return out
