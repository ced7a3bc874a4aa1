"""The reader contract: what an input-format plugin declares, and every door into a file.

A reader has five doors into a file: ``read`` (the frames, in memory), ``read_lazy``
(the metadata now, the frames on demand), ``inspect`` (a description from the
headers), ``channels`` (the channel names) and ``check`` (departures from the
format's specification). ``read`` is required; each other door is declared with a
``supports_*`` flag, the way zarr's stores declare ``supports_writes``, and
:class:`ReaderBase` gives every declaration and every door its default. The core
asks the declaration, never whether a method happens to exist, and the registry
checks the declarations when the plugin registers (:func:`validate_reader`).

Every door is called by the core inside one guard (:func:`playnano.readers.read_errors`):
whatever a reader raises reaches the user as one :class:`~playnano.errors.ReadError`
line naming the file. Each door of the builtin readers starts at the same guarded
opening of its container (:mod:`playnano.readers.guarded`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.info import StackInfo

#: The optional doors, by the flag that declares each.
DOORS: dict[str, str] = {
    "supports_lazy": "read_lazy",
    "supports_inspect": "inspect",
    "supports_channels": "channels",
    "supports_check": "check",
}


@runtime_checkable
class Reader(Protocol):
    """A file family that can be read into an :class:`~playnano.afm_stack.AFMImageStack`.

    Subclass :class:`ReaderBase`, which declares everything below with a default.

    Attributes
    ----------
    name : str
        Short name (``asd``, ``h5-jpk``, ``jpk-folder``).
    aliases : tuple of str
        Other accepted names.
    suffixes : tuple of str
        File suffixes this reader claims (``.asd``); a folder reader lists the
        suffix of the frame files it looks for.
    content_suffixes : tuple of str
        Suffixes recognised by content, not name (``.00N``); for messages only.
    reads_folders : bool
        True when the reader takes a folder of frame files.
    description : str
        One line.
    requires : tuple of str
        Importable modules needed; checked without importing them.
    install_hint : str
        What to install when one of ``requires`` is missing.
    supports_lazy, supports_inspect, supports_channels, supports_check : bool
        Which optional doors the reader implements itself (see
        :class:`ReaderBase` for each door and its default).
    supports_skip_damaged : bool
        True when ``read`` and ``read_lazy`` take ``skip_damaged=True`` (leave
        damaged frame files out; frame-folder readers).
    """

    name: str
    aliases: tuple[str, ...]
    suffixes: tuple[str, ...]
    content_suffixes: tuple[str, ...]
    reads_folders: bool
    description: str
    requires: tuple[str, ...]
    install_hint: str
    supports_lazy: bool
    supports_inspect: bool
    supports_channels: bool
    supports_check: bool
    supports_skip_damaged: bool

    def can_read(self, path: Path) -> bool:
        """Cheap check (suffix, folder content, magic bytes) without a full read."""
        ...

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read ``path``; ``channel=None`` picks the reader's default channel."""
        ...

    def read_lazy(self, path: Path, channel: str | None = None) -> AFMImageStack | None:
        """The metadata now and the frames on demand, or ``None``."""
        ...

    def inspect(self, path: Path) -> StackInfo:
        """What the file holds, from its headers where the reader can."""
        ...

    def channels(self, path: Path) -> list[str]:
        """The channel names the file holds."""
        ...

    def check(self, path: Path) -> list[str]:
        """Departures from the format's specification, one line each."""
        ...


class ReaderBase:
    """Every declaration of the reader contract, and every door, with its default.

    A reader subclasses this, sets its declarations, implements ``can_read`` and
    ``read``, and for each optional door it implements sets the door's flag:

    ``read_lazy(path, channel=None)`` (``supports_lazy``)
        The metadata now, the frames on demand: the stack's ``data`` (and any
        stored layers and masks) are :class:`~playnano.lazy.LazyFrames` (build
        the stack with :func:`playnano.readers.lazy_stack.lazy_stack`), so a stack
        larger than memory is processed and exported a block at a time. The
        frames are bit for bit those ``read`` gives. ``None`` when this file
        cannot be read that way (the caller then uses ``read``). Default: ``None``.
    ``inspect(path)`` (``supports_inspect``)
        A :class:`~playnano.info.StackInfo` from the headers alone, no frame data
        read (``playnano info``, and ``process`` sizing a stack before it
        chooses the block path). Default (in :func:`playnano.info.inspect`): the
        stack opened with ``read_lazy`` (or ``read``), described, and said so
        (``metadata_only`` is False).
    ``channels(path)`` (``supports_channels``)
        The file's channel names from its headers. Default: the channel of the
        stack the file opens as.
    ``check(path)`` (``supports_check``)
        Every way the file departs from its format's specification, one line
        each, ``[]`` for a file that follows it (``playnano info --check``).
        Default: why the file cannot be opened, or a ReadError saying the
        reader has no specification to check an intact file against.

    Whatever a door raises, the core turns into one ReadError line naming the
    file; a door should still say what is wrong in its own words, starting with
    the path as given (``f"{path}: what is wrong"``).
    """

    name: str = ""
    aliases: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    content_suffixes: tuple[str, ...] = ()
    reads_folders: bool = False
    description: str = ""
    requires: tuple[str, ...] = ()
    install_hint: str = ""

    supports_lazy: ClassVar[bool] = False
    supports_inspect: ClassVar[bool] = False
    supports_channels: ClassVar[bool] = False
    supports_check: ClassVar[bool] = False
    supports_skip_damaged: ClassVar[bool] = False

    def has_suffix(self, path: Path) -> bool:
        """True when ``path``'s name ends with one of :attr:`suffixes` (any case)."""
        low = Path(path).name.lower()
        return any(low.endswith(s.lower()) and len(low) > len(s) for s in self.suffixes)

    def can_read(self, path: Path) -> bool:
        """True for a file with one of :attr:`suffixes` (override to look inside)."""
        return Path(path).is_file() and self.has_suffix(path)

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read ``path`` into a stack; every reader implements this."""
        raise NotImplementedError(f"{type(self).__name__} does not implement read()")

    def read_lazy(self, path: Path, channel: str | None = None) -> AFMImageStack | None:
        """The stack with its frames read on demand; ``None``: use :meth:`read`."""
        return None

    def inspect(self, path: Path) -> StackInfo:
        """Not declared: :func:`playnano.info.inspect` opens the stack instead.

        Describing a stack needs :mod:`playnano.info`, a layer above this plugin
        core, so the default lives there; a reader that describes files from
        their headers declares ``supports_inspect`` and overrides this.
        """
        raise NotImplementedError(
            f"the {self.name} reader does not describe files from their headers "
            "(supports_inspect is False): call playnano.info.inspect"
        )

    def channels(self, path: Path) -> list[str]:
        """The channel of the stack the file opens as (lazily when declared)."""
        with self._open_any(path) as stack:
            return [stack.channel]

    def check(self, path: Path) -> list[str]:
        """Why the file cannot be read, if it cannot; else refuse: no specification.

        Without a specification there is nothing to check an intact file against,
        but a damaged one is still reported as such (why it cannot be opened).
        """
        from playnano.errors import PlaynanoError, ReadError

        try:
            self._open_any(path).close()
        except PlaynanoError as exc:
            return [str(exc).removeprefix(f"{path}: ")]
        raise ReadError(
            f"{path}: the {self.name} reader has no specification check "
            "(only readers of a specified format, such as playnano's bundles, have one)"
        )

    def _open_any(self, path: Path) -> AFMImageStack:
        """The stack of ``path``: frames on demand when declared, else read."""
        stack = self.read_lazy(path) if self.supports_lazy else None
        return stack if stack is not None else self.read(path)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


def declared_doors(reader: Reader) -> list[str]:
    """The optional doors ``reader`` declares, in :data:`DOORS` order."""
    flags = (
        reader.supports_lazy,
        reader.supports_inspect,
        reader.supports_channels,
        reader.supports_check,
    )
    return [door for door, flag in zip(DOORS.values(), flags, strict=True) if flag]
