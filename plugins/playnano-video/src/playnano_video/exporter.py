"""The ``mp4`` exporter: an annotated H.264 video of the heights (``.mp4``).

Frames are rendered exactly as the GIF's are (:mod:`playnano.render`: one colour
table for the whole stack, scale bar, timestamps, small frames enlarged) and are
sent to ffmpeg one at a time, so memory holds one RGB frame, never the video. The
options are the GIF's, with the same names and defaults, so the command line's
``--scale-bar-nm``, ``--zmin`` and ``--zmax`` reach both.

Frame rate
    MP4 plays at one constant rate: one over the median interval of the frame
    timestamps, or the ``fps`` option. Irregular timing is not reproduced, but each
    frame still shows its real time when ``draw_ts`` is on. Frames without
    timestamps play at 10 fps with an :class:`~playnano.errors.ExportWarning`.
Encoding
    H.264 (libx264) in yuv420p, which every browser and player opens; quality is
    the ``crf`` option. Odd frame sizes get a black column or row (see
    :mod:`playnano_video.encoder`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.plugins import Capabilities, Option, hookimpl
from playnano.plugins.options import resolve_options
from playnano.render_options import ANIMATION_OPTIONS

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


class Mp4Exporter:
    """Annotated MP4 video: colour map, timestamps, scale bar, real frame rate."""

    name = "mp4"
    aliases: tuple[str, ...] = ()
    suffix = ".mp4"
    description = "Annotated H.264 MP4 video (colour map, timestamps, scale bar)."
    capabilities = Capabilities(
        supports_raw=True, supports_timestamps=True, lossy=True, streaming=True
    )
    options = (
        *ANIMATION_OPTIONS,  # the GIF's options: the CLI's --zmin etc. reach both
        # the video's own
        Option(
            "crf",
            "int",
            18,
            "H.264 quality: 0 (best, largest) to 51 (worst); 18 looks lossless.",
            minimum=0,
            maximum=51,
        ),
    )
    requires = ("imageio_ffmpeg", "matplotlib", "PIL")
    install_hint = "pip install playnano-video"

    def export(
        self, stack: AFMImageStack, path: Path, *, raw: bool = False, **options: Any
    ) -> list[Path]:
        """Write ``stack`` as an annotated MP4 at ``path``; return ``[path]``.

        Parameters
        ----------
        stack : AFMImageStack
            What to write.
        path : pathlib.Path
            The file to create; it must not exist.
        raw : bool
            Render the unprocessed snapshot instead of the processed data.
        **options
            The declared options (``playnano formats info mp4``).

        Raises
        ------
        OptionError
            If an option is unknown or has a bad value.
        ExportError
            If ffmpeg could not write a complete, readable video.
        """
        from playnano.render import prepare_render

        from playnano_video.encoder import encode_mp4, frame_rate

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
        fps = frame_rate(renderer.times, fps=opts["fps"])
        encode_mp4(
            path,
            renderer.frames(rgb=True),
            renderer.size,
            renderer.n_frames,
            fps=fps,
            crf=opts["crf"],
        )
        return [Path(path)]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the MP4 exporter."""
    register(Mp4Exporter())


__all__ = ["Mp4Exporter"]
