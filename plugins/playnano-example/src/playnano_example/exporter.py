"""CSV exporter: one row per pixel, ready for pandas, R or a spreadsheet.

The file starts with ``#`` lines giving the channel and the calibration, then a
header row and one row per pixel, frame by frame::

    # format: playnano-example csv 1
    # channel: height_trace
    # pixel_size_nm: 1.5
    # frames: 4
    # height_px: 12
    # width_px: 17
    frame,timestamp_s,y,x,height_nm
    0,0.0,0,0,-0.0731...

``y`` and ``x`` are pixel indices (row 0 is the first scan line); multiply by
``pixel_size_nm`` for nanometres. ``timestamp_s`` is empty when a frame has no time.
pandas reads it with ``pandas.read_csv(path, comment="#")``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

# Only playnano's light plugin API at import time: `playnano formats list` imports
# every plugin, so anything heavy (pandas, h5py, ...) belongs inside export().
from playnano.plugins import Capabilities, Option, hookimpl

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

#: First line of every file; the reader checks it.
MAGIC = "# format: playnano-example csv 1"
COLUMNS = ("frame", "timestamp_s", "y", "x", "height_nm")
#: Option value -> the character written between fields.
DELIMITERS = {"comma": ",", "semicolon": ";", "tab": "\t"}


class CsvExporter:
    """Write a stack as a long-format CSV table (one row per pixel)."""

    name = "csv"
    aliases: tuple[str, ...] = ("csv-long",)
    suffix = ".csv"
    media_type = "text/csv"
    description = "CSV table, one row per pixel: frame, timestamp_s, y, x, height_nm"
    capabilities = Capabilities(
        supports_raw=True,
        supports_timestamps=True,
        streaming=True,  # written frame by frame, never a whole-stack copy
    )
    options = (
        Option(
            "precision",
            "int",
            None,
            "significant digits of heights (default: the shortest text that "
            "reads back to the same number)",
            minimum=1,
            maximum=17,
        ),
        Option(
            "delimiter",
            "str",
            "comma",
            "field separator (semicolon suits spreadsheets that use a decimal comma)",
            choices=tuple(DELIMITERS),
        ),
    )
    requires: tuple[str, ...] = ()  # importable modules needed beyond playnano's own
    install_hint = ""

    def export(
        self,
        stack: AFMImageStack,
        path: Path,
        *,
        raw: bool = False,
        precision: int | None = None,
        delimiter: str = "comma",
    ) -> list[Path]:
        """Write ``stack`` to ``path``; return ``[path]``.

        playnano has already checked the options, picked the file name and made the
        write atomic: ``path`` is in a staging folder and is moved into place only
        when this method returns.
        """
        data, frame_metadata = stack.export_source(raw=raw)
        sep = DELIMITERS[delimiter]
        fmt = repr if precision is None else (lambda v: f"{v:.{precision}g}")
        n, h, w = data.shape
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(
                f"{MAGIC}\n# channel: {stack.channel}\n"
                f"# pixel_size_nm: {stack.pixel_size_nm!r}\n"
                f"# frames: {n}\n# height_px: {h}\n# width_px: {w}\n"
            )
            fh.write(sep.join(COLUMNS) + "\n")
            for i, (frame, meta) in enumerate(zip(data, frame_metadata, strict=True)):
                t = meta.get("timestamp")
                head = f"{i}{sep}{'' if t is None else repr(float(t))}{sep}"
                # one frame at a time as Python numbers: repr() is exact and short
                for y, row in enumerate(frame.tolist()):
                    fh.writelines(
                        f"{head}{y}{sep}{x}{sep}{fmt(v)}\n" for x, v in enumerate(row)
                    )
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the CSV exporter (playnano calls this once, on first use)."""
    register(CsvExporter())
