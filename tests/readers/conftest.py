"""Fixtures for the reader tests: the reference values and comparison helpers.

The ``afm_data`` fixture (the real instrument files) lives in ``tests/conftest.py``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack


@pytest.fixture(scope="session")
def reference(afm_data: Path) -> dict[str, Any]:
    """REFERENCE.json: what playnano 0.5.0 and AFMReader 0.0.7 read from each file."""
    return json.loads((afm_data / "REFERENCE.json").read_text())


def _check_against(
    stack: AFMImageStack, ref: dict[str, Any], *, rtol: float = 0.0
) -> None:
    """Compare a stack with one REFERENCE.json entry (``rtol=0`` means exactly).

    A 2D reference (a single image) is compared with frame 0.
    """
    data = stack.data if len(ref["shape"]) == 3 else stack.data[0]
    assert list(data.shape) == ref["shape"]
    assert str(data.dtype) == ref["dtype"]
    frame0 = data[0] if data.ndim == 3 else data
    got = {
        "min": data.min(),
        "max": data.max(),
        "mean": data.mean(),
        "std": data.std(),
        "sum": data.sum(),
        "[0,0]": frame0[0, 0],
        "[0,-1]": frame0[0, -1],
        "[-1,0]": frame0[-1, 0],
        "[-1,-1]": frame0[-1, -1],
    }
    want = {k: ref[k] for k in ("min", "max", "mean", "std", "sum")}
    want.update(ref["f0_corners"])
    for key, value in want.items():
        if rtol:
            np.testing.assert_allclose(got[key], value, rtol=rtol, err_msg=key)
        else:
            assert got[key] == value, key
    assert stack.pixel_size_nm == pytest.approx(ref["pixel_size_nm"], rel=1e-12)


@pytest.fixture
def check_reference() -> Callable[..., None]:
    """``check_reference(stack, ref, rtol=0.0)``: compare with a reference entry."""
    return _check_against


@pytest.fixture
def copy_truncated(tmp_path: Path) -> Callable[[Path, int], Path]:
    """Copy the first ``n`` bytes of a data file into tmp_path, keeping its name."""

    def copy(src: Path, n: int) -> Path:
        dst = tmp_path / "cut" / src.name
        dst.parent.mkdir(exist_ok=True)
        with open(src, "rb") as fin:
            dst.write_bytes(fin.read(n))
        return dst

    return copy


@pytest.fixture
def copy_file(tmp_path: Path) -> Callable[..., Path]:
    """Copy a data file into a folder under tmp_path (never into the repo)."""

    def copy(src: Path, name: str | None = None, folder: str = "copies") -> Path:
        dst = tmp_path / folder / (name or src.name)
        dst.parent.mkdir(exist_ok=True)
        shutil.copyfile(src, dst)
        return dst

    return copy
