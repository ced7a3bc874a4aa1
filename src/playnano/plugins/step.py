"""The processing step contract: :class:`FilterSpec`, and 0.5.0's plain functions.

A step plugin registers FilterSpecs (the builtins in
:mod:`playnano.processing.builtin` too); :func:`legacy_filter` turns playnano
0.5.0's filter plugins (a plain function registered as the entry point) into one.
``ExtraOption`` and ``REQUIRED`` live in :mod:`playnano.plugins.options` with the
other option types; they are importable from here too.
"""

from __future__ import annotations

import importlib.metadata as md
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from playnano.plugins.options import EXTRA_TYPES, REQUIRED, ExtraOption, Option

__all__ = [
    "EXTRA_TYPES",
    "KINDS",
    "REQUIRED",
    "ExtraOption",
    "FilterSpec",
    "as_spec",
    "is_required",
    "legacy_filter",
]

#: Step kinds: per-frame height→height, per-frame height→bool, whole stack, clear mask.
KINDS: tuple[str, ...] = ("filter", "mask", "stack", "clear")


def is_required(option: Option) -> bool:
    """True when ``option`` has no default and must be given."""
    return option.default is REQUIRED


@dataclass(frozen=True, kw_only=True)
class FilterSpec:
    """A processing step a plugin provides.

    Parameters
    ----------
    name : str
        Lower-case token used in pipelines (``remove_plane``).
    aliases : tuple of str
        Other accepted names.
    description : str
        One line for listings.
    kind : str
        ``"filter"``: ``func(frame, **params)`` returns a 2D frame of heights;
        ``"mask"``: ``func(frame, **params)`` returns a 2D boolean mask
        (True marks a feature, the foreground);
        ``"stack"``: ``func(stack, **params)`` edits the whole AFMImageStack in place
        (it may change the frame count or frame shape; it keeps ``frame_metadata`` and
        ``masks`` in sync) and returns a dict of details for the provenance, or None;
        ``"clear"``: removes the active mask (``func`` is not called).
    func : callable
        The implementation.
    options : tuple of Option
        Typed parameters with defaults and ranges.
    version : str
        Version of the algorithm, recorded in the provenance of every run.
    requires : tuple of str
        Modules needed at run time (checked without importing).
    install_hint : str
        How to install what ``requires`` names.
    masked_func : callable, optional
        ``masked_func(frame, mask, **params)``, used instead of ``func`` while a mask
        is active (levelling filters fit only the background, ``~mask``).
    batch_func : callable, optional
        ``batch_func(frames, **params)`` for a ``"filter"``: ``func`` applied to
        every frame of a (frames, h, w) block at once (one least-squares solve
        for a block, say), returning the block's results. Used while no mask is
        active; it must equal ``func`` frame by frame (to round-off).
    check : callable, optional
        ``check(params)`` raising ``ValueError`` for combinations of values the
        options cannot express (an even kernel size, ``start >= end``).
    """

    name: str
    description: str
    kind: str
    func: Callable[..., Any]
    aliases: tuple[str, ...] = ()
    options: tuple[Option, ...] = ()
    version: str = "0"
    requires: tuple[str, ...] = ()
    install_hint: str = ""
    masked_func: Callable[..., Any] | None = None
    batch_func: Callable[..., Any] | None = None
    check: Callable[[Mapping[str, Any]], None] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(
                f"filter {self.name!r}: kind must be one of {', '.join(KINDS)}; "
                f"got {self.kind!r}"
            )
        if not callable(self.func):
            raise ValueError(f"filter {self.name!r}: func must be callable")
        if self.masked_func is not None and not callable(self.masked_func):
            raise ValueError(f"filter {self.name!r}: masked_func must be callable")
        if self.batch_func is not None and not callable(self.batch_func):
            raise ValueError(f"filter {self.name!r}: batch_func must be callable")
        if not all(isinstance(o, Option) for o in self.options):
            raise ValueError(f"filter {self.name!r}: options must be Option objects")
        names = [o.name for o in self.options]
        if len(set(names)) != len(names):
            raise ValueError(f"filter {self.name!r}: option names repeat: {names}")
        if not isinstance(self.version, str) or not self.version:
            raise ValueError(f"filter {self.name!r}: version must be a string")

    def describe(self) -> dict[str, Any]:
        """The step as plain data (for ``--json`` listings)."""
        return {
            "name": self.name,
            "aliases": list(self.aliases),
            "kind": self.kind,
            "description": self.description,
            "version": self.version,
            "masked_variant": self.masked_func is not None,
            "options": [o.describe() for o in self.options],
        }


def as_spec(obj: Any, fallback_version: str | None = None) -> FilterSpec:
    """Return ``obj`` as a FilterSpec (third parties may register look-alike objects)."""
    if isinstance(obj, FilterSpec):
        return obj
    return FilterSpec(
        name=obj.name,
        aliases=tuple(getattr(obj, "aliases", ())),
        description=obj.description,
        kind=getattr(obj, "kind", "filter"),
        func=obj.func,
        options=tuple(getattr(obj, "options", ())),
        version=str(getattr(obj, "version", None) or fallback_version or "unknown"),
        requires=tuple(getattr(obj, "requires", ())),
        install_hint=getattr(obj, "install_hint", ""),
        masked_func=getattr(obj, "masked_func", None),
        batch_func=getattr(obj, "batch_func", None),
        check=getattr(obj, "check", None),
    )


# ------------------------------------------------------------------ legacy plugins
_SIMPLE_TYPES: dict[Any, str] = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    "bool": "bool",
    "int": "int",
    "float": "float",
    "str": "str",
}


def _option_for(param: inspect.Parameter) -> Option:
    default = param.default
    annotated = _SIMPLE_TYPES.get(param.annotation)
    help_text = "Parameter of a 0.5.0-style plugin."
    if default is inspect.Parameter.empty:
        if annotated is not None:
            return Option(param.name, annotated, REQUIRED, help_text)
        return ExtraOption(param.name, "any", REQUIRED, help_text)
    by_default = None
    if isinstance(default, bool):
        by_default = "bool"
    elif isinstance(default, int):
        by_default = "int"
    elif isinstance(default, float) and math.isfinite(default):
        by_default = "float"
    elif isinstance(default, str):
        by_default = "str"
    kind = annotated or by_default
    if kind is None:
        return ExtraOption(param.name, "any", default, help_text)
    return Option(param.name, kind, default, help_text, nullable=default is None)


def _version_of(fn: Callable[..., Any]) -> str:
    version = getattr(fn, "__version__", None)
    if isinstance(version, str) and version:
        return version
    module = getattr(fn, "__module__", None) or ""
    qualname = getattr(fn, "__qualname__", None)
    for ep in md.entry_points(group="playnano.filters"):
        if ep.module == module and ep.attr == qualname and ep.dist is not None:
            return ep.dist.version
    top = module.split(".")[0]
    for dist in md.packages_distributions().get(top, []):
        try:
            return md.version(dist)
        except md.PackageNotFoundError:
            continue
    return "unknown"


def legacy_filter(name: str, fn: Callable[..., Any]) -> FilterSpec:
    """Wrap a playnano 0.5.0-style filter plugin (a plain function) as a FilterSpec.

    Parameters
    ----------
    name : str
        The entry-point name, used as the step name.
    fn : callable
        ``fn(frame, **params)`` taking a 2D frame of heights and returning one.

    Returns
    -------
    FilterSpec
        A ``"filter"`` step whose options come from ``fn``'s keyword parameters:
        the type from a simple annotation (bool/int/float/str) or else from the
        default value; parameters of unknown type accept any value, but only known
        names are accepted; a parameter without a default is required. The version
        is ``fn.__version__`` (0.5.0's ``versioned_filter``) or that of the
        distribution whose entry point names ``fn`` (or that provides its package).

    Raises
    ------
    ValueError
        If ``fn`` is not callable or takes no frame argument.
    """
    if not callable(fn):
        raise ValueError(f"filter plugin {name!r} is not callable")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"filter plugin {name!r}: no signature ({exc})") from None
    params = list(sig.parameters.values())
    positional = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.VAR_POSITIONAL,
    )
    if not params or params[0].kind not in positional:
        raise ValueError(
            f"filter plugin {name!r} must take a 2D frame as first argument"
        )
    options = tuple(
        _option_for(p)
        for p in params[1:]
        if p.kind
        in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )
    doc = inspect.getdoc(fn) or ""
    first_line = doc.strip().splitlines()[0].strip() if doc.strip() else ""
    return FilterSpec(
        name=name.lower(),
        description=first_line or f"Filter plugin {name} (playnano 0.5.0 style).",
        kind="filter",
        func=fn,
        options=options,
        version=_version_of(fn),
    )
