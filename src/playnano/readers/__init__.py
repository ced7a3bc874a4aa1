"""Builtin reader plugins, one module per file family, and :func:`load`.

:func:`load` asks the reader registry which plugin reads a path: a folder goes to the
folder readers that recognise its frame files, a file to the reader with the longest
matching suffix (``.ome.tif`` beats ``.tif``) or, failing that, to a reader that
recognises its content (Nanoscope files with numeric suffixes such as ``.001``).
Whatever goes wrong inside a reader, at any of its doors (``read``, ``read_lazy``
and the frames it reads later, ``inspect``, ``channels``, ``check``), reaches the
caller as a one-line :class:`~playnano.errors.ReadError` naming the file
(:func:`read_errors`). Which doors a reader has is what it declares
(:class:`~playnano.plugins.reader.ReaderBase`), never what attributes it happens to
have.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import (
    MissingDependencyError,
    OptionError,
    PlaynanoError,
    ReadError,
    StackError,
)
from playnano.readers.common import (
    NamedFrameErrors,
    ReadWarning,
    describe_failure,
    one_line,
)

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.plugins.reader import Reader
    from playnano.plugins.registry import Entry

__all__ = [
    "ReadWarning",
    "available_channels",
    "load",
    "read_errors",
    "reader_for",
    "usable_reader",
]

# Keys record_source() writes itself; a reader's own details may not replace them.
_RESERVED = frozenset({"file", "path", "sha256", "reader", "read_at", "channel"})


def _can_read(entry: Entry, path: Path) -> bool:
    """Ask a reader whether it recognises ``path``; a failing check means no."""
    try:
        return bool(entry.obj.can_read(path))
    except Exception:
        return False


def _raise_one_line(exc: PlaynanoError) -> None:
    """Re-raise a reader's error whose message spans lines as one line."""
    message = str(exc)
    if message == one_line(message):
        return
    try:
        flat = type(exc)(one_line(message))
    except Exception:
        flat = ReadError(one_line(message))
    raise flat from exc


@contextmanager
def read_errors(path: Path) -> Iterator[None]:
    """Whatever a reader raises for ``path`` leaves as one line naming the file.

    A :class:`~playnano.errors.PlaynanoError` keeps its class (flattened to one
    line); a StackError (a stack built from values the reader did not check) and
    any other exception become a :class:`~playnano.errors.ReadError`.
    """
    try:
        yield
    except StackError as exc:
        raise ReadError(f"{path}: {one_line(str(exc))}") from exc
    except PlaynanoError as exc:
        _raise_one_line(exc)
        raise
    except Exception as exc:
        raise ReadError(f"{path}: {describe_failure(exc)}") from exc


def reader_for(path: str | Path) -> Entry:
    """The registry entry of the reader that handles ``path``.

    Raises
    ------
    ReadError
        When the path does not exist or no installed reader handles it.
    """
    from playnano.plugins.registry import readers

    p = Path(path)
    registry = readers()
    if not p.exists():
        raise ReadError(f"{p}: no such file or folder")
    usable = [e for e in registry.entries() if not e.shadowed_by]
    if p.is_dir():
        folder_readers = [e for e in usable if e.obj.reads_folders]
        found = [e for e in folder_readers if _can_read(e, p)]
        if len(found) == 1:
            return found[0]
        if found:
            raise ReadError(
                f"{p}: the folder holds frames for several readers "
                f"({', '.join(e.name for e in found)}); put each video in its own folder"
            )
        if not any(f.is_file() for f in p.iterdir()):
            raise ReadError(f"{p}: the folder is empty (it holds no file to read)")
        known = "; ".join(
            f"{e.name} ({', '.join(_suffixes_read(e.obj))})" for e in folder_readers
        )
        raise ReadError(
            f"{p}: no folder reader recognises the files in this folder; "
            f"folder readers: {known or 'none'}"
        )
    entry = registry.for_suffix(p, lambda r: r.suffixes)
    if entry is not None:
        return entry
    sniffed = [e for e in usable if _can_read(e, p)]
    if sniffed:
        return next((e for e in sniffed if e.plugin.builtin), sniffed[0])
    suffixes = sorted({s.lower() for e in usable for s in e.obj.suffixes})
    sniffed_suffixes = sorted({s for e in usable for s in e.obj.content_suffixes})
    raise ReadError(
        f"{p}: no reader for this file; supported suffixes: "
        f"{', '.join(suffixes + sniffed_suffixes)}"
    )


def _suffixes_read(reader: Any) -> list[str]:
    """The suffixes a reader reads, those it recognises by content included."""
    return [*reader.suffixes, *reader.content_suffixes]


def usable_reader(entry: Entry) -> Reader:
    """The reader object of ``entry``, once the modules it requires are installed.

    Raises
    ------
    MissingDependencyError
        A module in the reader's ``requires`` is not installed; the message says
        what to install.
    """
    missing = entry.missing_requirements()
    if missing:
        raise MissingDependencyError(
            f"reader {entry.name!r} needs {', '.join(missing)}, which is not "
            f"installed; install it with: {entry.install_hint()}"
        )
    reader: Reader = entry.obj
    return reader


def load(
    path: str | Path,
    channel: str | None = None,
    *,
    skip_damaged: bool = False,
    lazy: bool = False,
) -> AFMImageStack:
    """Read an AFM video, a folder of frames or a playnano bundle into a stack.

    Parameters
    ----------
    path : str or pathlib.Path
        A file, or a folder of frame files (JPK ``.jpk``, Nanoscope ``.spm``).
    channel : str, optional
        Channel to read (any case); ``None`` picks the reader's height channel
        (``TP`` for ``.asd``, ``height_trace`` for JPK, ``Height`` for Nanoscope).
    skip_damaged : bool, default False
        Frame folders only: leave out frame files that cannot be read (truncated,
        corrupt) instead of failing; a :class:`ReadWarning` names them and
        ``provenance["source"]["skipped_frames"]`` lists each with its error.
    lazy : bool, default False
        Read the frames on demand when the reader declares it can
        (``supports_lazy``, its ``read_lazy``; see
        :mod:`playnano.lazy`): ``data``, stored layers and masks are then
        :class:`~playnano.lazy.LazyFrames` and ``stack.close()`` releases the
        file. Otherwise the frames are read now.

    Returns
    -------
    AFMImageStack
        The frames, with the source file's name and SHA-256 in
        ``provenance["source"]``.

    Raises
    ------
    ReadError
        The path is missing, not understood, truncated or corrupt.
    ChannelError
        The file has no such channel; the message lists the channels it has.
    OptionError
        ``skip_damaged`` was given for a reader that cannot skip frames.
    """
    from playnano.provenance import record_source

    p = Path(path)
    entry = reader_for(p)
    reader = usable_reader(entry)
    options: dict[str, Any] = {}
    if skip_damaged:
        if not reader.supports_skip_damaged:
            raise OptionError(
                f"{p}: the {entry.name} reader cannot skip damaged frames "
                "(frame-folder readers can)"
            )
        options["skip_damaged"] = True
    with read_errors(p):
        # folder readers' read_lazy takes skip_damaged too (only they skip frames)
        use_lazy = lazy and reader.supports_lazy
        stack = reader.read_lazy(p, channel=channel, **options) if use_lazy else None
        if stack is None:
            stack = reader.read(p, channel=channel, **options)
    for frames in stack.lazy_frames():  # the frames read later name the file too
        frames.source = NamedFrameErrors(p, frames.source)
    details = {
        k: v
        for k, v in (stack.provenance.get("source") or {}).items()
        if k not in _RESERVED
    }
    try:
        record_source(stack, p, reader=entry.name, channel=stack.channel, **details)
    except BaseException:
        stack.close()  # a lazy stack holds the file open
        raise
    return stack


def available_channels(path: str | Path) -> list[str]:
    """Names of the channels ``path`` holds, from its headers where the reader can."""
    p = Path(path)
    reader = usable_reader(reader_for(p))
    with read_errors(p):
        return [str(name) for name in reader.channels(p)]
