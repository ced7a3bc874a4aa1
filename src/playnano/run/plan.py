"""The plan of a run: everything that can be decided and checked before reading.

:func:`plan_run` turns settings and an input (a path, or a stack already in memory)
into a :class:`Plan`: the resolved steps, each format with its checked options and
its output path, how the input will be read (blocks or memory), and the input's
header. Every check that needs no frame happens here, so a mistake stops the run
before anything is read or written: formats, options, steps, thread and block
counts, the output folder, names too long, existing outputs (unless ``overwrite``),
and free space for at least the lossless outputs. :func:`playnano.run.executor.execute`
then carries the plan out.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import DiskFullError
from playnano.run.names import base_name, make_stem, with_suffix

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.plugins.registry import Entry
    from playnano.processing.validate import ResolvedStep
    from playnano.run.formats import FormatChoice
    from playnano.run.header import Header
    from playnano.run.settings import RunSettings

__all__ = [
    "LOSSLESS_MAX_RATIO",
    "Output",
    "Plan",
    "check_free_space",
    "estimate_bytes",
    "output_paths",
    "plan_export",
    "plan_run",
]

#: Lossless formats compress heights by less than this factor in practice; the
#: free-space check asks for at least the data's size divided by it per format.
LOSSLESS_MAX_RATIO = 4


@dataclass(frozen=True)
class Output:
    """One format to write: the exporter, its checked options and the final path."""

    entry: Entry
    options: dict[str, Any]
    path: Path

    @property
    def format(self) -> str:
        """The format's name."""
        return str(self.entry.name)


@dataclass(frozen=True)
class Plan:
    """A run, checked: what to read, which steps to run, what to write where.

    Attributes
    ----------
    settings : RunSettings
        The settings the plan was made from.
    steps : tuple of ResolvedStep
        The validated steps (already run on a given stack: none).
    outputs : tuple of Output
        One per format, in the order asked; the paths are final names.
    folder : pathlib.Path
        Where the outputs go.
    source : pathlib.Path or None
        The input to read; None when the stack is given to the executor.
    lazy : bool or None
        Read the input a block at a time (True), in memory (False), or decide
        once it is open (None; see :func:`playnano.run.read.read_mode`).
    header : Header or None
        What the input's header said, when it could be read.
    named : bool
        The output names are final; False when they depend on whether the input
        holds processed layers and no header said so (settled once it is read).
    base : str
        The output base name (before ``_filtered``).
    available : int or None
        The memory the read mode was weighed against (bytes; None: the machine's).
    command : dict or None
        Recorded as ``provenance["command"]`` of every output.
    """

    settings: RunSettings
    steps: tuple[ResolvedStep, ...]
    outputs: tuple[Output, ...]
    folder: Path
    source: Path | None
    lazy: bool | None
    header: Header | None
    named: bool
    base: str
    available: int | None = None
    command: Mapping[str, Any] | None = None

    def for_stack(self, stack: AFMImageStack) -> Plan:
        """This plan with its output names settled by the stack read from the input.

        Names depend on whether the input holds processed layers; when no header
        said so, the stack read tells, and the outputs are checked again.
        """
        if self.named:
            return self
        processed = _processed(self.steps, stack.is_processed())
        stem = make_stem(self.base, processed=processed, raw=self.settings.raw)
        formats = [(o.entry, o.options) for o in self.outputs]
        outputs = _outputs(formats, self.folder, stem)
        _check_outputs(outputs, self.folder, self.settings.overwrite)
        return replace(self, outputs=outputs, named=True)


def _processed(steps: Iterable[ResolvedStep], holds_processed: bool) -> bool:
    """Whether the stack written is processed: its outputs are ``<base>_filtered``."""
    from playnano.processing.validate import changes_data

    return changes_data(steps) or holds_processed


def _outputs(
    formats: Iterable[FormatChoice], folder: Path, stem: str
) -> tuple[Output, ...]:
    return tuple(Output(e, o, folder / f"{stem}{e.obj.suffix}") for e, o in formats)


def output_paths(
    source: str | Path,
    folder: str | Path,
    checked: tuple[list[FormatChoice], list[ResolvedStep]],
    *,
    raw: bool,
    base: str | None = None,
) -> tuple[Path, ...]:
    """The paths a run of ``source`` writes in ``folder`` (:func:`plan_run`'s names).

    Only the input's header is read; an input whose header says nothing counts
    as holding no processed layers.
    """
    from playnano.run.header import describe_input

    header = describe_input(source).header
    holds = header is not None and header.processed
    formats, steps = checked
    stem = make_stem(
        base or base_name(source), processed=_processed(steps, holds), raw=raw
    )
    return tuple(o.path for o in _outputs(formats, Path(folder), stem))


def _check_outputs(outputs: Iterable[Output], folder: Path, overwrite: bool) -> None:
    """The folder can take the outputs, and none exists unless ``overwrite``."""
    from playnano.io.atomic import check_output_folder, refuse_existing

    outputs = list(outputs)
    check_output_folder(folder, [o.path.name for o in outputs])
    for o in outputs:
        refuse_existing(o.path, overwrite)


def estimate_bytes(nbytes: int, entries: Iterable[Entry]) -> int:
    """A low estimate of the bytes writing ``nbytes`` of data in ``entries`` needs."""
    lossless = sum(1 for e in entries if not e.obj.capabilities.lossy)
    return int(nbytes // LOSSLESS_MAX_RATIO * lossless)


def check_free_space(folder: str | Path, need: int) -> None:
    """Raise :class:`DiskFullError` when ``folder``'s disk has less than ``need`` free."""
    existing = Path(folder)
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    try:
        free = shutil.disk_usage(existing).free
    except OSError:
        return  # cannot tell: the write itself is guarded
    if free < need:
        raise DiskFullError(
            f"{folder}: only {free / 1e6:.1f} MB free, the export needs at least "
            f"about {need / 1e6:.1f} MB; nothing was written"
        )


def plan_run(
    settings: RunSettings,
    folder: str | Path,
    *,
    source: str | Path | None = None,
    stack: AFMImageStack | None = None,
    base: str | None = None,
    target: str | Path | None = None,
    checked: tuple[list[FormatChoice], list[ResolvedStep]] | None = None,
    available: int | None = None,
    command: Mapping[str, Any] | None = None,
) -> Plan:
    """Check everything about a run that needs no frame; return its plan.

    Parameters
    ----------
    settings : RunSettings
        Steps, formats and options (checked here unless ``checked`` is given).
    folder : str or pathlib.Path
        Where the outputs go.
    source : str or pathlib.Path, optional
        The input to read.
    stack : AFMImageStack, optional
        A stack already in memory (not read, not closed by the executor). With
        neither, the stack is made later and handed to the executor (generated
        data: taken as unprocessed, its size checked once it exists).
    base : str, optional
        The outputs' base name (default: from the input's name).
    target : str or pathlib.Path, optional
        An exact output path (the Python API's): each format writes it with its
        suffix appended where the name lacks it; no ``_filtered`` is added.
    checked : tuple, optional
        ``settings.check()``'s result, when the caller has it (a batch checks once).
    available : int, optional
        Memory an in-memory read must fit in (bytes; default: the machine's
        available; see :func:`playnano.run.read.check_memory`).
    command : dict, optional
        Recorded in the provenance of every output.

    Raises
    ------
    PlaynanoError
        For any mistake (an :class:`~playnano.errors.OptionError`, a
        :class:`~playnano.errors.ProcessingError`, an existing output, an unusable
        folder, too little free space), before anything is read or written.
    """
    from playnano.io.atomic import check_output_folder
    from playnano.run.header import describe_input
    from playnano.run.read import check_memory, read_mode

    if source is not None and stack is not None:
        raise TypeError("plan_run() takes one input: source or stack, not both")
    formats, steps = checked if checked is not None else settings.check()
    folder = Path(folder)
    src = Path(source) if source is not None else None
    header, lazy, holds = None, None, False
    if src is not None:
        facts = describe_input(src)
        header = facts.header
        lazy = read_mode(facts, settings, steps, available)
        if lazy is False:
            check_memory(src, facts, settings, steps, available)
        holds = header is not None and header.processed
    elif stack is not None:
        lazy, holds = stack.is_lazy, stack.is_processed()
    # without a header, whether the input holds processed layers (and so the
    # names) is known once it is read, unless the steps or raw decide it anyway
    named = (
        target is not None
        or src is None
        or header is not None
        or settings.raw
        or _processed(steps, False)
    )
    if base is None:
        origin = src if src is not None else (stack.file_path if stack else None)
        base = base_name(origin) if origin is not None else ""
    if target is not None:
        path = Path(target)
        outputs = tuple(
            Output(e, o, with_suffix(path, e.obj.suffix)) for e, o in formats
        )
    else:
        stem = make_stem(base, processed=_processed(steps, holds), raw=settings.raw)
        outputs = _outputs(formats, folder, stem)
    if named:
        _check_outputs(outputs, folder, settings.overwrite)
    else:  # either name must fit; existing files are checked once it is read
        other = make_stem(base, processed=True, raw=False)
        names = [o.path.name for o in outputs]
        names += [o.path.name for o in _outputs(formats, folder, other)]
        check_output_folder(folder, names)
    if stack is not None:
        nbytes = stack.export_source(raw=settings.raw)[0].nbytes
    else:
        nbytes = header.nbytes if header is not None else 0
    check_free_space(folder, estimate_bytes(nbytes, [o.entry for o in outputs]))
    return Plan(
        settings=settings,
        steps=tuple(steps),
        outputs=outputs,
        folder=folder,
        source=src,
        lazy=lazy,
        header=header,
        named=named,
        base=base,
        available=available,
        command=command,
    )


def plan_export(
    stack: AFMImageStack,
    path: str | Path,
    formats: str | Sequence[str] | None = None,
    *,
    raw: bool = False,
    overwrite: bool = False,
    options: Mapping[str, Any] | None = None,
    threads: int | None = None,
) -> Plan:
    """The plan of writing ``stack`` to ``path`` (the Python API's export).

    ``formats`` is one format, several, or None for the one whose suffix ``path``
    ends with; each writes ``path`` with its suffix appended where the name lacks
    it. ``options`` are the format's own (one format) or given to every format
    that declares them (several: one no format declares is refused).
    """
    from playnano.errors import OptionError
    from playnano.run.formats import resolve_format, token
    from playnano.run.settings import RunSettings

    names: tuple[str, ...]
    if formats is None or isinstance(formats, str):
        names = (token(resolve_format(formats, path)),)
        per_format, shared = {names[0]: dict(options or {})}, {}
    else:
        names, per_format, shared = tuple(formats), {}, dict(options or {})
    settings = RunSettings(
        formats=names,
        raw=raw,
        options=per_format,
        shared_options=shared,
        threads=threads,
        overwrite=overwrite,
    )
    checked = settings.check()
    declared = {o.name for e, _ in checked[0] for o in e.obj.options}
    unused = sorted(set(shared) - declared)
    if unused:
        raise OptionError(
            f"no format requested ({', '.join(names)}) has an option "
            f"{', '.join(map(repr, unused))}"
        )
    folder = Path(path).parent
    return plan_run(settings, folder, stack=stack, target=path, checked=checked)
