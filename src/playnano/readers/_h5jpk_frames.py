"""Frames of an ``.h5-jpk`` channel, read on demand (a :class:`~playnano.lazy.FrameSource`).

A channel is one ``(pixels, frames)`` integer dataset; a block of frames is the
HDF5 slice ``[:, start:stop]``, scaled by :func:`scale_frames` exactly as
:meth:`~playnano.readers.h5jpk.H5JpkReader.read` scales the whole dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from playnano.errors import ReadError


def scale_frames(
    path: Path,
    name: str,
    raw: np.ndarray,
    multiplier: float,
    offset: float,
    to_nm: float | None,
    height: int,
    width: int,
) -> np.ndarray:
    """``(frames, height, width)`` heights from ``(pixels, frames)`` raw values.

    Scaled by ``raw * multiplier + offset`` (then to nm), each frame flipped
    vertically; a scaling that overflows float64 is a ReadError.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        values = raw * multiplier + offset
        if to_nm is not None and to_nm != 1.0:
            values *= to_nm
    finite_raw = raw.size if raw.dtype.kind in "iu" else np.isfinite(raw).sum()
    if np.isfinite(values).sum() != finite_raw:
        raise ReadError(
            f"{path}: channel {name!r}'s scaling (x {multiplier} + {offset}) "
            "overflows the float64 range"
        )
    n = raw.shape[1]
    return np.ascontiguousarray(values.T.reshape(n, height, width)[:, ::-1, :])


class H5JpkFrames:
    """Frames ``start`` to ``stop`` of one channel as float64 heights.

    Parameters
    ----------
    path : pathlib.Path
        The file (opened at the first read, closed by :meth:`close`).
    dataset : str
        The channel's dataset (its HDF5 path), checked by the reader.
    name : str
        The channel, for messages.
    shape : tuple of int
        ``(frames, height, width)``.
    multiplier, offset, to_nm
        The scaling (see :func:`scale_frames`).
    """

    dtype = np.dtype(np.float64)

    def __init__(
        self,
        path: Path,
        dataset: str,
        name: str,
        shape: tuple[int, int, int],
        multiplier: float,
        offset: float,
        to_nm: float | None,
    ) -> None:
        self.path, self.dataset, self.name, self.shape = path, dataset, name, shape
        self.multiplier, self.offset, self.to_nm = multiplier, offset, to_nm
        self._file: Any = None

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` as a new ``(stop-start, H, W)`` array."""
        from playnano.readers.guarded.hdf5 import open_hdf5

        try:
            if self._file is None:
                self._file = open_hdf5(self.path)
            raw = np.asarray(self._file[self.dataset][:, start:stop])
        except (OSError, KeyError, RuntimeError) as exc:
            reason = (str(exc).splitlines() or [""])[0]
            raise ReadError(
                f"{self.path}: channel {self.name!r} is unreadable ({reason})"
            ) from None
        _, height, width = self.shape
        return scale_frames(
            self.path, self.name, raw, self.multiplier, self.offset, self.to_nm,
            height, width,
        )  # fmt: skip

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None
