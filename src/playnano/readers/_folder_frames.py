"""The frames of a frame folder, one file each, read on demand (a FrameSource).

A folder reader's ``read_lazy`` reads every frame file once when it opens the
folder (for the frame metadata, and to find damaged frames exactly as ``read``
does, ``skip_damaged`` included) but keeps no image; :class:`FolderFrames` reads
the files of a block again when its frames are asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import PlaynanoError, ReadError
from playnano.readers._common import describe_failure, one_line


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
        read_one: Callable[[Path, str | None], tuple[Any, dict[str, Any]]],
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
                raise ReadError(f"{f.name}: {one_line(str(exc))}") from exc
            except Exception as exc:
                raise ReadError(f"{f.name}: {describe_failure(exc)}") from exc
            if image.shape != self.shape[1:]:
                raise ReadError(
                    f"{self.folder.name}: {f.name} is {image.shape[1]}x"
                    f"{image.shape[0]} pixels; the folder's frames are "
                    f"{self.shape[2]}x{self.shape[1]}"
                )
            out[i] = image
        return out

    def close(self) -> None:
        """Nothing stays open between reads."""
