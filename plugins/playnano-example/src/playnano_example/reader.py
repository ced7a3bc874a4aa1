"""CSV reader: load a file written by the ``csv`` exporter back into a stack."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.plugins import hookimpl
from playnano_example.exporter import COLUMNS, DELIMITERS, MAGIC

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


class CsvReader:
    """Read a playnano-example CSV table (written by ``--export csv``)."""

    name = "csv"
    aliases: tuple[str, ...] = ()
    suffixes = (".csv",)
    reads_folders = False
    description = "CSV table written by playnano-example's csv exporter"
    requires: tuple[str, ...] = ()
    install_hint = ""

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
            n, h, w = (int(header[k]) for k in ("frames", "height_px", "width_px"))
            data = np.empty((n, h, w), dtype=np.float64)
            times: list[float | None] = [None] * n
            rows = 0
            for row in fh:
                f, t, y, x, z = row.rstrip("\r\n").split(sep)
                rows += 1
                data[int(f), int(y), int(x)] = float(z)
                times[int(f)] = float(t) if t else None
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


@hookimpl
def register_readers(register: Any) -> None:
    """Register the CSV reader."""
    register(CsvReader())
