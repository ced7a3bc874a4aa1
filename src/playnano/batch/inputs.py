"""Find a batch's inputs and plan where each one's outputs go, before reading any.

Files, folders and glob patterns are accepted. A folder is scanned for every installed
reader's suffixes; the frame files of a folder reader (JPK ``.jpk``, Nanoscope
``.spm``/``.00N``) make the folder one input, as ``playnano process FOLDER`` reads it,
when they are the frames of one scan series (:mod:`playnano.readers.series`);
otherwise each of them is an input of its own.
Outputs mirror the input tree under the output folder, so two inputs collide only
when they share a folder and a base name, which is refused up front.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from playnano.errors import OptionError, ReadError

if TYPE_CHECKING:
    from playnano.plugins.registry import Entry
    from playnano.processing.validate import ResolvedStep
    from playnano.run.formats import FormatChoice

_GLOB = set("*?[")


@dataclass(frozen=True)
class Task:
    """One input and the outputs it is expected to write.

    Parameters
    ----------
    input : pathlib.Path
        The file or frame folder (absolute).
    out_dir : pathlib.Path
        Where its outputs go.
    outputs : tuple of pathlib.Path
        The expected output paths, one per format.
    """

    input: Path
    out_dir: Path
    outputs: tuple[Path, ...]


def _usable_readers() -> list[Entry]:
    from playnano.plugins.registry import readers

    return [e for e in readers().entries() if not e.shadowed_by]


def _frame_folder(folder: Path, folder_readers: list[Entry]) -> bool:
    from playnano.readers import _can_read

    return any(_can_read(e, folder) for e in folder_readers)


def _one_video(folder: Path, folder_readers: list[Entry]) -> bool:
    """True when ``folder``'s frame files are one scan series (a video)."""
    from playnano.readers import _can_read
    from playnano.readers._folder_frames import folder_series

    reader = next(e.obj for e in folder_readers if _can_read(e, folder))
    return folder_series(reader, folder).video


def _is_frame_file(f: Path, folder_readers: list[Entry]) -> bool:
    suffix = f.suffix.lower()
    for e in folder_readers:
        if suffix in {s.lower() for s in e.obj.suffixes}:
            return True
        if ".00N" in e.obj.content_suffixes and suffix[1:].isdigit():
            return True
    return False


def _scan(folder: Path, recursive: bool, out: list[Path], skip: Path | None) -> None:
    from playnano.plugins.registry import readers

    if skip is not None and folder.resolve() == skip:
        return  # the batch's own output folder is never an input

    usable = _usable_readers()
    folder_readers = [e for e in usable if e.obj.reads_folders]
    frames = _frame_folder(folder, folder_readers)
    video = frames and _one_video(folder, folder_readers)
    if video:
        out.append(folder)
    for f in sorted(folder.iterdir()):
        if f.name.startswith("."):
            continue
        if f.is_dir():
            if recursive:
                _scan(f, recursive, out, skip)
        elif f.is_file():
            if frames and _is_frame_file(f, folder_readers):
                if not video:  # not one scan series: each file is an input
                    out.append(f)
                continue
            entry = readers().for_suffix(f, lambda r: r.suffixes)
            if entry is not None and not entry.obj.reads_folders:
                out.append(f)


def discover(
    args: Sequence[str | Path], *, recursive: bool = False, skip: Path | None = None
) -> list[Path]:
    """Every input named by ``args`` (files, folders, glob patterns), absolute, once.

    Folders are scanned (``recursive``: their sub-folders too), except ``skip`` (the
    output folder, so that a re-run does not take its own outputs as inputs).

    Raises
    ------
    ReadError
        When an argument names nothing, or a pattern or folder yields no input.
    """
    found: list[Path] = []
    for arg in args:
        text = str(arg)
        if not Path(text).exists() and _GLOB & set(text):
            matches = [Path(m) for m in sorted(glob.glob(text, recursive=recursive))]
            if not matches:
                raise ReadError(f"{text}: no file or folder matches this pattern")
        else:
            matches = [Path(text)]
        for m in matches:
            if not m.exists():
                raise ReadError(f"{m}: no such file or folder")
            before = len(found)
            if m.is_dir():
                _scan(m, recursive, found, skip)
                if len(found) == before:
                    hint = "" if recursive else " (use -r to scan its sub-folders)"
                    raise ReadError(f"{m}: no readable AFM file in this folder{hint}")
            else:
                found.append(m)
    unique: dict[Path, Path] = {}  # by real path; the user's path is kept (its tree)
    for p in found:
        unique.setdefault(p.resolve(), Path(os.path.abspath(p)))
    return list(unique.values())


def plan_tasks(
    inputs: Iterable[Path],
    output_folder: Path,
    checked: tuple[list[FormatChoice], list[ResolvedStep]],
    *,
    raw: bool,
) -> list[Task]:
    """Each input's output folder (mirroring the input tree) and output paths.

    The names are a run's (:func:`playnano.run.plan.output_paths`: without
    processing steps, a bundle that holds processed layers keeps its
    ``_filtered`` name; its header is read for that).

    Raises
    ------
    OptionError
        When two inputs would write the same output, or an output would replace
        an input.
    """
    from playnano.run.plan import output_paths

    inputs = list(inputs)
    if not inputs:
        return []
    root = Path(os.path.commonpath([str(p.parent) for p in inputs]))
    out_root = output_folder.resolve()
    tasks: list[Task] = []
    owner: dict[Path, Path] = {}
    as_inputs = set(inputs)
    for inp in inputs:
        out_dir = out_root / inp.parent.relative_to(root)
        outputs = output_paths(inp, out_dir, checked, raw=raw)
        for out in outputs:
            if out in owner:
                raise OptionError(
                    f"{inp} and {owner[out]} would both write {out}; "
                    "rename one or run them separately"
                )
            if out in as_inputs:
                raise OptionError(f"{inp}: its output {out} would replace an input")
            owner[out] = inp
        tasks.append(Task(inp, out_dir, outputs))
    return tasks
