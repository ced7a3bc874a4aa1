"""NPZ member edits, each a function ``fn(path, **args)`` with JSON args.

The members of our NPZ bundles are deflated, so byte edits rarely reach an ``.npy``
header; these edits rewrite the archive instead: a member replaced by another dtype,
a pickled object array, a header claiming a huge shape, a small zip bomb, text that
is not ``.npy``, or the member deleted or duplicated.
"""

from __future__ import annotations

import io
import random
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

KINDS = ("bool", "complex", "object", "scalar", "huge_header", "bomb", "text", "delete",
         "duplicate", "fortran", "big_endian", "strings")  # fmt: skip


def pick(path: Path, rng: random.Random) -> dict[str, Any]:
    """A random member edit for the archive at ``path``."""
    with zipfile.ZipFile(path) as z:
        names = [i.filename for i in z.infolist()]
    return {
        "fn": "edit",
        "args": {"member": rng.choice(names), "kind": rng.choice(KINDS)},
    }


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def _huge_header(old: np.ndarray) -> bytes:
    shape = (100_000_000, *old.shape[1:]) if old.ndim else (100_000_000,)
    header = (
        f"{{'descr': '{old.dtype.str}', 'fortran_order': False, 'shape': {shape}, }}"
    )
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode()


def edit(path: Path, member: str, kind: str) -> None:
    """Rewrite the archive with ``member`` changed as ``kind`` says."""
    with zipfile.ZipFile(path) as z:
        items = [(i, z.read(i)) for i in z.infolist()]
    out = io.BytesIO()
    with (
        warnings.catch_warnings(),
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z,
    ):
        warnings.simplefilter("ignore")  # a duplicate member name is the point
        for info, raw in items:
            if info.filename != member:
                z.writestr(info.filename, raw)
                continue
            try:
                old = np.load(io.BytesIO(raw), allow_pickle=False)
            except Exception:
                old = np.zeros(3)
            if kind == "delete":
                continue
            new: bytes
            if kind == "bool":
                new = _npy(
                    np.asarray(old).astype(bool)
                    if old.dtype.kind in "biuf"
                    else np.ones(3, bool)
                )
            elif kind == "complex":
                new = _npy(
                    np.asarray(old, dtype=complex)
                    if old.dtype.kind in "biufc"
                    else np.ones(3, complex)
                )
            elif kind == "object":
                new = _npy(np.array([{"a": 1}, None], dtype=object))
            elif kind == "scalar":
                new = _npy(np.array(7.0))
            elif kind == "huge_header":
                new = _huge_header(old)
            elif kind == "bomb":  # 40 MB of zeros, about 40 kB deflated
                new = _npy(np.zeros((5_000_000,), np.float64))
            elif kind == "text":
                new = b"not an npy member\n"
            elif kind == "duplicate":
                z.writestr(info.filename, raw)
                new = _npy(np.zeros((1, 2, 2)))
            elif kind == "fortran":
                new = _npy(np.asfortranarray(old))
            elif kind == "big_endian":
                new = (
                    _npy(old.astype(old.dtype.newbyteorder(">")))
                    if old.dtype.kind in "biufc"
                    else raw
                )
            else:  # strings
                new = _npy(np.array(["a", "bb"]))
            z.writestr(info.filename, new)
    path.write_bytes(out.getvalue())
