"""The frames of one ``.asd`` channel, read on demand (a :class:`~playnano.lazy.FrameSource`).

Frames sit at fixed offsets: ``offset + i * frame_bytes``, each a frame header
followed by int16 levels. :meth:`AsdFrames.read` seeks to a block, reads it and
converts the levels to heights in the operation order of playnano 0.5.0, so
``read(0, n)`` is what :meth:`~playnano.readers.asd.AsdReader.read` returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import numpy as np

from playnano.errors import ReadError


class AsdFrames:
    """Frames ``start`` to ``stop`` of one ``.asd`` channel, as float64 heights.

    Parameters
    ----------
    path : pathlib.Path
        The file (opened at the first read, closed by :meth:`close`).
    offset : int
        Where the channel's first frame (its frame header) starts.
    shape : tuple of int
        ``(frames, rows, columns)``.
    frame_header : int
        Bytes of each frame's header.
    volts, k, bipolar, resolution
        The conversion: ``(V - 2 * level * V / res) * k`` for bipolar ranges,
        ``level * (-V / res * k)`` otherwise.
    """

    dtype = np.dtype(np.float64)

    def __init__(
        self,
        path: Path,
        offset: int,
        shape: tuple[int, int, int],
        frame_header: int,
        volts: float,
        k: float,
        bipolar: bool,
        resolution: float,
    ) -> None:
        self.path = path
        self.offset = offset
        self.shape = shape
        self.frame_header = frame_header
        self.volts, self.k, self.bipolar = volts, k, bipolar
        self.resolution = resolution
        _, ny, nx = shape
        self._block = np.dtype(
            [("h", f"V{frame_header}"), ("z", "<i2", (ny, nx))]
            if frame_header
            else [("z", "<i2", (ny, nx))]
        )
        self._fh: IO[bytes] | None = None

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame: frame header plus int16 levels."""
        return self._block.itemsize

    def read(self, start: int, stop: int) -> np.ndarray:
        """Frames ``start`` to ``stop`` as a new float64 ``(stop-start, H, W)`` array."""
        if self._fh is None:
            try:
                self._fh = open(self.path, "rb")  # noqa: SIM115 (closed by close())
            except OSError as exc:
                raise ReadError(f"{self.path.name}: cannot be read ({exc})") from None
        count = stop - start
        self._fh.seek(self.offset + start * self.frame_bytes)
        buf = self._fh.read(count * self.frame_bytes)
        if len(buf) != count * self.frame_bytes:
            ends = self.offset + start * self.frame_bytes + len(buf)
            raise ReadError(
                f"{self.path.name}: file ends after {ends} bytes; frames {start} to "
                f"{stop - 1} need {self.offset + stop * self.frame_bytes} bytes"
            )
        levels = np.frombuffer(buf, dtype=self._block, count=count)["z"]
        # The operation order of playnano 0.5.0 (AFMReader): bit for bit its values.
        data = levels.astype(np.float64)
        volts, k = self.volts, self.k
        if self.bipolar:  # (V - 2 * level * V / 2**bits) * k
            data *= 2.0
            data *= volts
            data /= self.resolution
            np.subtract(volts, data, out=data)
            data *= k
        else:  # level * (-V / 2**bits * k)
            data *= -volts / self.resolution * k
        return data

    def close(self) -> None:
        """Close the file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
