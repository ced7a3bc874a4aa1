"""playnano 0.5.0's animation flags on ``process``: videos, image sequences, rate, colours.

``--make-video [LIST]``, ``--make-sequence``, ``--fps``, ``--cmap`` and
``--draw-ts/--no-draw-ts`` mean what they meant in 0.5.0 and become ordinary
formats and options: ``--make-video mp4,webm`` adds the formats ``mp4`` and
``webm`` (the playnano-video plugin), ``--make-sequence`` adds ``png``, and
``--fps``/``--cmap``/``--draw-ts`` are given to every requested format that
declares the animation options (:data:`playnano.render_options.ANIMATION_OPTIONS`),
a third party's included.

Where 0.5.0 was wrong this does the right thing (see the docs' "Coming from
playnano 0.5.0"): a video that could not be written is an error, not "saved";
timestamps are drawn unless ``--no-draw-ts`` (0.5.0 left them out unless
``--draw-ts`` while its help said they were on); an unknown colormap is an error
with a suggestion instead of a silent fallback; without ``--fps`` the rate follows
the frame timestamps (0.5.0 played every file at 5 fps).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from playnano.errors import MissingDependencyError

#: What a bare ``--make-video`` writes (as in 0.5.0).
DEFAULT_VIDEO = "mp4"
#: The distribution that provides the video formats.
VIDEO_PLUGIN = "playnano-video"
_CONTAINER_LIST = re.compile(r"^[A-Za-z0-9]+(,[A-Za-z0-9]*)*$")


def normalize_make_video(args: Sequence[str]) -> list[str]:
    """Give every ``--make-video`` an explicit value (0.5.0's optional argument).

    ``--make-video`` takes the next token as its list only when it looks like one
    (``mp4`` or ``mp4,webm``) and is not an existing file or folder; otherwise the
    flag is bare and means ``mp4``: ``--make-video video.asd`` keeps the input.
    """
    out: list[str] = []
    i = 0
    while i < len(args):
        tok = args[i]
        if tok == "--":
            out.extend(args[i:])
            break
        if tok == "--make-video":
            nxt = args[i + 1] if i + 1 < len(args) else None
            if (
                nxt is not None
                and _CONTAINER_LIST.match(nxt)
                and not Path(nxt).exists()
            ):
                out.append(f"--make-video={nxt}")
                i += 2
                continue
            out.append(f"--make-video={DEFAULT_VIDEO}")
            i += 1
            continue
        out.append(tok)
        i += 1
    return out


def video_formats(values: Sequence[str]) -> list[str]:
    """The formats ``--make-video`` values name, checked to be installed.

    Raises
    ------
    MissingDependencyError
        If a named container is not installed: says how to install playnano-video
        from where this copy of playnano was installed.
    """
    from playnano.errors import UnknownFormatError
    from playnano.plugins.registry import exporters

    names = [t.strip().lower() for v in values for t in v.split(",") if t.strip()]
    for name in names:
        try:
            exporters().resolve(name, check_dependencies=False)
        except UnknownFormatError:
            have = any(
                p.dist == VIDEO_PLUGIN and p.status == "ok"
                for p in exporters().plugins()
            )
            if not have:
                from playnano.plugins.install_hints import plugin_hint

                raise MissingDependencyError(
                    f"--make-video {name}: video formats come from the "
                    f"{VIDEO_PLUGIN} plugin, which is not installed; install it "
                    f"with: {plugin_hint(VIDEO_PLUGIN)}"
                ) from None
            raise
    return names


def animation_options(
    fps: float | None, cmap: str | None, draw_ts: bool | None
) -> dict[str, Any]:
    """The options ``--fps``, ``--cmap`` and ``--draw-ts`` give animated formats.

    The colormap is checked here, before any file is read.
    """
    out: dict[str, Any] = {}
    if fps is not None:
        out["fps"] = fps
    if cmap is not None:
        from playnano.colormaps import check_colormap

        out["cmap"] = check_colormap(cmap)
    if draw_ts is not None:
        out["draw_ts"] = draw_ts
    return out


def animation_flags(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the five 0.5.0 flags to a click command."""
    for decorator in reversed(
        (
            click.option(
                "--make-video",
                "make_video",
                multiple=True,
                metavar="[LIST]",
                help="Also write annotated videos: mp4 (bare), or a list such as "
                "mp4,webm,avi (needs the playnano-video plugin).",
            ),
            click.option(
                "--make-sequence",
                is_flag=True,
                help="Also write a folder of annotated PNG frames (--export png).",
            ),
            click.option(
                "--fps",
                type=click.FloatRange(min=0, min_open=True),
                default=None,
                help="Frame rate of GIFs and videos (default: from the timestamps).",
            ),
            click.option(
                "--cmap",
                default=None,
                help="Colormap of GIFs, videos and PNG frames: a matplotlib name "
                "or afm_brown (default: afmhot).",
            ),
            click.option(
                "--draw-ts/--no-draw-ts",
                "draw_ts",
                default=None,
                help="Draw each frame's timestamp on GIFs, videos and PNG frames "
                "(default: drawn).",
            ),
        )
    ):
        func = decorator(func)
    return func


__all__ = [
    "animation_flags",
    "animation_options",
    "normalize_make_video",
    "video_formats",
]
