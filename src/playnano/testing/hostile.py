"""Hostile and damaged copies of a sample file, each damaged one named way.

:func:`hostile_set` builds, from one sample (a file, or a folder whose frame or
metadata files are damaged), what a reader meets in the wild: truncations, flipped
bits and header fields set to huge values for any file, and for each container the
lies it allows: a looping IFD chain, pages, sample formats, OME or ImageJ sizes
and a tifffile description's frame count that claim what the file does not hold
(TIFF); virtual, external, soft-linked and unallocated datasets (HDF5,
:mod:`playnano.testing.hostile_containers`); members that declare gigabytes
(zip/NPZ); shapes blown up in JSON metadata (Zarr). Each copy is small: a file
that claims gigabytes holds a few kB.

A copy made by an edit in :data:`STORED_UNCHANGED` stores the sample's image
under a false claim: read, it must read as the sample does (:func:`sample_of`).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import struct
from collections.abc import Callable
from pathlib import Path

from playnano.testing.hostile_containers import HDF5_EDITS, ZIP_EDITS

#: ``edit(path)`` damages the file at ``path`` in place.
Edit = Callable[[Path], None]

TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
ZIP_MAGIC = b"PK\x03\x04"


def kind_of(path: Path) -> str:
    """``tiff``, ``hdf5``, ``zip``, ``json`` or ``bytes``, from the file's content."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head[:4] in TIFF_MAGICS:
        return "tiff"
    if head == HDF5_MAGIC:
        return "hdf5"
    if head[:4] == ZIP_MAGIC:
        return "zip"
    if head.lstrip()[:1] == b"{":
        return "json"
    return "bytes"


# ------------------------------------------------------------------ any file
def _cut(size: Callable[[int], int]) -> Edit:
    def edit(path: Path) -> None:
        data = path.read_bytes()
        path.write_bytes(data[: max(0, min(len(data) - 1, size(len(data))))])

    return edit


def _flips(seed: int) -> Edit:
    """Flip 8 bits, most in the first 4 kB (headers), at places fixed by ``seed``."""

    def edit(path: Path) -> None:
        data = bytearray(path.read_bytes())
        rng = random.Random(seed)
        for i in range(8):
            span = min(len(data), 4096) if i < 6 else len(data)
            if span:
                data[rng.randrange(span)] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(data))

    return edit


def _huge_word(at: int) -> Edit:
    """The 32-bit field at byte ``at`` set to 0x7FFFFFFF (a size or count lie)."""

    def edit(path: Path) -> None:
        data = bytearray(path.read_bytes())
        if at + 4 <= len(data):
            data[at : at + 4] = b"\xff\xff\xff\x7f"
            path.write_bytes(bytes(data))

    return edit


def _huge_numbers(path: Path) -> None:
    """Every number of a text header (its first 4 kB) made 99999999999."""
    data = path.read_bytes()
    head = re.sub(rb"(?<![\w.])\d{1,9}(?![\w.])", b"99999999999", data[:4096])
    path.write_bytes(head + data[4096:])


GENERIC: dict[str, Edit] = {
    "empty": _cut(lambda n: 0),
    "cut to 8 bytes": _cut(lambda n: 8),
    "cut in half": _cut(lambda n: n // 2),
    "last byte cut": _cut(lambda n: n - 1),
    "bits flipped (a)": _flips(1),
    "bits flipped (b)": _flips(2),
}
BYTES: dict[str, Edit] = {
    **{f"32-bit field at byte {at} huge": _huge_word(at) for at in range(4, 36, 4)},
    "header numbers huge": _huge_numbers,
}


# ----------------------------------------------------------------------- TIFF
def _ifds(data: bytes) -> tuple[str, bool, list[tuple[int, int]]]:
    """Byte order, BigTIFF or not, and (offset, entry count) of each IFD (max 64)."""
    order = "<" if data[:2] == b"II" else ">"
    big = data[2:4] in (b"+\x00", b"\x00+")
    cfmt, lfmt, first = ("Q", "Q", 8) if big else ("H", "I", 4)
    ifds: list[tuple[int, int]] = []
    (at,) = struct.unpack_from(order + lfmt, data, first)
    while 0 < at < len(data) - 8 and len(ifds) < 64 and at not in dict(ifds):
        (n,) = struct.unpack_from(order + cfmt, data, at)
        ifds.append((at, n))
        link = at + struct.calcsize(cfmt) + n * (20 if big else 12)
        if link + struct.calcsize(lfmt) > len(data):
            break
        (at,) = struct.unpack_from(order + lfmt, data, link)
    return order, big, ifds


def _entries(data: bytes) -> list[tuple[int, int, int]]:
    """(byte offset, tag, type) of every entry of every IFD."""
    order, big, ifds = _ifds(data)
    out = []
    for at, n in ifds:
        start = at + (8 if big else 2)
        for i in range(n):
            entry = start + i * (20 if big else 12)
            if entry + 4 <= len(data):
                tag, typ = struct.unpack_from(order + "HH", data, entry)
                out.append((entry, tag, typ))
    return out


def _loop(to_self: bool) -> Edit:
    def edit(path: Path) -> None:
        data = bytearray(path.read_bytes())
        order, big, ifds = _ifds(bytes(data))
        if not ifds:
            return
        at, n = ifds[-1]
        link = at + (8 if big else 2) + n * (20 if big else 12)
        target = at if to_self else ifds[0][0]
        struct.pack_into(order + ("Q" if big else "I"), data, link, target)
        path.write_bytes(bytes(data))

    return edit


def _tag_value(tags: tuple[int, ...], value: int, as_long: bool = True) -> Edit:
    """Every entry of ``tags`` made one value ``value`` (stored as a LONG)."""

    def edit(path: Path) -> None:
        data = bytearray(path.read_bytes())
        order, big, _ = _ifds(bytes(data))
        for entry, tag, _typ in _entries(bytes(data)):
            if tag in tags:
                fmt = order + ("HHQQ" if big else "HHII")
                struct.pack_into(fmt, data, entry, tag, 4 if as_long else 3, 1, value)
        path.write_bytes(bytes(data))

    return edit


def _description(rewrite: Callable[[str], str]) -> Edit:
    """The first page's ImageDescription rewritten, stored anew at the file's end."""

    def edit(path: Path) -> None:
        data = bytearray(path.read_bytes())
        order, big, ifds = _ifds(bytes(data))
        for entry, tag, _typ in _entries(bytes(data)):
            if tag != 270 or not ifds or entry > ifds[0][0] + 8 + 20 * ifds[0][1]:
                continue
            if big:
                count, where = struct.unpack_from(order + "QQ", data, entry + 4)
            else:
                count, where = struct.unpack_from(order + "II", data, entry + 4)
            old = bytes(data[where : where + count]).split(b"\0")[0].decode("latin-1")
            if rewrite(old) == old:
                return  # nothing this edit changes in this description
            new = rewrite(old).encode("latin-1") + b"\0"
            at = len(data) + len(data) % 2
            data += b"\0" * (at - len(data)) + new
            fmt = order + ("HHQQ" if big else "HHII")
            struct.pack_into(fmt, data, entry, 270, 2, len(new), at)
            path.write_bytes(bytes(data))
            return

    return edit


def _ome_size(key: str, value: str) -> Edit:
    return _description(lambda xml: re.sub(rf'{key}="[^"]*"', f'{key}="{value}"', xml))


def _other_file(xml: str) -> str:
    """The first TiffData element's planes put in another file (a UUID's FileName)."""
    uuid = '<UUID FileName="other.ome.tif">urn:uuid:0</UUID>'
    return re.sub(
        r"<TiffData([^>]*)/>", rf"<TiffData\1>{uuid}</TiffData>", xml, count=1
    )


def _imagej_images(text: str) -> str:
    text = re.sub(r"images=\d+", "images=100000000", text)
    return re.sub(r"frames=\d+", "frames=100000000", text)


def _one_more_frame(text: str) -> str:
    """tifffile's JSON description claiming one frame more than its pages hold."""
    return re.sub(r'^(\{"shape": \[)(\d+)', lambda m: f"{m[1]}{int(m[2]) + 1}", text)


TIFF: dict[str, Edit] = {
    "IFD chain loops back to the first IFD": _loop(to_self=False),
    "last IFD points at itself": _loop(to_self=True),
    "pages claim 65535 x 65535 pixels": _tag_value((256, 257), 65535),
    "SampleFormat 0xFFFFFFFF": _tag_value((339,), 0xFFFFFFFF),
    "BitsPerSample 0": _tag_value((258,), 0, as_long=False),
    "strips start past the end": _tag_value((273, 324), 0x7FFFFF00),
    "OME SizeZ 100000000": _ome_size("SizeZ", "100000000"),
    "OME SizeT 100000000": _ome_size("SizeT", "100000000"),
    "OME SizeX 2147483647": _ome_size("SizeX", "2147483647"),
    "OME planes in another file": _description(_other_file),
    "ImageJ images=100000000": _description(_imagej_images),
    "shaped description claims one more frame": _description(_one_more_frame),
}
#: Edits that change only what a file claims, not the image it stores: tifffile
#: reads such a copy without complaint, so a door that reads it at all must read
#: what it reads from the sample (a reader that trusts the claim reads a wrong stack).
STORED_UNCHANGED = frozenset({"shaped description claims one more frame"})
#: The sample each copy of a :data:`STORED_UNCHANGED` edit was made from.
_SAMPLES: dict[Path, Path] = {}


def sample_of(what: str, copy: Path) -> Path | None:
    """The sample a hostile copy labelled ``what`` must read like, or ``None``
    when its edit may change what it stores (it is then refused or read as is)."""
    if not any(what == n or what.endswith(f": {n}") for n in STORED_UNCHANGED):
        return None
    return _SAMPLES.get(copy)


# ----------------------------------------------------------------------- JSON
def _json_sizes(path: Path) -> None:
    """Every number in a ``shape``/``chunks`` list of a JSON document made 2**40."""
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return

    def blow(node: object) -> object:
        if isinstance(node, dict):
            return {
                k: [2**40] * len(v)
                if k in ("shape", "chunk_shape", "chunks") and isinstance(v, list)
                else blow(v)
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [blow(v) for v in node]
        return node

    blown = blow(doc)
    if blown != doc:
        path.write_text(json.dumps(blown), "utf-8")


JSON: dict[str, Edit] = {"shapes 2**40": _json_sizes}
KINDS: dict[str, dict[str, Edit]] = {
    "tiff": TIFF,
    "hdf5": HDF5_EDITS,
    "zip": ZIP_EDITS,
    "json": JSON,
    "bytes": BYTES,
}


def _targets(sample: Path) -> list[Path]:
    """The files of a sample that are damaged: itself, or a folder's largest file
    that is not JSON (a frame, a chunk) and its two top-most JSON documents."""
    if not sample.is_dir():
        return [sample]
    files = sorted(p for p in sample.rglob("*") if p.is_file())
    jsons = [p for p in files if kind_of(p) == "json"]
    jsons.sort(key=lambda p: (len(p.relative_to(sample).parts), p))
    frames = [p for p in files if p not in jsons]
    big = [max(frames, key=lambda p: p.stat().st_size)] if frames else []
    return big + jsons[:2]


def hostile_set(sample: Path, out: Path) -> list[tuple[str, Path]]:
    """Damaged copies of ``sample`` under ``out``: ``(what was done, path)`` each.

    A copy keeps the sample's name (a folder copy, its files' names), so every
    copy goes to the same reader the sample does. Edits that do not apply to a
    sample (an OME size in a TIFF without OME-XML) leave it whole and are dropped.
    """
    made: list[tuple[str, Path]] = []
    for n, target in enumerate(_targets(sample)):
        edits = {**GENERIC, **KINDS[kind_of(target)]}
        member = target.relative_to(sample) if sample.is_dir() else None
        for i, (name, edit) in enumerate(edits.items()):
            folder = out / f"{n}-{i}"
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            copy = folder / sample.name
            if member is None:
                shutil.copyfile(sample, copy)
                victim = copy
            else:
                shutil.copytree(sample, copy)
                victim = copy / member
            before = victim.read_bytes()
            try:
                edit(victim)
            except Exception:  # the edit does not fit this file's structure
                continue
            if victim.read_bytes() == before:
                shutil.rmtree(folder)
                continue
            label = name if member is None else f"{member}: {name}"
            if name in STORED_UNCHANGED:
                _SAMPLES[copy] = sample
            made.append((label, copy))
    return made
