"""Hostile NPZ bundles: zip bombs, lying headers and directories, odd members."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np


def _npy(arr: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _npz(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for key, payload in members.items():
            zf.writestr(f"{key}.npy", payload)
    return path


def _npz_parts(n_frames: int) -> dict[str, bytes]:
    meta = json.dumps([{"timestamp": float(i)} for i in range(n_frames)])
    return {
        "pixel_size_nm": _npy(np.array(1.0)),
        "channel": _npy(np.array("height_trace")),
        "frame_metadata_json": _npy(np.array(meta)),
        "provenance_json": _npy(np.array("{}")),
    }


def npz_version_array(folder: Path) -> Path:
    """``playnano_format_version`` is a 100-element array, not a number."""
    members = {"data": _npy(np.ones((2, 4, 4))), **_npz_parts(2)}
    members["playnano_format_version"] = _npy(np.arange(100))
    return _npz(folder / "version_array.npz", members)


def _fix_header(shape: tuple[int, ...], descr: str = "<f8") -> bytes:
    """A version 1.0 .npy header for a C-order array of ``shape``."""
    d = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape!r}, }}"
    total = 10 + len(d) + 1
    pad = -total % 64
    text = (d + " " * pad + "\n").encode("latin1")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


_ZERO_BLOCK = 16 << 20


def _zeros_deflated(header: bytes, n_zero: int) -> tuple[bytes, int, int]:
    """Raw deflate of ``header`` + ``n_zero`` zero bytes, its CRC-32 and length.

    One 16 MiB block of zeros is compressed once and its byte-aligned segment
    repeated, so a 512 MiB member takes milliseconds to build.
    """
    assert n_zero % _ZERO_BLOCK == 0
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    parts = [head.compress(header) + head.flush(zlib.Z_FULL_FLUSH)]
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = bytes(_ZERO_BLOCK)
    segment = zeros.compress(block) + zeros.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(header)
    for _ in range(n_zero // _ZERO_BLOCK):
        parts.append(segment)
        crc = zlib.crc32(block, crc)
    parts.append(zlib.compressobj(9, zlib.DEFLATED, -15).flush())  # final block
    return b"".join(parts), crc, len(header) + n_zero


def _raw_zip(path: Path, entries: list[tuple[str, bytes, int, int, int]]) -> Path:
    """A zip of (name, payload, method, crc, uncompressed size) entries, by hand."""
    local, central = bytearray(), bytearray()
    for name, payload, method, crc, size in entries:
        raw = name.encode()
        head = struct.pack(
            "<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 33, crc,
            len(payload), size, len(raw), 0,
        )  # fmt: skip
        central += struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 33, crc,
            len(payload), size, len(raw), 0, 0, 0, 0, 0, len(local),
        ) + raw  # fmt: skip
        local += head + raw + payload
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries),
        len(central), len(local), 0,
    )  # fmt: skip
    path.write_bytes(bytes(local + central + end))
    return path


def _stored(name: str, payload: bytes) -> tuple[str, bytes, int, int, int]:
    return (name, payload, zipfile.ZIP_STORED, zlib.crc32(payload), len(payload))


def _zeros_entry(
    name: str, shape: tuple[int, ...], descr: str = "<f8"
) -> tuple[str, bytes, int, int, int]:
    header = _fix_header(shape, descr)
    n = int(np.prod(shape)) * np.dtype(descr).itemsize
    payload, crc, size = _zeros_deflated(header, n)
    return (name, payload, zipfile.ZIP_DEFLATED, crc, size)


def npz_frame_count_bomb(folder: Path) -> Path:
    """'data' inflates to 512 MiB of zeros; the frame metadata lists 2 frames."""
    entries = [_zeros_entry("data.npy", (256, 512, 512))]
    entries += [_stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return _raw_zip(folder / "frame_count_bomb.npz", entries)


def npz_mask_bomb(folder: Path) -> Path:
    """A mask inflates to 512 MiB of False while 'data' is 2 frames of 4x4."""
    entries = [_stored("data.npy", _npy(np.ones((2, 4, 4))))]
    entries.append(_zeros_entry("masks__m.npy", (2, 16384, 16384), "|b1"))
    entries += [_stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return _raw_zip(folder / "mask_bomb.npz", entries)


def npz_header_lies(folder: Path) -> Path:
    """'data' says (2, 100000, 100000) float64 (160 GB) in a 200-byte member."""
    members = {"data": _fix_header((2, 100000, 100000)) + bytes(128), **_npz_parts(2)}
    return _npz(folder / "header_lies.npz", members)


def npz_size_lies(folder: Path) -> Path:
    """The central directory says 'data' inflates to 4 GB from 200 bytes."""
    payload = _npy(np.ones((2, 4, 4)))
    name, body, method, crc, _ = _stored("data.npy", payload)
    entries = [(name, body, method, crc, 0xFFFF0000)]
    entries += [_stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return _raw_zip(folder / "size_lies.npz", entries)


def npz_json_bomb(folder: Path) -> Path:
    """'frame_metadata_json' claims 512 MiB of text (a 128 Mi-character string)."""
    entries = [_stored("data.npy", _npy(np.ones((2, 4, 4))))]
    parts = _npz_parts(2)
    del parts["frame_metadata_json"]
    entries += [_stored(f"{k}.npy", v) for k, v in parts.items()]
    entries.append(_zeros_entry("frame_metadata_json.npy", (), "<U134217728"))
    return _raw_zip(folder / "json_bomb.npz", entries)
