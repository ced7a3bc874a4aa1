"""The pages of an OME-TIFF stack, read on demand (a :class:`~playnano.lazy.FrameSource`).

The reader has checked the file (its IFD chain, OME sizes, every page within the
file and able to hold its image) before making a :class:`TiffFrames`; a block of
frames is then the series' pages ``start`` to ``stop``, decoded by tifffile (an
uncompressed page is read from its offset, a compressed one decoded), with the
same guard as a whole read: whatever tifffile reports becomes a one-line
:class:`~playnano.errors.ReadError` naming the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError


class TiffFrames:
    """Frames ``start`` to ``stop`` of series 0, one page per frame.

    Parameters
    ----------
    path : pathlib.Path
        The file (opened at the first read, closed by :meth:`close`).
    shape : tuple of int
        ``(frames, height, width)``; the series has one page per frame.
    dtype : numpy.dtype
        The pages' dtype.
    """

    def __init__(self, path: Path, shape: tuple[int, int, int], dtype: Any) -> None:
        self.path = path
        self.shape = shape
        self.dtype = np.dtype(dtype)
        self._tif: Any = None

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` as a new ``(stop-start, H, W)`` array."""
        import tifffile

        from playnano.readers.guarded.tiff import tifffile_guard

        with tifffile_guard(self.path):
            if self._tif is None:  # the reader opened it through open_tiff first
                self._tif = tifffile.TiffFile(self.path)
            pages = self._tif.asarray(key=range(start, stop), series=0)
        out = np.asarray(pages, dtype=self.dtype)
        if out.size != (stop - start) * self.shape[1] * self.shape[2]:
            raise ReadError(
                f"{self.path}: pages {start} to {stop - 1} hold {out.shape}, not "
                f"{stop - start} frames of {self.shape[1]}x{self.shape[2]}"
            )
        return out.reshape(stop - start, *self.shape[1:])

    def close(self) -> None:
        """Close the file."""
        if self._tif is not None:
            self._tif.close()
            self._tif = None
