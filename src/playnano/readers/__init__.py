"""Builtin reader plugins, one module per file family, and :func:`load`.

:func:`load` asks the reader registry which plugin reads a path: a folder goes to the
folder readers that recognise its frame files, a file to the reader with the longest
matching suffix (``.ome.tif`` beats ``.tif``) or, failing that, to a reader that
recognises its content (Nanoscope files with numeric suffixes such as ``.001``).
Whatever goes wrong inside a reader reaches the caller as a one-line
:class:`~playnano.errors.ReadError` naming the file.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.errors import MissingDependencyError, PlaynanoError, ReadError
from playnano.readers._common import ReadWarning

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.plugins.registry import Entry

__all__ = [
    "BUILTIN_PLUGINS",
    "ReadWarning",
    "available_channels",
    "load",
    "reader_for",
]

#: Reader plugin modules registered in code when package metadata is missing.
BUILTIN_PLUGINS: list[str] = [
    "playnano.readers.asd",
    "playnano.readers.h5jpk",
    "playnano.readers.jpk_folder",
    "playnano.readers.spm",
    "playnano.formats.npz.reader",
    "playnano.formats.h5.reader",
    "playnano.formats.ometiff.reader",
    "playnano.readers.tiff",
]

# Keys record_source() writes itself; a reader's own details may not replace them.
_RESERVED = frozenset({"file", "path", "sha256", "reader", "read_at", "channel"})


def _can_read(entry: Entry, path: Path) -> bool:
    """Ask a reader whether it recognises ``path``; a failing check means no."""
    try:
        return bool(entry.obj.can_read(path))
    except Exception:
        return False


def _describe(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    if isinstance(exc, (struct.error, EOFError)):
        return f"file is truncated or corrupt ({detail})"
    if isinstance(exc, OSError):
        return f"cannot be read ({detail})"
    return f"is corrupt or not understood ({detail})"


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
        raise ReadError(f"{p.name}: no such file or folder ({p})")
    usable = [e for e in registry.entries() if not e.shadowed_by]
    if p.is_dir():
        folder_readers = [e for e in usable if getattr(e.obj, "reads_folders", False)]
        found = [e for e in folder_readers if _can_read(e, p)]
        if len(found) == 1:
            return found[0]
        if found:
            raise ReadError(
                f"{p.name}: the folder holds frames for several readers "
                f"({', '.join(e.name for e in found)}); put each video in its own folder"
            )
        known = "; ".join(
            f"{e.name} ({', '.join(e.obj.suffixes)})" for e in folder_readers
        )
        raise ReadError(
            f"{p.name}: no folder reader recognises the files in this folder; "
            f"folder readers: {known or 'none'}"
        )
    entry = registry.for_suffix(p, lambda r: r.suffixes)
    if entry is not None:
        return entry
    sniffed = [e for e in usable if _can_read(e, p)]
    if sniffed:
        return next((e for e in sniffed if e.plugin.builtin), sniffed[0])
    suffixes = sorted({s.lower() for e in usable for s in e.obj.suffixes})
    raise ReadError(
        f"{p.name}: no reader for this file; supported suffixes: {', '.join(suffixes)}"
    )


def _checked_reader(entry: Entry) -> Any:
    missing = entry.missing_requirements()
    if missing:
        hint = entry.obj.install_hint or f"pip install {missing[0]}"
        raise MissingDependencyError(
            f"reader {entry.name!r} needs {', '.join(missing)}, which is not "
            f"installed; install it with: {hint}"
        )
    return entry.obj


def load(path: str | Path, channel: str | None = None) -> AFMImageStack:
    """Read an AFM video, a folder of frames or a playnano bundle into a stack.

    Parameters
    ----------
    path : str or pathlib.Path
        A file, or a folder of frame files (JPK ``.jpk``, Nanoscope ``.spm``).
    channel : str, optional
        Channel to read (any case); ``None`` picks the reader's height channel
        (``TP`` for ``.asd``, ``height_trace`` for JPK, ``Height`` for Nanoscope).

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
    """
    from playnano.provenance import record_source

    p = Path(path)
    entry = reader_for(p)
    reader = _checked_reader(entry)
    try:
        stack = reader.read(p, channel=channel)
    except PlaynanoError:
        raise
    except Exception as exc:
        raise ReadError(f"{p.name}: {_describe(exc)}") from exc
    details = {
        k: v
        for k, v in (stack.provenance.get("source") or {}).items()
        if k not in _RESERVED
    }
    record_source(stack, p, reader=entry.name, channel=stack.channel, **details)
    return stack


def available_channels(path: str | Path) -> list[str]:
    """Names of the channels ``path`` holds, read from headers where possible."""
    p = Path(path)
    entry = reader_for(p)
    reader = _checked_reader(entry)
    try:
        lister = getattr(reader, "channels", None)
        if lister is not None:
            return list(lister(p))
        return [reader.read(p).channel]
    except PlaynanoError:
        raise
    except Exception as exc:
        raise ReadError(f"{p.name}: {_describe(exc)}") from exc
