"""The Reader protocol: what an input-format plugin declares and does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


@runtime_checkable
class Reader(Protocol):
    """A file family that can be read into an :class:`~playnano.afm_stack.AFMImageStack`.

    Attributes
    ----------
    name : str
        Short name (``asd``, ``h5-jpk``, ``jpk-folder``).
    aliases : tuple of str
        Other accepted names.
    suffixes : tuple of str
        File suffixes this reader claims (``.asd``); a folder reader lists the
        suffix of the frame files it looks for.
    reads_folders : bool
        True when the reader takes a folder of frame files.
    description : str
        One line.
    requires : tuple of str
        Importable modules needed; checked without importing them.
    install_hint : str
        What to install when one of ``requires`` is missing.

    Notes
    -----
    Two optional methods, not part of the runtime check:

    - ``inspect(path) -> playnano.info.StackInfo`` describes the file from its
      metadata without reading frame data (``playnano info``); without it,
      :func:`playnano.info.inspect` loads the stack and says so.
    - ``check(path) -> list[str]`` lists the ways a file departs from its
      format's specification, one line each (``playnano info --check``).
    - ``read_lazy(path, channel=None) -> AFMImageStack | None`` reads the
      metadata now and the frames on demand: the stack's ``data`` (and any stored
      layers and masks) are :class:`playnano.lazy.LazyFrames` over a
      :class:`playnano.lazy.FrameSource`, so a stack larger than memory can be
      processed and exported a block at a time. ``None`` when this file cannot be
      read that way (the caller then uses ``read``). The frames read lazily are
      bit for bit those ``read`` gives.
    """

    name: str
    aliases: tuple[str, ...]
    suffixes: tuple[str, ...]
    reads_folders: bool
    description: str
    requires: tuple[str, ...]
    install_hint: str

    def can_read(self, path: Path) -> bool:
        """Cheap check (suffix, folder content, magic bytes) without a full read."""
        ...

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read ``path``; ``channel=None`` picks the reader's default channel."""
        ...
