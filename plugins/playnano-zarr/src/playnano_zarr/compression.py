"""Chunk compression: the codec named in ``zarr.json`` and the encoder that matches.

AFM heights are floats whose low bytes are noise: zstd alone shrinks them by ~10 %,
while Blosc's byte shuffle (the bytes of every value grouped by significance, as
HDF5's shuffle filter does) first lets zstd or lz4 reach ~30-45 %, about what the
HDF5 bundle's gzip + shuffle reaches, and encodes faster. Blosc with zstd is also
what most OME-Zarr writers use, so every OME-Zarr viewer decodes it.
Measured in ``benchmarks/bench_zarr.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The ``compression`` option's choices (None: uncompressed, ``none`` when typed).
NAMES = ("blosc-zstd", "blosc-lz4", "zstd")
DEFAULT = "blosc-zstd"
#: Each codec's level when none is given (fast levels: higher ones cost 2-10x the
#: time for a few per cent).
DEFAULT_LEVEL = {"blosc-zstd": 1, "blosc-lz4": 5, "zstd": 3}
#: Blosc's highest level (zstd's own levels go higher; 1-9 is offered for all).
MAX_LEVEL = 9


@dataclass(frozen=True)
class Compression:
    """A codec choice: ``name`` (None: uncompressed) and its level."""

    name: str | None
    level: int | None = None

    @property
    def effective_level(self) -> int | None:
        """The level used: the one given, else the codec's default."""
        if self.name is None:
            return None
        return self.level if self.level is not None else DEFAULT_LEVEL[self.name]

    def zarr_codec(self, dtype: np.dtype) -> Any:
        """The zarr-python codec for arrays of ``dtype`` (None: uncompressed)."""
        from zarr.codecs import BloscCodec, ZstdCodec

        level = self.effective_level
        if self.name is None or level is None:
            return None
        if self.name == "zstd":
            return ZstdCodec(level=level, checksum=False)
        return BloscCodec(
            typesize=np.dtype(dtype).itemsize,
            cname=self.name.removeprefix("blosc-"),  # type: ignore[arg-type]
            clevel=level,
            shuffle=_shuffle(dtype),  # type: ignore[arg-type]
            blocksize=0,
        )

    def encoder(self, dtype: np.dtype) -> Callable[[np.ndarray], bytes] | None:
        """Encode a contiguous little-endian chunk of ``dtype`` (None: store as is).

        The bytes are what zarr-python's codec writes; the chunk is passed as an
        array so Blosc shuffles by its item size.
        """
        level = self.effective_level
        if self.name is None or level is None:
            return None
        if self.name == "zstd":
            from numcodecs.zstd import Zstd

            return Zstd.from_config({"level": level, "checksum": False}).encode
        from numcodecs import Blosc

        shuffle = {"shuffle": Blosc.SHUFFLE, "bitshuffle": Blosc.BITSHUFFLE}
        codec = Blosc(
            cname=self.name.removeprefix("blosc-"),
            clevel=level,
            shuffle=shuffle[_shuffle(dtype)],
            blocksize=0,
        )
        return codec.encode


def _shuffle(dtype: np.dtype) -> str:
    """Byte shuffle for numbers; bit shuffle for bytes (0/1 masks pack to bits)."""
    return "bitshuffle" if np.dtype(dtype).itemsize == 1 else "shuffle"
