"""Validate processing steps before anything runs: :func:`validate_steps`.

Steps are looked up in the filter registry, so builtin steps and plugins are checked
alike. Validation is strict: an unknown step or parameter, a value of the wrong type
or out of range fails before any data is touched (playnano 0.5.0 ran such steps with
their defaults).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from playnano.errors import (
    AmbiguousFormatError,
    OptionError,
    ProcessingError,
    UnknownFormatError,
)
from playnano.plugins.options import resolve_options
from playnano.plugins.step import FilterSpec, as_spec, is_required
from playnano.processing.parsing import Step, parse_steps

__all__ = ["ResolvedStep", "StepLike", "changes_data", "validate_steps"]

StepLike = Step | str | tuple[str, Mapping[str, Any]]


@dataclass(frozen=True)
class ResolvedStep:
    """A validated step: its FilterSpec and every parameter's value.

    Parameters
    ----------
    name : str
        The step's canonical name.
    spec : FilterSpec
        What runs.
    params : dict
        Every option of the step with the value used (defaults filled in).
    plugin : str
        Distribution that provides the step.
    source : str
        Where the step was requested (for error messages).
    """

    name: str
    spec: FilterSpec
    params: dict[str, Any]
    plugin: str
    source: str


def _as_step(raw: StepLike, position: int) -> Step:
    if isinstance(raw, Step):
        return raw if raw.source else Step(raw.name, raw.params, f"step {position}")
    if isinstance(raw, str):
        return Step(raw, {}, f"step {position}")
    if (
        isinstance(raw, tuple)
        and len(raw) == 2
        and isinstance(raw[0], str)
        and isinstance(raw[1], Mapping)
    ):
        return Step(raw[0], dict(raw[1]), f"step {position}")
    raise ProcessingError(
        f"step {position}: expected a Step, a name or (name, params); got {raw!r}"
    )


def validate_steps(
    steps: str | Iterable[StepLike | ResolvedStep],
) -> list[ResolvedStep]:
    """Resolve every step name and check every parameter, before anything runs.

    Parameters
    ----------
    steps : str or iterable
        A step string in the CLI syntax (``"remove_plane;gaussian_filter:sigma=2"``),
        or :class:`Step` objects, step names, ``(name, params)`` tuples (0.5.0's
        parsed form) or already resolved steps.

    Returns
    -------
    list of ResolvedStep

    Raises
    ------
    ProcessingError
        For an unknown or ambiguous step name (with a "did you mean").
    OptionError
        For an unknown parameter (with a "did you mean"), a value of the wrong type
        or out of range, or a missing required parameter.
    """
    from playnano.plugins.registry import filters

    registry = filters()
    if isinstance(steps, str):
        steps = parse_steps(steps)
    resolved: list[ResolvedStep] = []
    for position, raw in enumerate(steps, start=1):
        if isinstance(raw, ResolvedStep):
            resolved.append(raw)
            continue
        step = _as_step(raw, position)
        try:
            entry = registry.resolve(step.name)
        except (UnknownFormatError, AmbiguousFormatError) as exc:
            message = str(exc)
            head, sep, tail = step.name.partition(":")
            if sep and head.lower() in registry.names():
                message = (
                    f"unknown filter {step.name!r}; to give {head} a parameter, "
                    f"write {head}:{tail}=value"
                )
            raise ProcessingError(f"{step.source}: {message}") from None
        spec = as_spec(entry.obj, entry.plugin.version)
        owner = f"{step.source} ({spec.name})"
        params = resolve_options(spec.options, step.params, owner=owner)
        missing = [
            o.name for o in spec.options if is_required(o) and o.name not in step.params
        ]
        if missing:
            raise OptionError(f"{owner}: missing required option {', '.join(missing)}")
        if spec.check is not None:
            try:
                spec.check(params)
            except ValueError as exc:
                raise OptionError(f"{owner}: {exc}") from None
        resolved.append(
            ResolvedStep(spec.name, spec, params, entry.plugin.dist, step.source)
        )
    return resolved


def changes_data(steps: Iterable[ResolvedStep]) -> bool:
    """True when the steps change the heights (a ``filter`` or ``stack`` step).

    Mask steps and ``clear`` leave the data as it is. A stack whose steps change
    the data is *processed*: its outputs are named ``<base>_filtered``.
    """
    return any(s.spec.kind in ("filter", "stack") for s in steps)
