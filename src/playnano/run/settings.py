"""What a run does to each input, as plain values: :class:`RunSettings`.

Settings hold only plain, picklable values (they cross process boundaries in a
batch); :meth:`RunSettings.check` resolves and checks all of them (formats and
their options, steps and their parameters, threads, block size) before any input
is read. A plan (:func:`playnano.run.plan.plan_run`) adds what depends on the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from playnano.errors import OptionError

if TYPE_CHECKING:
    from playnano.processing.parsing import Step
    from playnano.processing.validate import ResolvedStep
    from playnano.run.formats import FormatChoice

__all__ = ["RunSettings", "step_sources", "steps_as_plain"]


@dataclass(frozen=True)
class RunSettings:
    """What a run does to each input, as plain values.

    Parameters
    ----------
    formats : tuple of str
        Format names as requested (``all`` already expanded).
    steps : tuple
        ``(name, params)`` pairs, in order.
    raw : bool
        Export the unprocessed snapshot.
    options : dict
        Per-format options (``{"gif": {"fps": "10"}}``).
    shared_options : dict
        Options given to every format that declares them (``zmin``, ``scale_bar_nm``).
    channel : str, optional
        Channel to read.
    skip_damaged : bool
        Frame folders: leave out damaged frames.
    threads : int, optional
        Compression threads; the files are the same whatever the count.
    overwrite : bool
        Replace existing outputs.
    blocks : bool, optional
        Stream the stack a block of frames at a time (True: reading, the steps and
        every format at once; see :mod:`playnano.run.stream`), hold it entirely in
        memory (False), or choose (None, the default: the stream whenever the
        reader can read lazily and every step works frame by frame; see
        :func:`playnano.run.read.use_blocks`). The frames written are the same
        either way.
    block_frames : int, optional
        Frames per block on the stream (default: about 64 MB of frames;
        rounded up to whole batches of a batched step).
    step_sources : tuple of str
        Where each step was given (``steps.yaml: filters[1]``), for messages;
        default ``step 1``, ``step 2``, ...
    crate : bool
        Hash every output and record what the folder's provenance crate
        (``ro-crate-metadata.json``, :mod:`playnano.run.crate`) lists.
    """

    formats: tuple[str, ...]
    steps: tuple[tuple[str, dict[str, Any]], ...] = ()
    raw: bool = False
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared_options: dict[str, Any] = field(default_factory=dict)
    channel: str | None = None
    skip_damaged: bool = False
    threads: int | None = None
    overwrite: bool = False
    blocks: bool | None = None
    block_frames: int | None = None
    step_sources: tuple[str, ...] = ()
    crate: bool = False

    def check(self) -> tuple[list[FormatChoice], list[ResolvedStep]]:
        """Resolve every format, option and step; raise before any work if one is bad.

        Returns the formats with their checked options and the validated steps.
        """
        from playnano.processing.lazy_steps import refuse_stack_steps
        from playnano.processing.validate import validate_steps
        from playnano.run.formats import check_threads, plan_formats

        check_threads(self.threads)
        if self.block_frames is not None and (
            isinstance(self.block_frames, bool) or int(self.block_frames) < 1
        ):
            raise OptionError(
                f"block_frames must be 1 or more, not {self.block_frames!r}"
            )
        formats = plan_formats(
            self.formats,
            raw=self.raw,
            options=self.options,
            shared_options=self.shared_options,
        )
        resolved = validate_steps(self.parsed_steps())
        if self.blocks:  # a whole-stack step cannot run a block at a time
            refuse_stack_steps(resolved)
        return formats, resolved

    def parsed_steps(self) -> list[Step]:
        """The steps as :class:`~playnano.processing.parsing.Step`, with their sources."""
        from playnano.processing.parsing import Step

        sources = self.step_sources or tuple(
            f"step {i}" for i in range(1, len(self.steps) + 1)
        )
        return [
            Step(name, dict(params), source)
            for (name, params), source in zip(self.steps, sources, strict=True)
        ]

    def fingerprint(self) -> dict[str, Any]:
        """The settings that decide the outputs' content (resume compares these)."""
        d = asdict(self)
        d["steps"] = [[name, dict(params)] for name, params in self.steps]
        d["formats"] = list(self.formats)
        # same files whatever their value
        for key in (
            "threads",
            "overwrite",
            "blocks",
            "block_frames",
            "step_sources",
            "crate",
        ):
            d.pop(key)
        return d


def steps_as_plain(steps: Sequence[Any]) -> tuple[tuple[str, dict[str, Any]], ...]:
    """Parsed :class:`~playnano.processing.parsing.Step` objects as ``(name, params)``."""
    return tuple((s.name, dict(s.params)) for s in steps)


def step_sources(steps: Sequence[Any]) -> tuple[str, ...]:
    """Where each parsed step was given (:attr:`RunSettings.step_sources`)."""
    return tuple(s.source for s in steps)
