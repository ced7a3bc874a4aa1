"""GIF exporter: an annotated animation of the heights (``.gif``).

Each frame is mapped through a 256-entry colour table (:mod:`playnano.render`) and
written as soon as it is rendered, so memory holds one frame, never the stack.
Every input frame becomes one GIF frame: frames are written by this module with
Pillow's GIF encoder (``PIL.GifImagePlugin.getdata``) rather than by
``Image.save(save_all=True)``, which merges identical consecutive frames.

Frame delays
    GIF stores delays in hundredths of a second. Delays come from the differences
    of the frame timestamps (the last frame gets the median interval), or from the
    ``fps`` option. They are rounded so that the running total follows the real
    times. Delays under 20 ms are written as they are, but browsers and most
    viewers play them at about 100 ms; an :class:`~playnano.errors.ExportWarning`
    says so.
Small frames
    are enlarged by an integer nearest-neighbour factor until the short side is at
    least 256 px, so the timestamp and scale bar label are legible.
"""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ExportWarning
from playnano.io import codec
from playnano.plugins import Capabilities, Option, hookimpl
from playnano.plugins.options import resolve_options
from playnano.progress_ticks import frames_done
from playnano.render_options import ANIMATION_OPTIONS

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

#: Browsers and most viewers play GIF delays shorter than this at ~100 ms.
MIN_RELIABLE_DELAY_CS = 2


def delays_cs(durations_s: Sequence[float]) -> list[int]:
    """GIF frame delays in centiseconds whose running total follows real time.

    Each delay is at least 1 cs (0 means "no delay" to some readers) and at most
    65535 cs, the largest a GIF can store.
    """
    ends = np.rint(np.concatenate([[0.0], np.cumsum(durations_s)]) * 100.0)
    return [int(min(max(d, 1), 65535)) for d in np.diff(ends)]


def write_gif(
    fh: IO[bytes],
    frames: Iterable[np.ndarray],
    palette: np.ndarray,
    size: tuple[int, int],
    delays: Sequence[int],
    loop: int | None = 0,
) -> int:
    """Write an indexed GIF89a to ``fh``, one frame at a time; return frames written.

    ``frames`` are uint8 (height, width) palette indices of ``size`` (width,
    height); ``palette`` is (256, 3) uint8; ``delays`` are centiseconds, one per
    frame; ``loop`` is the NETSCAPE loop count (0 = forever, ``None`` = play once).
    """
    from PIL import GifImagePlugin, Image

    width, height = size
    # Logical screen: 256-colour global table (flag 0x80, 8-bit depth, size 2**8).
    fh.write(b"GIF89a" + struct.pack("<HHBBB", width, height, 0xF7, 0, 0))
    fh.write(np.ascontiguousarray(palette, dtype=np.uint8).tobytes())
    if loop is not None:
        fh.write(b"!\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", loop) + b"\x00")

    def encode(item: tuple[int, np.ndarray, int]) -> list[bytes]:
        i, frame, delay = item
        if frame.shape != (height, width):
            raise ValueError(f"frame {i} is {frame.shape}, not {(height, width)}")
        im = Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8))
        # disposal 1 = leave in place; every frame covers the whole canvas anyway
        return list(GifImagePlugin.getdata(im, (0, 0), duration=delay * 10, disposal=1))

    # each frame is encoded on its own (Pillow's LZW encoder runs without the
    # GIL): frames encode in threads while the next ones render, written in order
    items = (
        (i, frame, delay)
        for i, (frame, delay) in enumerate(zip(frames, delays, strict=True))
    )
    count = 0
    for chunks in codec.ordered_map(encode, items):
        for chunk in chunks:
            fh.write(chunk)
        count += 1
        frames_done(1)
    fh.write(b";")
    return count


class GifExporter:
    """Annotated GIF animation: colour map, timestamps, scale bar, real frame times."""

    name = "gif"
    aliases: tuple[str, ...] = ()
    suffix = ".gif"
    media_type = "image/gif"
    description = "Annotated GIF animation (colour map, timestamps, scale bar)."
    capabilities = Capabilities(
        supports_raw=True, supports_timestamps=True, lossy=True, streaming=True
    )
    options = (
        *ANIMATION_OPTIONS,
        Option(
            "loop",
            "int",
            0,
            "Times to repeat after the first play; 0 = forever, none = play once.",
            minimum=0,
            maximum=65535,
            nullable=True,
        ),
    )
    requires = ("PIL", "matplotlib")
    install_hint = "pip install pillow matplotlib"

    def export(
        self, stack: AFMImageStack, path: Path, *, raw: bool = False, **options: Any
    ) -> list[Path]:
        """Write ``stack`` as an annotated GIF at ``path``; return ``[path]``."""
        from playnano.render import frame_durations_s, prepare_render

        opts = resolve_options(self.options, options, owner=f"format {self.name!r}")
        renderer = prepare_render(
            stack,
            raw=raw,
            cmap=opts["cmap"],
            zmin=opts["zmin"],
            zmax=opts["zmax"],
            scale_bar_nm=opts["scale_bar_nm"],
            draw_ts=opts["draw_ts"],
        )
        delays = delays_cs(frame_durations_s(renderer.times, fps=opts["fps"]))
        if min(delays) < MIN_RELIABLE_DELAY_CS:
            fastest = min(delays) * 10
            warnings.warn(
                f"GIF frame delays as short as {fastest} ms are written, but browsers "
                "play delays under 20 ms at about 100 ms; set fps to 50 or less",
                ExportWarning,
                stacklevel=2,
            )
        path = Path(path)
        with open(path, "wb") as fh:
            write_gif(
                fh,
                renderer.frames(),
                renderer.palette,
                renderer.size,
                delays,
                opts["loop"],
            )
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the GIF exporter."""
    register(GifExporter())


__all__ = ["GifExporter", "delays_cs", "write_gif"]
