"""Image-sequence exporter: a folder with one image per frame (``<base>_frames/``).

Annotated PNG frames (default)
    ``<base>_0000.png``, ``<base>_0001.png``, ... rendered exactly as the GIF's frames
    (:mod:`playnano.render`: one colour table for the whole stack, scale bar,
    timestamps, small frames enlarged) and stored as palette PNGs with that colour
    table, so a PNG frame and the GIF frame have the same pixels. Each frame's time
    in seconds is the PNG text entry ``playnano:timestamp_s``. The frame number
    is zero-padded to at least 4 digits, more when the stack has 10 000 frames or
    more, so the names sort in frame order.
Raw 16-bit TIFF frames (``frame_format=tiff16``)
    ``<base>_0000.tif``, ... one grayscale uint16 image per frame in physical
    units, without annotation, for analysis tools. Heights map linearly onto 16 bits
    over the finite height range of the whole stack (the same for every frame)::

        value = round((height - z0) / dz)        0 .. 65534
        height = z0 + value * dz                 nm; 65535 marks NaN

    with ``z0`` the stack's lowest height and ``dz = (highest - lowest) / 65534``,
    so heights are kept to within ``dz / 2``. The scale is stored in every file as
    ImageJ calibration (``cf=0``, ``c0=z0``, ``c1=dz``, ``vunit=nm``: Fiji shows
    heights in nm) and as JSON in the ``playnano`` key of the same description;
    the pixel size is the TIFF resolution (pixels per nm). The colour options
    (``cmap``, ``zmin``, ``zmax``, ``draw_ts``, ``scale_bar_nm``) do not apply.

The folder is written whole in a staging folder and renamed into place when every
frame is written (:func:`playnano.io.export_data.export_stack`), so an interrupted
export leaves no partial folder, and an existing folder is never merged into.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.plugins import Capabilities, Option, hookimpl
from playnano.plugins.options import resolve_options
from playnano.progress_ticks import frames_done
from playnano.render_options import ANIMATION_OPTIONS

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

#: The folder's suffix: ``<base>[_filtered]_frames``.
FOLDER_SUFFIX = "_frames"
#: uint16 value of a NaN height in tiff16 frames.
NAN_VALUE = 65535
#: Largest uint16 value of a finite height in tiff16 frames.
TOP_VALUE = 65534


def frame_name(stem: str, index: int, n_frames: int, ext: str) -> str:
    """``<stem>_0007.png``: the index padded to ``max(4, digits of n_frames)``."""
    pad = max(4, len(str(n_frames)))
    return f"{stem}_{index:0{pad}d}{ext}"


def height_scale(data: np.ndarray) -> tuple[float, float]:
    """``(z0, dz)`` of the tiff16 mapping: ``height = z0 + value * dz``.

    ``z0`` is the lowest finite height, ``dz`` the finite range over ``TOP_VALUE``
    (1 for a flat or all-NaN stack, whose finite heights are then all ``z0``).
    """
    from playnano.render import finite_extremes

    lo, hi = finite_extremes(data)
    if not math.isfinite(lo):
        return 0.0, 1.0
    dz = (hi - lo) / TOP_VALUE
    return lo, (dz if dz > 0 else 1.0)


def heights_to_uint16(frame: np.ndarray, z0: float, dz: float) -> np.ndarray:
    """Heights as uint16 values of the tiff16 mapping (NaN → ``NAN_VALUE``)."""
    work = (np.asarray(frame, dtype=np.float64) - z0) / dz
    np.rint(work, out=work)
    np.clip(work, 0, TOP_VALUE, out=work)
    work[~np.isfinite(frame)] = NAN_VALUE
    return work.astype(np.uint16)


def uint16_to_heights(values: np.ndarray, z0: float, dz: float) -> np.ndarray:
    """Inverse of :func:`heights_to_uint16`: heights in nm, NaN where marked."""
    out = z0 + values.astype(np.float64) * dz
    out[values == NAN_VALUE] = np.nan
    return out


def read_tiff16_frame(path: str | Path) -> np.ndarray:
    """Heights (nm) of one tiff16 frame, from the scale stored in the file."""
    import tifffile

    with tifffile.TiffFile(path) as tif:
        values = tif.pages.first.asarray()
        meta = tif.imagej_metadata or {}
    info = json.loads(meta["playnano"])
    return uint16_to_heights(values, info["z0_nm"], info["dz_nm"])


class SequenceExporter:
    """A folder of annotated PNG frames, or of raw 16-bit TIFF frames in nm."""

    name = "png"
    aliases: tuple[str, ...] = ("sequence",)
    suffix = FOLDER_SUFFIX
    media_type = "image/png"
    description = "Folder of annotated PNG frames (or raw 16-bit TIFF frames in nm)."
    capabilities = Capabilities(
        supports_raw=True, supports_timestamps=True, lossy=True, streaming=True
    )
    options = (
        *ANIMATION_OPTIONS,
        Option(
            "frame_format",
            "str",
            "png",
            "png: annotated colour frames; tiff16: raw 16-bit heights in nm, "
            "scale stored in each file.",
            choices=("png", "tiff16"),
        ),
    )
    requires = ("PIL", "matplotlib", "tifffile")
    install_hint = "pip install pillow matplotlib tifffile"

    def export(
        self, stack: AFMImageStack, path: Path, *, raw: bool = False, **options: Any
    ) -> list[Path]:
        """Write the frames of ``stack`` into the new folder ``path``; return it."""
        opts = resolve_options(self.options, options, owner=f"format {self.name!r}")
        folder = Path(path)
        stem = folder.name
        if stem.lower().endswith(FOLDER_SUFFIX):
            stem = stem[: -len(FOLDER_SUFFIX)]
        folder.mkdir()  # must be new: the export core stages it
        if opts["frame_format"] == "tiff16":
            self._write_tiff16(stack, folder, stem, raw)
        else:
            self._write_png(stack, folder, stem, raw, opts)
        return [folder]

    @staticmethod
    def _write_png(
        stack: AFMImageStack, folder: Path, stem: str, raw: bool, opts: dict[str, Any]
    ) -> None:
        from PIL import Image

        from playnano.render import frame_durations_s, prepare_render

        renderer = prepare_render(
            stack,
            raw=raw,
            cmap=opts["cmap"],
            zmin=opts["zmin"],
            zmax=opts["zmax"],
            scale_bar_nm=opts["scale_bar_nm"],
            draw_ts=opts["draw_ts"],
        )
        if opts["fps"] is not None:  # checked like the GIF's, though PNGs have no rate
            frame_durations_s(renderer.times, fps=opts["fps"])
        from PIL.PngImagePlugin import PngInfo

        palette = renderer.palette.tobytes()
        n = renderer.n_frames
        for i, frame in enumerate(renderer.frames()):
            im = Image.fromarray(np.ascontiguousarray(frame), mode="P")
            im.putpalette(palette)
            info = PngInfo()  # the frame's time, for tools that sequence the folder
            t = renderer.times[i]
            if t is not None and math.isfinite(t):
                info.add_text("playnano:timestamp_s", repr(float(t)))
            im.save(folder / frame_name(stem, i, n, ".png"), format="PNG", pnginfo=info)
            frames_done(1)

    @staticmethod
    def _write_tiff16(stack: AFMImageStack, folder: Path, stem: str, raw: bool) -> None:
        import tifffile

        data, meta = stack.export_source(raw=raw)
        z0, dz = height_scale(data)
        n = len(data)
        for i, frame in enumerate(data):
            px = meta[i].get("frame_pixel_size_nm") or stack.pixel_size_nm
            t = meta[i].get("timestamp")
            info = {
                "z0_nm": z0,
                "dz_nm": dz,
                "nan_value": NAN_VALUE,
                "pixel_size_nm": px,
                "timestamp_s": t if t is None or math.isfinite(t) else None,
                "frame": i,
            }
            extra: dict[str, Any] = {}
            if px:
                extra = {"resolution": (1.0 / px, 1.0 / px), "resolutionunit": 1}
            tifffile.imwrite(
                folder / frame_name(stem, i, n, ".tif"),
                heights_to_uint16(frame, z0, dz),
                imagej=True,
                metadata={
                    "unit": "nm",
                    "cf": 0,
                    "c0": z0,
                    "c1": dz,
                    "vunit": "nm",
                    "playnano": json.dumps(info),
                },
                **extra,
            )
            frames_done(1)


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the image-sequence exporter."""
    register(SequenceExporter())


__all__ = [
    "SequenceExporter",
    "frame_name",
    "height_scale",
    "heights_to_uint16",
    "read_tiff16_frame",
    "uint16_to_heights",
]
