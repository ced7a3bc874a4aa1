"""Pipe RGB frames to ffmpeg (H.264, VP9 or MPEG-4 in MP4, WebM, MOV, MKV, AVI); check the file.

ffmpeg is the binary that ``imageio-ffmpeg`` ships (or ``IMAGEIO_FFMPEG_EXE``). It
is run directly rather than through ``imageio_ffmpeg.write_frames`` because that
generator neither captures ffmpeg's messages nor reports its exit status, and an
encoder that gives up must become an error that says why, never a missing file.

Colours
    RGB is converted to limited-range BT.709 YUV and the stream is tagged so, which
    is what browsers and players assume for video they are not told about.
Sizes
    yuv420p stores colour at half resolution, so width and height must be even:
    an odd frame gets one black column or row added on the right or bottom (its
    content is never cropped or scaled).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import IO

import numpy as np
from playnano.errors import ExportError

logger = logging.getLogger(__name__)

CODEC = "libx264"
PIX_FMT = "yuv420p"


@dataclass(frozen=True)
class Container:
    """How one registered video format is encoded and muxed by ffmpeg.

    Attributes
    ----------
    name : str
        The format name (``mp4``), also the file suffix.
    muxer : str
        ffmpeg's muxer (``-f``).
    codec : str
        ffmpeg's encoder (``-c:v``).
    quality_args : tuple of str
        ffmpeg arguments setting the quality; ``{q}`` is the quality option.
    extra_args : tuple of str
        Further output arguments.
    """

    name: str
    muxer: str
    codec: str
    quality_args: tuple[str, ...]
    extra_args: tuple[str, ...] = ()


_H264 = ("-crf", "{q}")
#: Every container the plugin registers.
CONTAINERS = {
    c.name: c
    for c in (
        # +faststart: the index first, so browsers start playing at once
        Container("mp4", "mp4", "libx264", _H264, ("-movflags", "+faststart")),
        Container("mov", "mov", "libx264", _H264, ("-movflags", "+faststart")),
        Container("mkv", "matroska", "libx264", _H264),
        # VP9 constant quality needs -b:v 0; row-mt uses every core
        Container(
            "webm",
            "webm",
            "libvpx-vp9",
            ("-crf", "{q}", "-b:v", "0"),
            ("-row-mt", "1", "-deadline", "good", "-cpu-used", "4"),
        ),
        # MPEG-4 part 2 tagged XVID, what 0.5.0's AVI held and what old players expect
        Container("avi", "avi", "mpeg4", ("-q:v", "{q}"), ("-vtag", "XVID")),
    )
}


@functools.lru_cache(maxsize=8)
def _ffmpeg_lists(exe: str) -> tuple[frozenset[str], frozenset[str]]:
    """Encoders and muxers of the ffmpeg at ``exe`` (each run once per process)."""

    def names(kind: str, pattern: str) -> frozenset[str]:
        out = subprocess.run(
            [exe, "-hide_banner", f"-{kind}"],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=60,
        )
        found = set()
        for line in out.stdout.splitlines():
            m = re.match(pattern, line)
            if m:
                found.update(m.group(1).split(","))
        return frozenset(found)

    return (
        names("encoders", r"^\s*V\S{5}\s+(\S+)"),
        names("muxers", r"^\s*D?E\s+(\S+)"),
    )


def unavailable_reason(container: Container, exe: str | None = None) -> str | None:
    """Why the bundled ffmpeg cannot write ``container``, or ``None`` if it can."""
    try:
        if exe is None:
            import imageio_ffmpeg

            exe = imageio_ffmpeg.get_ffmpeg_exe()
        encoders, muxers = _ffmpeg_lists(exe)
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        return f"no usable ffmpeg ({exc})"
    if container.codec not in encoders:
        return f"the bundled ffmpeg has no {container.codec} encoder"
    if container.muxer not in muxers:
        return f"the bundled ffmpeg cannot write {container.muxer} files"
    return None


#: Longest ffmpeg message quoted in an error.
MAX_REASON_CHARS = 300
_PREFIX = re.compile(r"^(?:\[(?P<who>[^\]@]+?)\s*@\s*0x[0-9a-fA-F]+\]\s*)+")


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) rounded up to even numbers, as yuv420p requires."""
    w, h = size
    return w + w % 2, h + h % 2


def frame_rate(times: Sequence[float | None], fps: float | None = None) -> float:
    """Frames per second: ``fps`` if given, else one over the median frame interval.

    Frames without usable timestamps play at ``playnano.render.DEFAULT_FPS`` with
    an :class:`~playnano.errors.ExportWarning` saying so.
    """
    from playnano.render import frame_durations_s

    # frame_durations_s gives the last frame the median interval, which leaves
    # the median of the durations equal to the median interval
    return 1.0 / float(np.median(frame_durations_s(times, fps=fps)))


def rate_arg(fps: float) -> str:
    """``fps`` as a fraction for ffmpeg's ``-r`` (``2``, ``30000/1001``, ``1/3600``)."""
    return str(Fraction(fps).limit_denominator(1_000_000))


def ffmpeg_command(
    exe: str,
    path: Path,
    size: tuple[int, int],
    fps: float,
    crf: int,
    container: Container | None = None,
) -> list[str]:
    """The ffmpeg command reading raw RGB frames of ``size`` on stdin into ``path``.

    ``crf`` is the container's quality setting (``Container.quality_args``);
    ``container`` defaults to MP4.
    """
    c = container or CONTAINERS["mp4"]
    w, h = size
    w2, h2 = even_size(size)
    filters = [
        f"pad={w2}:{h2}:0:0:color=black",
        "scale=out_color_matrix=bt709:out_range=tv:flags=accurate_rnd+full_chroma_int",
        f"format={PIX_FMT}",
        # ffmpeg takes the stream's colour tags from the frames, not from options
        "setparams=range=tv:colorspace=bt709:color_primaries=bt709:color_trc=bt709",
    ]
    return [
        exe,
        "-hide_banner",
        "-nostats",
        "-loglevel",
        "error",
        "-n",  # never replace a file (a second guard; see encode_mp4)
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-s",
        f"{w}x{h}",
        "-r",
        rate_arg(fps),
        "-i",
        "pipe:0",
        "-an",
        "-vf",
        ",".join(filters),
        "-c:v",
        c.codec,
        *(a.format(q=crf) for a in c.quality_args),
        "-pix_fmt",
        PIX_FMT,
        *c.extra_args,
        "-f",
        c.muxer,
        f"file:{path}",  # "file:" so no name is taken for a protocol or an option
    ]


def ffmpeg_reason(log: str) -> str:
    """The line of ffmpeg's messages that says why it failed, without its prefixes.

    ffmpeg reports the cause first and then how each stage gave up, so the first
    line is the one a user can act on (``libx264: invalid width x height``).
    """
    for line in log.splitlines():
        line = line.strip()
        if not line:
            continue
        match = _PREFIX.match(line)
        if match:
            # "vost#0:0/libx264", "enc:libx264" -> "libx264"
            who = re.split(r"[/:]", match.group("who"))[-1]
            line = f"{who}: {line[match.end() :]}"
        if len(line) > MAX_REASON_CHARS:
            line = line[: MAX_REASON_CHARS - 1] + "…"
        return line
    return "no message"


def _read_log(fh: IO[bytes]) -> str:
    fh.seek(0)
    return fh.read().decode(errors="replace")


def _fail(path: Path, why: str, log: str = "") -> ExportError:
    path.unlink(missing_ok=True)  # ffmpeg may leave an empty or partial file
    exc = ExportError(f"ffmpeg could not write {path.name}: {why}")
    if log.strip():
        exc.add_note("ffmpeg said:\n" + log.rstrip())
    return exc


def encode_mp4(
    path: str | Path,
    frames: Iterable[np.ndarray],
    size: tuple[int, int],
    n_frames: int,
    *,
    fps: float,
    crf: int = 18,
    container: Container | None = None,
) -> Path:
    """Encode RGB ``frames`` as a video at ``path``, one frame at a time.

    Parameters
    ----------
    path : str or pathlib.Path
        The file to create; it must not exist.
    frames : iterable of numpy.ndarray
        (height, width, 3) uint8 RGB frames of ``size``; consumed one by one.
    size : tuple of int
        (width, height) of the frames; odd sizes are padded to even.
    n_frames : int
        How many frames ``frames`` yields; the finished file is checked to hold
        exactly this many.
    fps : float
        Frames per second.
    crf : int
        Quality: x264 constant rate factor, 0 (best) to 51 (worst), or the
        container's own scale (``Container.quality_args``).
    container : Container, optional
        Codec and muxer; default H.264 MP4.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ExportError
        If ffmpeg fails, or the file it leaves is missing, empty, unreadable or
        short of frames; no file is left behind.
    """
    import imageio_ffmpeg

    path = Path(path)
    if path.exists():
        # checked here, not left to ffmpeg's -n, which exits 0 without writing; and
        # a file that was there before must never be removed as a failed output
        raise ExportError(f"{path} already exists; not replacing it")
    w, h = size
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    cmd = ffmpeg_command(exe, path, size, fps, crf, container)
    logger.debug("running %s", subprocess.list2cmdline(cmd))
    # ffmpeg's messages go to a file: a pipe nobody reads while frames are being
    # sent could fill up and stall both processes
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=log
        )
        assert proc.stdin is not None
        sent = 0
        try:
            try:
                for frame in frames:
                    if frame.shape != (h, w, 3) or frame.dtype != np.uint8:
                        raise ValueError(
                            f"frame {sent} is {frame.dtype} {frame.shape}, "
                            f"not uint8 {(h, w, 3)}"
                        )
                    proc.stdin.write(np.ascontiguousarray(frame).data)
                    sent += 1
                proc.stdin.close()
            except BrokenPipeError:
                pass  # ffmpeg quit early; its exit status and messages say why
            returncode = proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            path.unlink(missing_ok=True)
            raise
        finally:
            with contextlib.suppress(BrokenPipeError):
                proc.stdin.close()
        if returncode != 0:
            text = _read_log(log)
            raise _fail(path, ffmpeg_reason(text), text)
        leftover = _read_log(log).strip()
        if leftover:
            logger.info("ffmpeg: %s", leftover)
    if sent != n_frames:
        raise _fail(path, f"{sent} frames were rendered, {n_frames} expected")
    check_mp4(path, n_frames, exe)
    return path


#: The generalised name; the check reads any container.
encode_video = encode_mp4


def check_mp4(path: Path, n_frames: int, exe: str) -> None:
    """Check ``path`` is a non-empty video that ffmpeg reads with ``n_frames`` frames.

    The video stream is read packet by packet (not decoded), so this costs a
    fraction of the encoding. Raises :class:`~playnano.errors.ExportError`,
    removing the file, if it is not.
    """
    if not path.is_file():
        raise _fail(path, "no file was written")
    if path.stat().st_size == 0:
        raise _fail(path, "the file is empty")
    cmd = [
        exe,
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        f"file:{path}",
        "-map",
        "0:v:0",
        "-c",
        "copy",
        "-f",
        "null",
        "-progress",
        "pipe:1",
        "-nostats",
        "-",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    if out.returncode != 0:
        raise _fail(path, f"the file does not read back ({ffmpeg_reason(out.stderr)})")
    counts = re.findall(r"^frame=(\d+)\s*$", out.stdout, flags=re.MULTILINE)
    found = int(counts[-1]) if counts else 0
    if found != n_frames:
        raise _fail(path, f"the file holds {found} frames, {n_frames} were sent")
