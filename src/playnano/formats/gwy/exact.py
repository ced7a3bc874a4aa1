"""Frames in SI units that playnano reads back bit for bit.

Gwyddion stores heights in metres; playnano holds nanometres. ``y = x / k`` with
``k = 1e9`` does not always come back as ``x`` when multiplied by ``k``, and no
other choice of ``y`` can for about 5 % of doubles (the two scales' rounding grids
differ). So the writer picks, for each pixel, the double ``y`` nearest ``x / k``
whose ``y * k`` is exactly ``x`` (within 3 ulps of ``x / k``: a relative change of
about 1e-16, far below any instrument's noise), and lists the pixels for which none
exists, with their exact values: on average 5 % of the pixels, 12 bytes each. Non-
finite heights, which Gwyddion cannot show, are written as the frame's finite mean
and listed the same way.

The list travels in the channel's metadata as text (``v1 <sha256> <base64>``: the
SHA-256 of the stored doubles, then the zlib-compressed uint32 indices and float64
values). A frame edited in Gwyddion no longer matches the checksum; its list is
then ignored and the stored values are read as they are.
"""

from __future__ import annotations

import base64
import hashlib
import zlib

import numpy as np

from playnano.errors import ReadError

_VERSION = "v1"
#: ulps around ``x / k`` searched for an exact preimage.
_STEPS = (1, -1, 2, -2, 3, -3)


def _checksum(stored: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(stored, dtype="<f8").data).hexdigest()


def to_si(frame: np.ndarray, k: float) -> tuple[np.ndarray, str | None]:
    """``frame`` divided by ``k`` as float64, and the exceptions text (or ``None``).

    ``from_si(stored, k, text)`` gives ``frame`` back bit for bit (as float64).
    """
    x = np.asarray(frame, dtype=np.float64).ravel()
    finite = np.isfinite(x)
    with np.errstate(invalid="ignore", over="ignore"):
        y = x / k
        if k != 1.0:
            exact = y * k == x
            for step in _STEPS:
                if exact.all():
                    break
                todo = np.flatnonzero(~exact)
                cand = y[todo]
                for _ in range(abs(step)):
                    cand = np.nextafter(cand, np.inf if step > 0 else -np.inf)
                hit = cand * k == x[todo]
                y[todo[hit]] = cand[hit]
                exact[todo[hit]] = True
        else:
            exact = np.ones(x.shape, dtype=bool)
    exact &= finite
    if not finite.all():
        y[~finite] = x[finite].mean() / k if finite.any() else 0.0
    stored = y.reshape(np.shape(frame))
    if exact.all():
        return stored, None
    where = np.flatnonzero(~exact).astype("<u4")
    payload = where.tobytes() + x[where].astype("<f8").tobytes()
    packed = base64.b64encode(zlib.compress(payload, 6)).decode("ascii")
    return stored, f"{_VERSION} {_checksum(stored)} {packed}"


def from_si(stored: np.ndarray, k: float, text: str | None, what: str) -> np.ndarray:
    """The frame ``to_si`` was given, from the stored values and exceptions text.

    A text whose checksum does not match ``stored`` (the frame was edited after
    playnano wrote it) is ignored. A malformed text is a :class:`ReadError`
    starting with ``what``.
    """
    out = np.asarray(stored, dtype=np.float64) * k
    if not text:
        return out
    parts = text.split(" ")
    if len(parts) != 3 or parts[0] != _VERSION:
        raise ReadError(f"{what}: exact-values record is not understood")
    if parts[1] != _checksum(stored):
        return out
    limit = 12 * out.size  # one entry per pixel at most: refuse anything larger
    try:
        inflate = zlib.decompressobj()
        payload = inflate.decompress(base64.b64decode(parts[2], validate=True), limit)
        if inflate.unconsumed_tail:
            raise ValueError("more entries than pixels")
    except (ValueError, zlib.error) as exc:
        raise ReadError(f"{what}: exact-values record is corrupt ({exc})") from None
    n = len(payload) // 12
    if len(payload) != 12 * n:
        raise ReadError(f"{what}: exact-values record has a partial entry")
    where = np.frombuffer(payload, "<u4", n).astype(np.intp)
    if n and int(where.max()) >= out.size:
        raise ReadError(f"{what}: exact-values record points outside the frame")
    flat = out.reshape(-1)
    flat[where] = np.frombuffer(payload, "<f8", n, offset=4 * n)
    return out


def si_size(pixel_nm: float, n_pixels: int) -> float:
    """A field's real size in metres from which ``size / n * 1e9`` is ``pixel_nm``.

    Readers that derive the pixel size from the size (AFMReader, Gwyddion's
    tools) then get exactly the pixel size written, when a double within 3 ulps
    of ``n * pixel_nm / 1e9`` allows it (else that nearest value).
    """
    size = n_pixels * pixel_nm / 1e9
    for step in (0, *_STEPS):
        cand = size
        for _ in range(abs(step)):
            cand = float(np.nextafter(cand, np.inf if step > 0 else -np.inf))
        if cand / n_pixels * 1e9 == pixel_nm:
            return cand
    return size
