"""Frame folders (one file per frame): the readers' shared part, and lazy frames.

:class:`FrameFolderReader` is what the JPK and Nanoscope folder readers share:
finding the frame files, reading them (``skip_damaged`` included), in memory or on
demand, and building the stack. A folder reader's ``read_lazy`` reads every frame
file once when it opens the folder (for the frame metadata, and to find damaged
frames exactly as ``read`` does) but keeps no image; :class:`FolderFrames` reads
the files of a block again when its frames are asked for.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.errors import ChannelError, PlaynanoError, ReadError, StackError
from playnano.plugins.reader import ReaderBase
from playnano.readers.common import (
    ReadWarning,
    describe_failure,
    one_line,
    set_source_details,
)
from playnano.readers.series import FrameHeader, Series, scan_series

#: ``read_one(file, channel) -> (image, metadata)``: one frame file, read.
ReadOne = Callable[[Path, str | None], tuple[Any, dict[str, Any]]]


@dataclass
class Frames:
    """The frames of a frame folder that could be read, and the ones skipped."""

    files: list[Path] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)  # positions in the folder
    images: list[Any] = field(default_factory=list)
    metas: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    #: The images' common dtype (of ``np.stack(images)``), also when not kept.
    dtype: Any = None

    def record(self, stack: Any, skip_damaged: bool) -> None:
        """Put the skipped frames in the stack's source record (when asked to skip)."""
        if skip_damaged:
            set_source_details(stack, skipped_frames=self.skipped)


def read_frames(
    folder: Path,
    files: Sequence[Path],
    read_one: Callable[[Path, str | None], tuple[Any, dict[str, Any]]],
    channel: str | None,
    skip_damaged: bool = False,
    *,
    keep_images: bool = True,
) -> Frames:
    """Read every frame file with ``read_one(file, channel)`` -> (image, metadata).

    A damaged frame (a ReadError, or a size unlike the first frame's) stops the read
    with an error naming it, unless ``skip_damaged``: then it is left out, listed in
    :attr:`Frames.skipped` and warned about. A missing channel is never skipped.
    The metadata must hold the ``"channel"`` read; later frames read exactly it.
    ``keep_images=False`` keeps only the first image (a lazy read checks every
    frame now and reads the images again when asked).
    """
    import numpy as np

    out = Frames()
    for index, f in enumerate(files):
        try:
            image, meta = read_one(f, channel)
            if out.images and image.shape != out.images[0].shape:
                first, ref = out.files[0], out.images[0]
                raise ReadError(
                    f"{f}: {image.shape[1]}x{image.shape[0]} pixels; "
                    f"{first.name} is {ref.shape[1]}x{ref.shape[0]}"
                )
        except ChannelError:
            raise
        except Exception as exc:  # the frame file is damaged: say which one
            if isinstance(exc, ReadError):
                error = exc
            elif isinstance(exc, StackError):
                error = ReadError(f"{f}: {one_line(str(exc))}")
            else:
                error = ReadError(f"{f}: {describe_failure(exc)}")
            if not skip_damaged:
                if error is exc:
                    raise
                raise error from exc
            out.skipped.append({"file": f.name, "index": index, "error": str(error)})
            continue
        channel = meta["channel"]
        out.files.append(f)
        out.indices.append(index)
        if keep_images or not out.images:
            out.images.append(image)
        seen = [] if out.dtype is None else [out.dtype]
        out.dtype = np.result_type(*seen, image.dtype)
        out.metas.append(meta)
    if not out.images:
        raise ReadError(
            f"{folder}: no readable frames; all {len(files)} are damaged "
            f"(first: {out.skipped[0]['error'] if out.skipped else 'none'})"
        )
    if out.skipped:
        names = ", ".join(s["file"] for s in out.skipped)
        count = len(out.skipped)
        warnings.warn(
            f"{folder}: skipped {count} damaged frame{'s' * (count > 1)}: "
            f"{names} (listed with the reasons in the provenance's source)",
            ReadWarning,
            stacklevel=4,
        )
    return out


class FolderFrames:
    """Frames ``start`` to ``stop``: the images of ``files[start:stop]``.

    Parameters
    ----------
    folder : pathlib.Path
        The folder, for messages.
    files : sequence of pathlib.Path
        The frame files kept when the folder was opened, in frame order.
    read_one : callable
        ``read_one(file, channel) -> (image, metadata)``, the reader's own.
    channel : str
        The channel the folder was opened with.
    shape : tuple of int
        ``(frames, height, width)``.
    dtype : numpy.dtype
        The frames' common dtype.
    """

    def __init__(
        self,
        folder: Path,
        files: Sequence[Path],
        read_one: ReadOne,
        channel: str,
        shape: tuple[int, int, int],
        dtype: Any,
    ) -> None:
        self.folder, self.files, self.read_one = folder, list(files), read_one
        self.channel, self.shape, self.dtype = channel, shape, np.dtype(dtype)

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` as a new ``(stop-start, H, W)`` array."""
        out = np.empty((stop - start, *self.shape[1:]), self.dtype)
        for i, f in enumerate(self.files[start:stop]):
            try:
                image, _ = self.read_one(f, self.channel)
            except ReadError:
                raise
            except PlaynanoError as exc:
                raise ReadError(f"{f}: {one_line(str(exc))}") from exc
            except Exception as exc:
                raise ReadError(f"{f}: {describe_failure(exc)}") from exc
            if image.shape != self.shape[1:]:
                raise ReadError(
                    f"{f}: {image.shape[1]}x{image.shape[0]} pixels; "
                    "the folder's other frames are "
                    f"{self.shape[2]}x{self.shape[1]}"
                )
            out[i] = image
        return out

    def close(self) -> None:
        """Nothing stays open between reads."""


class FrameFolderReader(ReaderBase):
    """Reads a folder of frame files, one frame each, or a single frame file.

    A subclass gives :meth:`frame_files`, :attr:`read_one` (a plain function, kept
    by the lazy frames), :attr:`frame_kind` and :meth:`describe`. A damaged frame
    file is an error naming it; ``skip_damaged=True`` leaves it out instead
    (warned about and listed in the provenance).
    """

    reads_folders = True
    supports_lazy = True
    supports_channels = True
    supports_skip_damaged = True
    #: What the frame files are, for "the folder holds no ... files".
    frame_kind: str = ""
    #: The family numbers its frames in their file names (:meth:`frame_number`).
    numbers_frames: bool = False

    @staticmethod
    def read_one(path: Path, channel: str | None) -> tuple[Any, dict[str, Any]]:
        """One frame file: the channel's image and its metadata (with ``channel``)."""
        raise NotImplementedError

    def frame_files(self, folder: Path) -> list[Path]:
        """The frame files of ``folder``, in frame order."""
        raise NotImplementedError

    def describe(
        self, found: Frames
    ) -> tuple[float, str, list[dict[str, Any]], dict[str, Any]]:
        """``(pixel size nm, channel, frame metadata, acquisition details)``."""
        raise NotImplementedError

    def frame_header(self, path: Path) -> FrameHeader | None:
        """What ``path``'s header says about its place in a scan series.

        None when the reader cannot say (its folders are then taken as one video).
        """
        return None

    def frame_number(self, path: Path) -> tuple[str, int] | None:
        """``(series name, number)`` where the family numbers frames in file names."""
        return None

    def series(self, folder: Path) -> Series:
        """Whether ``folder``'s frame files are one video (:mod:`~playnano.readers.series`)."""
        return self._series(self.frame_files(folder))

    def _series(self, files: list[Path]) -> Series:
        number_of = self.frame_number if self.numbers_frames else None
        return scan_series(files, self.frame_header, number_of)

    def files(self, path: Path) -> list[Path]:
        """The frame files to read: ``path`` itself, or its folder's frame files.

        Raises
        ------
        ReadError
            When the folder holds no frame files, or files that are not the
            frames of one scan series.
        """
        if not path.is_dir():
            return [path]
        files = self.frame_files(path)
        if not files:
            raise ReadError(f"{path}: the folder holds no {self.frame_kind} files")
        if len(files) > 1:
            verdict = self._series(files)
            if not verdict.video:
                raise ReadError(
                    f"{path}: not one video, {verdict.reason}; give one file "
                    "(playnano batch takes each file as its own input)"
                )
        return files

    def read(
        self, path: Path, channel: str | None = None, skip_damaged: bool = False
    ) -> AFMImageStack:
        """Read the channel (the reader's default when None) of every frame file."""
        path = Path(path)
        found = read_frames(
            path, self.files(path), self.read_one, channel, skip_damaged
        )
        return self._stack(path, found, skip_damaged, np.stack(found.images))

    def read_lazy(
        self, path: Path, channel: str | None = None, skip_damaged: bool = False
    ) -> AFMImageStack:
        """:meth:`read` with the frames read on demand, one file each.

        Every frame file is read now (for its metadata, and to find damaged
        frames as :meth:`read` does), but only the images of a block are kept.
        """
        from playnano.readers.lazy_stack import lazy_stack

        path = Path(path)
        found = read_frames(
            path, self.files(path), self.read_one, channel, skip_damaged,
            keep_images=False,
        )  # fmt: skip
        shape = (len(found.files), *found.images[0].shape)
        channel = found.metas[0]["channel"]
        frames = FolderFrames(
            path, found.files, self.read_one, channel, shape, found.dtype
        )
        return self._stack(path, found, skip_damaged, frames, lazy_stack)

    def _stack(
        self,
        path: Path,
        found: Frames,
        skip_damaged: bool,
        data: Any,
        lazy_stack: Any = None,
    ) -> AFMImageStack:
        """The stack of ``data`` (a FolderFrames with ``lazy_stack``) and metadata."""
        pixel_nm, channel, meta, acquisition = self.describe(found)
        if lazy_stack is not None:
            stack = lazy_stack(path, data, pixel_nm, channel, meta)
        else:
            stack = AFMImageStack(data, pixel_nm, channel, path, meta)
        acquisition["frame_files"] = [f.name for f in found.files]
        set_source_details(stack, acquisition=acquisition)
        found.record(stack, skip_damaged)
        return stack


def folder_series(reader: Any, folder: Path) -> Series:
    """Whether ``reader`` reads ``folder`` as one video, and why.

    Readers of frame folders built on playnano's (the JPK and Nanoscope readers)
    apply the rule above; any other folder reader reads its folders whole.
    """
    if isinstance(reader, FrameFolderReader):
        return reader.series(folder)
    return Series(True, f"the {reader.name} reader reads the folder as one video")
