"""What the three bundle readers share: checks, text and JSON decoding, the stack.

Anything missing or malformed raises :class:`~playnano.errors.ReadError` naming the
file, in one line.
"""

from __future__ import annotations

import json
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.errors import ReadError, StackError
from playnano.plugins.reader import ReaderBase
from playnano.readers.common import pick_channel

if TYPE_CHECKING:
    from playnano.info import StackInfo

#: Channel name playnano 0.5.0 falls back to when a file names none.
DEFAULT_CHANNEL = "height_trace"


def existing(path: str | Path) -> Path:
    """``path`` as a Path; a ReadError when it is not a file."""
    p = Path(path)
    if not p.is_file():
        raise ReadError(f"{p}: no such file")
    return p


def short_repr(value: Any, limit: int = 60) -> str:
    """``repr(value)`` on one line, cut to ``limit`` characters."""
    text = " ".join(repr(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_json(path: Path, key: str, text: str | bytes) -> Any:
    """The value of JSON ``text`` stored under ``key``."""
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReadError(f"{path}: {key!r} is not valid JSON ({exc})") from None


def check_version(path: Path, version: Any, supported: int) -> None:
    """Refuse a format version newer than ``supported`` (None: unversioned, 0.5.0)."""
    if version is None:
        return
    arr = np.asarray(version)
    if arr.size != 1:
        raise ReadError(
            f"{path}: format version is not a number (an array of shape {arr.shape})"
        )
    try:
        v = int(arr.item())
    except (TypeError, ValueError, OverflowError):
        raise ReadError(
            f"{path}: format version {short_repr(arr.item())} is not a number"
        ) from None
    if v > supported:
        raise ReadError(
            f"{path}: written by a newer playnano (format version {v}; this one "
            f"reads up to {supported}); upgrade playnano to read it"
        )


def as_text(path: Path, key: str, value: Any) -> str:
    """A str from a 0-d/1-element unicode or bytes array, str or bytes."""
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.kind not in "US":
            raise ReadError(f"{path}: {key!r} is not a string")
        value = value.reshape(()).item()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ReadError(f"{path}: {key!r} is not UTF-8 text") from None
    if not isinstance(value, str):
        raise ReadError(f"{path}: {key!r} is not a string")
    return value


def build_stack(
    path: Path,
    data: Any,
    pixel_size_nm: Any,
    channel: str,
    frame_metadata: Any,
    provenance: Any,
    *,
    state_backups: Any = None,
    layers: dict[str, Any] | None = None,
    masks: dict[str, Any] | None = None,
) -> AFMImageStack:
    """An AFMImageStack from what a file held; any inconsistency is a ReadError."""
    from playnano.lazy import LazyFrames

    if not isinstance(data, (np.ndarray, LazyFrames)) or data.dtype.hasobject:
        raise ReadError(f"{path}: 'data' is not a numeric array")
    if not isinstance(frame_metadata, list):
        raise ReadError(f"{path}: frame metadata is not a JSON list")
    try:
        pixel_size_nm = float(np.asarray(pixel_size_nm).item())
        stack = AFMImageStack(data, pixel_size_nm, channel, path, frame_metadata)
        stack.processed = layers or {}
        stack.masks = masks or {}
    except (StackError, TypeError, ValueError) as exc:
        raise ReadError(f"{path}: {exc}") from None
    return finish_stack(path, stack, provenance, state_backups)


def finish_stack(
    path: Path, stack: AFMImageStack, provenance: Any, state_backups: Any
) -> AFMImageStack:
    """Give ``stack`` the provenance and state backups a file held (checked)."""
    if provenance is not None:
        if not isinstance(provenance, dict):
            raise ReadError(f"{path}: provenance is not a JSON object")
        stack.provenance = provenance
    if state_backups is not None:
        if not isinstance(state_backups, dict):
            raise ReadError(f"{path}: state_backups is not a JSON object")
        stack.state_backups = state_backups
    return stack


def starts_with(path: Path, *magics: bytes) -> bool:
    """True when the file begins with one of ``magics``."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    return any(head.startswith(m) for m in magics)


class BundleReader(ReaderBase):
    """A reader plugin for one of playnano's bundle formats.

    A bundle holds one channel; asking for another is a
    :class:`~playnano.errors.ChannelError`. The provenance the bundle carries is
    kept, and its ``source`` record (the instrument file it came from) moves to
    ``source["previous_source"]`` when :func:`playnano.load` records the bundle
    itself as the source.
    """

    supports_lazy = True
    supports_inspect = True
    supports_check = True
    magics: tuple[bytes, ...] = ()
    #: The module with the format's ``inspect(path)`` and ``check(path)``.
    info_module: str = ""

    def load_file(self, path: Path) -> AFMImageStack:
        """Load the bundle at ``path`` (the format's loader function)."""
        raise NotImplementedError

    def inspect(self, path: Path) -> StackInfo:
        """Describe the file from its metadata (its :attr:`info_module`)."""
        return import_module(self.info_module).inspect(path)

    def check(self, path: Path) -> list[str]:
        """Problems against the bundle specification, one line each."""
        return import_module(self.info_module).check(path)

    def can_read(self, path: Path) -> bool:
        """True for a file with this bundle's suffix and file signature."""
        return (
            path.is_file() and self.has_suffix(path) and starts_with(path, *self.magics)
        )

    def load_file_lazy(self, path: Path) -> AFMImageStack | None:
        """Load the bundle's metadata now and its arrays on demand, or ``None``."""
        return None

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Load the bundle; ``channel``, if given, must be the one it holds."""
        path = Path(path)
        return self._finish(path, self.load_file(path), channel)

    def read_lazy(self, path: Path, channel: str | None = None) -> AFMImageStack | None:
        """:meth:`read` with the frames read on demand; ``None`` when it cannot."""
        path = Path(path)
        stack = self.load_file_lazy(path)
        if stack is None:
            return None
        try:
            return self._finish(path, stack, channel)
        except BaseException:
            stack.close()
            raise

    def _finish(
        self, path: Path, stack: AFMImageStack, channel: str | None
    ) -> AFMImageStack:
        if channel is not None:
            pick_channel(path, channel, [stack.channel], stack.channel)
        previous = stack.provenance.get("source") or {}
        stack.provenance["source"] = {"previous_source": previous} if previous else {}
        return stack
