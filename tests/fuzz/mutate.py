"""Mutations as replayable edits ("ops"): byte edits and HDF5 edits through h5py.

A case is ``apply(seed_bytes, ops)`` written to disk, then :func:`apply_h5` for any
``h5`` op. Ops are plain JSON, so a case made from a real file is saved as its seed's
id plus its ops. Byte mutators: bit flips, interesting integers (biased to headers),
truncation, chunk deletion/duplication; structure-aware ones find TIFF IFDs, zip
directory records, ``.npy`` headers, OME-XML sizes, Nanoscope header values and
``.asd`` header fields.
"""

from __future__ import annotations

import random
import re
import struct
from pathlib import Path
from typing import Any

Op = dict[str, Any]
FILE_OPS = ("h5", "npz")

INTS = (0, 1, 2, 3, 7, 8, 16, 255, 256, 4096, 65535, 65536, 2**31 - 1, 2**31,
        2**32 - 1, 2**24, 2**20, 100_000_000, -1, -2, -(2**31))  # fmt: skip
NUMBERS = ("0", "-1", "1e308", "nan", "inf", "-5", "2147483647", "99999999999", "",
           "0.0000001", "abc", "4294967296", "1e-320")  # fmt: skip


# ---------------------------------------------------------------- applying ops
def apply(data: bytes, ops: list[Op]) -> bytes:
    """The bytes after the byte ops (``h5`` ops are applied to the file later)."""
    buf = bytearray(data)
    for op in ops:
        kind = op["op"]
        if kind == "put":
            raw = bytes.fromhex(op["hex"])
            at = min(op["at"], len(buf))
            buf[at : at + len(raw)] = raw
        elif kind == "cut":
            del buf[op["size"] :]
        elif kind == "ins":
            buf[op["at"] : op["at"]] = bytes.fromhex(op["hex"])
        elif kind == "del":
            del buf[op["at"] : op["at"] + op["n"]]
    return bytes(buf)


def apply_h5(path: Path, ops: list[Op]) -> None:
    """Apply the file-level ops (``h5``: :mod:`.h5ops`, ``npz``: :mod:`.npzops`)."""
    from tests.fuzz import h5ops, npzops

    for op in ops:
        if op["op"] in FILE_OPS:
            module = h5ops if op["op"] == "h5" else npzops
            getattr(module, op["fn"])(path, **op["args"])


# ---------------------------------------------------------------- byte mutators
def _offset(rng: random.Random, n: int, head: int = 4096) -> int:
    if n <= 0:
        return 0
    if rng.random() < 0.6:
        return rng.randrange(min(n, head))
    return rng.randrange(n)


def _int_bytes(rng: random.Random, value: int, width: int, order: str) -> bytes:
    value &= (1 << (8 * width)) - 1
    return value.to_bytes(width, "little" if order == "<" else "big")


def flips(data: bytes, rng: random.Random) -> list[Op]:
    ops = []
    for _ in range(rng.choice((1, 1, 2, 4, 8))):
        at = _offset(rng, len(data))
        if at < len(data):
            b = data[at] ^ (1 << rng.randrange(8))
            ops.append({"op": "put", "at": at, "hex": f"{b:02x}"})
    return ops


def interesting(data: bytes, rng: random.Random, head: int = 4096) -> list[Op]:
    width = rng.choice((1, 2, 4, 4, 8))
    at = _offset(rng, len(data), head)
    at -= at % width
    raw = _int_bytes(rng, rng.choice(INTS), width, rng.choice("<<>"))
    return [{"op": "put", "at": at, "hex": raw.hex()}]


def truncate(data: bytes, rng: random.Random) -> list[Op]:
    size = _offset(rng, len(data)) if rng.random() < 0.5 else rng.randrange(len(data))
    return [{"op": "cut", "size": size}]


def chunk(data: bytes, rng: random.Random) -> list[Op]:
    at = _offset(rng, len(data))
    n = rng.choice((1, 2, 4, 16, 256, 4096))
    if rng.random() < 0.5:
        return [{"op": "del", "at": at, "n": n}]
    return [{"op": "ins", "at": at, "hex": data[at : at + n].hex() or "00"}]


# ----------------------------------------------------------- structure-aware
def tiff_ifds(data: bytes) -> tuple[str, list[tuple[int, int]]]:
    """Byte order and ``(offset, entry_count)`` of each classic-TIFF IFD (max 64)."""
    if data[:4] not in (b"II*\x00", b"MM\x00*"):
        return "<", []
    order = "<" if data[:2] == b"II" else ">"
    ifds: list[tuple[int, int]] = []
    (at,) = struct.unpack_from(order + "I", data, 4)
    while 8 <= at < len(data) - 2 and len(ifds) < 64 and at not in dict(ifds):
        (count,) = struct.unpack_from(order + "H", data, at)
        ifds.append((at, count))
        nxt = at + 2 + 12 * count
        if nxt + 4 > len(data):
            break
        (at,) = struct.unpack_from(order + "I", data, nxt)
    return order, ifds


def tiff(data: bytes, rng: random.Random) -> list[Op]:
    order, ifds = tiff_ifds(data)
    if not ifds:
        return interesting(data, rng)
    at, count = rng.choice(ifds)
    choice = rng.random()
    if choice < 0.25:  # next-IFD pointer: a cycle, a loop to an earlier IFD, junk
        target = rng.choice(
            [at, ifds[0][0], rng.choice(ifds)[0], len(data), 2**32 - 1, 1]
        )
        pos = at + 2 + 12 * count
        return [
            {"op": "put", "at": pos, "hex": _int_bytes(rng, target, 4, order).hex()}
        ]
    if choice < 0.35:  # entry count
        value = rng.choice((0, 1, 0xFFFF, count + 1, count * 40))
        return [{"op": "put", "at": at, "hex": _int_bytes(rng, value, 2, order).hex()}]
    if count == 0:
        return interesting(data, rng)
    entry = at + 2 + 12 * rng.randrange(count)
    field = rng.choice((2, 4, 8, 8))  # type, count, value/offset
    width = 2 if field == 2 else 4
    value = rng.choice(INTS) if field != 2 else rng.choice((0, 1, 2, 5, 12, 13, 16, 99))
    return [
        {
            "op": "put",
            "at": entry + field,
            "hex": _int_bytes(rng, value, width, order).hex(),
        }
    ]


_SIZE_ATTR = re.compile(rb'(Size[XYZCT]|PhysicalSize[XY]|TimeIncrement)="([^"]*)"')


def ome_xml(data: bytes, rng: random.Random) -> list[Op]:
    """Change one OME-XML size: in place when it fits, else at the file's end."""
    start = data.find(b"<?xml")
    if start < 0:
        start = data.find(b"<OME")
    end = data.find(b"\x00", start)
    matches = list(_SIZE_ATTR.finditer(data, start, end)) if start >= 0 else []
    if not matches:
        return tiff(data, rng)
    m = rng.choice(matches)
    value = rng.choice(("0", "1", "2147483647", "100000000", "-1", "3", "65536", "nan"))
    old = m.group(2)
    new = value.encode()
    if len(new) <= len(old):  # pad with spaces outside the quotes
        repl = m.group(1) + b'="' + new + b'"' + b" " * (len(old) - len(new))
        return [{"op": "put", "at": m.start(), "hex": repl.hex()}]
    # longer: append a rewritten description and point the tag at it
    order, ifds = tiff_ifds(data)
    xml = data[start:end]
    xml = (
        xml[: m.start() - start]
        + m.group(1)
        + b'="'
        + new
        + b'"'
        + xml[m.end() - start :]
    )
    xml += b"\x00"
    if not ifds:
        return tiff(data, rng)
    at, count = ifds[0]
    for i in range(count):
        entry = at + 2 + 12 * i
        (tag,) = struct.unpack_from(order + "H", data, entry)
        if tag == 270:
            new_at = len(data) + (len(data) % 2)
            pad = b"\x00" * (new_at - len(data))
            return [
                {"op": "ins", "at": len(data), "hex": (pad + xml).hex()},
                {
                    "op": "put",
                    "at": entry + 4,
                    "hex": _int_bytes(rng, len(xml), 4, order).hex(),
                },
                {
                    "op": "put",
                    "at": entry + 8,
                    "hex": _int_bytes(rng, new_at, 4, order).hex(),
                },
            ]
    return tiff(data, rng)


def zipfile_(data: bytes, rng: random.Random) -> list[Op]:
    """Edit a zip record's sizes/offsets, or the shape in a stored ``.npy`` header."""
    if rng.random() < 0.4:
        heads = [m.start() for m in re.finditer(rb"\{'descr'", data)]
        if heads:
            at = rng.choice(heads)
            m = re.compile(rb"'shape': \(([^)]*)\)").search(data, at, at + 200)
            if m:
                dims = [d.strip() for d in m.group(1).split(b",") if d.strip()]
                new = rng.choice([b"100000000", b"0", b"2147483647", b"7"])
                if dims:
                    dims[rng.randrange(len(dims))] = new
                else:
                    dims = [new]
                inner = b", ".join(dims) + (b"," if len(dims) == 1 else b"")
                old_len = m.end() - m.start()
                repl = b"'shape': (" + inner + b")"
                if len(repl) <= old_len:
                    repl += b" " * (old_len - len(repl))
                    return [{"op": "put", "at": m.start(), "hex": repl.hex()}]
    records = [(m.start(), 20) for m in re.finditer(rb"PK\x01\x02", data)]  # central
    records += [(m.start(), 18) for m in re.finditer(rb"PK\x03\x04", data)]  # local
    ends = [m.start() for m in re.finditer(rb"PK\x05\x06", data)]
    if not records:
        return interesting(data, rng)
    if ends and rng.random() < 0.2:
        end = ends[-1]
        field = rng.choice((8, 10, 12, 16))
        width = 2 if field < 12 else 4
        return [
            {
                "op": "put",
                "at": end + field,
                "hex": _int_bytes(rng, rng.choice(INTS), width, "<").hex(),
            }
        ]
    at, sizes = rng.choice(records)
    # central: 20 csize, 24 usize, 28 name len, 42 local offset; local: 18, 22, 26
    field = rng.choice((sizes, sizes + 4, sizes + 8, 42 if sizes == 20 else sizes + 10))
    width = 2 if field in (28, 26, 28) else 4
    return [
        {
            "op": "put",
            "at": at + field,
            "hex": _int_bytes(rng, rng.choice(INTS), width, "<").hex(),
        }
    ]


_HEADER_VALUE = re.compile(rb"\\([^:\r\n]{1,60}):[ ]?([^\r\n]*)")


def nanoscope(data: bytes, rng: random.Random) -> list[Op]:
    """Replace the value of one ``\\Key: value`` header line (numbers kept numeric)."""
    end = data.find(b"\\*File list end")
    lines = list(_HEADER_VALUE.finditer(data, 0, end if end > 0 else 40960))
    if not lines:
        return interesting(data, rng)
    m = rng.choice(lines)
    old = m.group(2)
    numbers = list(re.finditer(rb"[-+]?\d+\.?\d*(?:[eE][-+]?\d+)?", old))
    if numbers and rng.random() < 0.8:
        n = rng.choice(numbers)
        new = old[: n.start()] + rng.choice(NUMBERS).encode() + old[n.end() :]
    else:
        new = rng.choice(
            (b"", b"nan", b"V [x] (1 V/LSB) 0 V", b'S [Height] "Height"', old * 2)
        )
    at = m.start(2)
    return [
        {"op": "del", "at": at, "n": len(old)},
        {"op": "ins", "at": at, "hex": new.hex() or ""},
    ]


def asd(data: bytes, rng: random.Random) -> list[Op]:
    """An interesting int16/int32 in the header or a frame header."""
    header_len = (
        int.from_bytes(data[4:8], "little", signed=True) if len(data) > 8 else 0
    )
    if data[:4] == b"\x00\x00\x00\x00" and len(data) > 12:
        header_len = int.from_bytes(data[8:12], "little", signed=True)
    if not 0 < header_len < len(data):
        header_len = 200
    # mostly the file header, else the first frame header
    region = (0, header_len) if rng.random() < 0.75 else (header_len, header_len + 32)
    width = rng.choice((2, 4, 4))
    at = rng.randrange(*region)
    at -= at % width
    raw = _int_bytes(rng, rng.choice(INTS), width, "<")
    return [{"op": "put", "at": at, "hex": raw.hex()}]


def h5(path: Path, rng: random.Random) -> list[Op]:
    """One structural HDF5 edit (see :mod:`tests.fuzz.h5ops`)."""
    from tests.fuzz import h5ops

    return [{"op": "h5", **h5ops.pick(path, rng)}]


def npz(path: Path, rng: random.Random) -> list[Op]:
    """One NPZ member edit (see :mod:`tests.fuzz.npzops`)."""
    from tests.fuzz import npzops

    return [{"op": "npz", **npzops.pick(path, rng)}]


BYTE = (flips, flips, interesting, interesting, truncate, chunk)
AWARE = {
    "asd": (asd, asd),
    "tiff": (tiff, tiff),
    "jpk": (tiff, tiff),
    "ome-tiff": (tiff, ome_xml, ome_xml),
    "npz": (zipfile_, zipfile_),
    "nanoscope": (nanoscope, nanoscope, nanoscope),
}
HDF5_FAMILIES = ("h5", "h5-jpk")


def mutate(family: str, data: bytes, path: Path, rng: random.Random) -> list[Op]:
    """One or two mutations suited to ``family``'s seed (``path`` holds the seed)."""
    ops: list[Op] = []
    for _ in range(rng.choice((1, 1, 1, 2))):
        current = apply(data, ops)
        # a file-level edit rewrites the seed, so it is the case's only edit
        if family in HDF5_FAMILIES and not ops and rng.random() < 0.5:
            return h5(path, rng)
        if family == "npz" and not ops and rng.random() < 0.4:
            return npz(path, rng)
        pool = BYTE + AWARE.get(family, ())
        ops += rng.choice(pool)(current, rng)
    return ops
