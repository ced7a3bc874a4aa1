"""Hostile NPZ bundles: zip bombs, lying headers and directories, odd members."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from playnano.testing.hostile_containers import (
    npy_header,
    raw_zip,
    stored,
    zeros_deflated,
)


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


def _zeros_entry(
    name: str, shape: tuple[int, ...], descr: str = "<f8"
) -> tuple[str, bytes, int, int, int]:
    header = npy_header(shape, descr)
    n = int(np.prod(shape)) * np.dtype(descr).itemsize
    payload, crc, size = zeros_deflated(header, n)
    return (name, payload, zipfile.ZIP_DEFLATED, crc, size)


def npz_frame_count_bomb(folder: Path) -> Path:
    """'data' inflates to 512 MiB of zeros; the frame metadata lists 2 frames."""
    entries = [_zeros_entry("data.npy", (256, 512, 512))]
    entries += [stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return raw_zip(folder / "frame_count_bomb.npz", entries)


def npz_mask_bomb(folder: Path) -> Path:
    """A mask inflates to 512 MiB of False while 'data' is 2 frames of 4x4."""
    entries = [stored("data.npy", _npy(np.ones((2, 4, 4))))]
    entries.append(_zeros_entry("masks__m.npy", (2, 16384, 16384), "|b1"))
    entries += [stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return raw_zip(folder / "mask_bomb.npz", entries)


def npz_header_lies(folder: Path) -> Path:
    """'data' says (2, 100000, 100000) float64 (160 GB) in a 200-byte member."""
    members = {"data": npy_header((2, 100000, 100000)) + bytes(128), **_npz_parts(2)}
    return _npz(folder / "header_lies.npz", members)


def npz_size_lies(folder: Path) -> Path:
    """The central directory says 'data' inflates to 4 GB from 200 bytes."""
    payload = _npy(np.ones((2, 4, 4)))
    name, body, method, crc, _ = stored("data.npy", payload)
    entries = [(name, body, method, crc, 0xFFFF0000)]
    entries += [stored(f"{k}.npy", v) for k, v in _npz_parts(2).items()]
    return raw_zip(folder / "size_lies.npz", entries)


def npz_json_bomb(folder: Path) -> Path:
    """'frame_metadata_json' claims 512 MiB of text (a 128 Mi-character string)."""
    entries = [stored("data.npy", _npy(np.ones((2, 4, 4))))]
    parts = _npz_parts(2)
    del parts["frame_metadata_json"]
    entries += [stored(f"{k}.npy", v) for k, v in parts.items()]
    entries.append(_zeros_entry("frame_metadata_json.npy", (), "<U134217728"))
    return raw_zip(folder / "json_bomb.npz", entries)
