"""CSV reader: load a file written by the ``csv`` exporter back into a stack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.plugins import ReaderBase, hookimpl
from playnano_example.exporter import COLUMNS, DELIMITERS, MAGIC

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


class CsvReader(ReaderBase):
    """Read a playnano-example CSV table (written by ``--export csv``).

    :class:`~playnano.plugins.ReaderBase` declares everything this reader does
    not: no frames on demand, no header-only description, no specification
    check (``supports_lazy`` and the other flags stay False), and its defaults
    serve those doors by reading the file.
    """

    name = "csv"
    suffixes = (".csv",)
    description = "CSV table written by playnano-example's csv exporter"

    def can_read(self, path: Path) -> bool:
        """True for a file whose first line is the exporter's format line."""
        if not path.is_file():
            return False
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().rstrip("\r\n") == MAGIC

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read ``path``; the file holds one channel, so ``channel`` must be it."""
        import numpy as np

        from playnano.afm_stack import AFMImageStack
        from playnano.errors import ChannelError, ReadError

        with open(path, encoding="utf-8", newline="") as fh:
            if fh.readline().rstrip("\r\n") != MAGIC:
                raise ReadError(f"{path}: not a CSV written by playnano-example")
            header: dict[str, str] = {}
            line = fh.readline()
            while line.startswith("#"):
                key, _, value = line[1:].partition(":")
                header[key.strip()] = value.strip()
                line = fh.readline()
            sep = next((s for s in DELIMITERS.values() if s in line), ",")
            if tuple(line.rstrip("\r\n").split(sep)) != COLUMNS:
                raise ReadError(f"{path}: expected the columns {', '.join(COLUMNS)}")
            if channel is not None and channel.lower() != header["channel"].lower():
                raise ChannelError(
                    f"{path}: no channel {channel!r}; it holds {header['channel']!r}"
                )
            n, h, w = _geometry(path, header)
            data = np.empty((n, h, w), dtype=np.float64)
            seen = np.zeros((n, h, w), dtype=bool)
            times: list[float | None] = [None] * n
            rows = 0
            for rows, row in enumerate(fh, start=1):
                try:
                    f, t, y, x, z = row.rstrip("\r\n").split(sep)
                    at = (int(f), int(y), int(x))
                    value, time = float(z), float(t) if t else None
                except ValueError:
                    raise ReadError(
                        f"{path}: pixel row {rows} is not understood"
                    ) from None
                if not all(0 <= i < m for i, m in zip(at, (n, h, w), strict=True)):
                    raise ReadError(f"{path}: pixel row {rows} lies outside the frames")
                if seen[at]:
                    raise ReadError(f"{path}: pixel row {rows} repeats a pixel")
                seen[at] = True
                data[at] = value
                times[at[0]] = time
        if rows != n * h * w:
            raise ReadError(f"{path}: {rows} pixel rows; expected {n * h * w}")
        stack = AFMImageStack(
            data,
            float(header["pixel_size_nm"]),
            header["channel"],
            path,
            [{"timestamp": t} for t in times],
        )
        stack.provenance["source"] = {"csv_format": MAGIC.rsplit(" ", 1)[-1]}
        return stack


def _geometry(path: Path, header: dict[str, str]) -> tuple[int, int, int]:
    """Frames, height and width from the header, refused unless the file can hold
    them (each pixel row takes at least 9 bytes): a damaged header must not make
    the reader allocate gigabytes."""
    from playnano.errors import ReadError

    try:
        n, h, w = (int(header[k]) for k in ("frames", "height_px", "width_px"))
    except (KeyError, ValueError):
        raise ReadError(f"{path}: the header's frames or size is missing") from None
    if min(n, h, w) < 1 or n * h * w > path.stat().st_size // 9:
        raise ReadError(
            f"{path}: the header declares {n} frames of {w}x{h} pixels; "
            "the file is too short to hold them"
        )
    return n, h, w


@hookimpl
def register_readers(register: Any) -> None:
    """Register the CSV reader."""
    register(CsvReader())
