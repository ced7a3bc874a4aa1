"""Video exporters: annotated videos of the heights in five containers.

``mp4`` (H.264), ``webm`` (VP9), ``mov`` and ``mkv`` (H.264) and ``avi`` (MPEG-4
part 2 tagged XVID, as playnano 0.5.0 wrote). Each is a format of its own name and
suffix; a container the bundled ffmpeg cannot write is listed with the reason by
``playnano formats list`` and refused before anything is written.

Frames are rendered exactly as the GIF's are (:mod:`playnano.render`: one colour
table for the whole stack, scale bar, timestamps, small frames enlarged) and are
sent to ffmpeg one at a time, so memory holds one RGB frame, never the video. The
options are the GIF's, with the same names and defaults, so the command line's
``--scale-bar-nm``, ``--zmin`` and ``--zmax`` reach both.

Frame rate
    A video plays at one constant rate: one over the median interval of the frame
    timestamps, or the ``fps`` option. Irregular timing is not reproduced, but each
    frame still shows its real time when ``draw_ts`` is on. Frames without
    timestamps play at 10 fps with an :class:`~playnano.errors.ExportWarning`.
Encoding
    yuv420p, which every browser and player opens; quality is the ``crf`` option
    (``qscale`` for AVI). Odd frame sizes get a black column or row (see
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


class VideoExporter:
    """Annotated video in one container: colour map, timestamps, scale bar, real rate.

    One instance per container of :data:`playnano_video.encoder.CONTAINERS`; a
    container the bundled ffmpeg cannot write is still registered, and
    :meth:`unavailable` says why (``playnano formats list`` shows it; using it is
    an error before anything is written).
    """

    aliases: tuple[str, ...] = ()
    capabilities = Capabilities(
        supports_raw=True, supports_timestamps=True, lossy=True, streaming=True
    )
    requires = ("imageio_ffmpeg", "matplotlib", "PIL")
    install_hint = "pip install playnano-video"

    def __init__(self, container: str, description: str, quality: Option) -> None:
        self.name = container
        self.suffix = "." + container
        self.description = description
        # the GIF's options: the CLI's --zmin, --fps, --cmap etc. reach every video
        self.options = (*ANIMATION_OPTIONS, quality)

    def unavailable(self) -> str | None:
        """Why the bundled ffmpeg cannot write this container, or ``None``."""
        from playnano_video.encoder import CONTAINERS, unavailable_reason

        return unavailable_reason(CONTAINERS[self.name])

    def export(
        self, stack: AFMImageStack, path: Path, *, raw: bool = False, **options: Any
    ) -> list[Path]:
        """Write ``stack`` as an annotated video at ``path``; return ``[path]``.

        Parameters
        ----------
        stack : AFMImageStack
            What to write.
        path : pathlib.Path
            The file to create; it must not exist.
        raw : bool
            Render the unprocessed snapshot instead of the processed data.
        **options
            The declared options (``playnano formats info NAME``).

        Raises
        ------
        OptionError
            If an option is unknown or has a bad value.
        ExportError
            If ffmpeg cannot write this container, or could not write a complete,
            readable video.
        """
        from playnano.errors import ExportError
        from playnano.render import prepare_render

        from playnano_video.encoder import CONTAINERS, encode_video, frame_rate

        opts = resolve_options(self.options, options, owner=f"format {self.name!r}")
        why = self.unavailable()
        if why:
            raise ExportError(f"cannot write {Path(path).name}: {why}")
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
        encode_video(
            path,
            renderer.frames(rgb=True),
            renderer.size,
            renderer.n_frames,
            fps=fps,
            crf=opts[self.options[-1].name],
            container=CONTAINERS[self.name],
        )
        return [Path(path)]


def _crf(codec: str, default: int, maximum: int, note: str) -> Option:
    return Option(
        "crf",
        "int",
        default,
        f"{codec} quality: 0 (best, largest) to {maximum} (worst); {note}.",
        minimum=0,
        maximum=maximum,
    )


_H264_CRF = _crf("H.264", 18, 51, "18 looks lossless")


def Mp4Exporter() -> VideoExporter:  # a function now; the name kept for callers
    """The ``mp4`` exporter (H.264 in MP4)."""
    return VideoExporter(
        "mp4",
        "Annotated H.264 MP4 video (colour map, timestamps, scale bar).",
        _H264_CRF,
    )


def all_exporters() -> list[VideoExporter]:
    """One exporter per container: mp4, webm, mov, mkv, avi."""
    return [
        Mp4Exporter(),
        VideoExporter(
            "webm",
            "Annotated VP9 WebM video (colour map, timestamps, scale bar).",
            _crf("VP9", 31, 63, "lower is better, 15-35 is typical"),
        ),
        VideoExporter(
            "mov",
            "Annotated H.264 QuickTime MOV video (colour map, timestamps, scale bar).",
            _H264_CRF,
        ),
        VideoExporter(
            "mkv",
            "Annotated H.264 Matroska MKV video (colour map, timestamps, scale bar).",
            _H264_CRF,
        ),
        VideoExporter(
            "avi",
            "Annotated MPEG-4 (XVID) AVI video (colour map, timestamps, scale bar).",
            Option(
                "qscale",
                "int",
                3,
                "MPEG-4 quantiser: 1 (best, largest) to 31 (worst).",
                minimum=1,
                maximum=31,
            ),
        ),
    ]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register one exporter per container."""
    for exporter in all_exporters():
        register(exporter)


__all__ = ["Mp4Exporter", "VideoExporter", "all_exporters"]
