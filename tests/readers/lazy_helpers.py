"""What the lazy-reader tests share: the comparisons and the files to read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from playnano.afm_stack import AFMImageStack
from playnano.io.export_data import export_stack
from playnano.lazy import LazyFrames
from playnano.testing import make_sample_stack

#: Real files (under $PLAYNANO_TEST_DATA/afm) and the channels to read from each.
REAL = {
    "asd v1": ("asd/asd_sample_0.asd", [None]),
    "asd two channels": ("asd/202110200146.asd", [None, "PH"]),
    "h5-jpk": ("h5-jpk/sample_0.h5-jpk", [None, "amplitude_retrace"]),
    "jpk folder": ("jpk_folder/streptavidin_hs", [None, "measuredHeight_trace"]),
    "nanoscope folder": ("spm/old_bruker.002", [None]),
    "nanoscope file": ("spm/old_bruker.002", [None]),
    "one jpk frame": (
        "jpk_folder/streptavidin_hs/save-2023.02.16-12.08.49.026.jpk",
        [None],
    ),
}


def real_path(afm_data: Path, key: str, tmp_path: Path) -> Path:
    """The real file or folder of ``REAL[key]``; a Nanoscope video is made of
    three copies of the real frame (the data holds one Nanoscope file)."""
    path = afm_data / REAL[key][0]
    if key != "nanoscope folder":
        return path
    folder = tmp_path / "nanoscope"
    folder.mkdir()
    for i in (1, 2, 3):
        shutil.copyfile(path, folder / f"scan.00{i}")
    return folder


def bundle(tmp_path: Path, kind: str, n: int = 17, dtype: Any = np.float64) -> Path:
    """A generated bundle of ``n`` frames with layers and masks."""
    stack = make_sample_stack(n, (9, 11), dtype)
    if kind == "npz stored":
        target, options = tmp_path / "b.npz", {"compress_level": 0}
    elif kind == "npz deflated":
        target, options = tmp_path / "b.npz", {"compress_level": 6}
    else:
        target, options = tmp_path / "b.ome.tif", {}
    [path] = export_stack(stack, target, options=options)
    return path


def assert_frames_equal(lazy: Any, full: np.ndarray) -> None:
    """Every frame of ``lazy`` is ``full``'s bit for bit: in blocks of 1, 7 and
    all frames, through fresh LazyFrames over the same source, and out of order."""
    assert isinstance(lazy, LazyFrames)
    n = full.shape[0]
    assert lazy.shape == full.shape
    assert lazy.dtype == full.dtype
    for size in (1, 7, n):
        frames = LazyFrames(lazy.source, block=size)
        got = np.concatenate([b for _, b in frames.blocks()])
        assert got.tobytes() == full.tobytes(), f"block of {size}"
    order = [n - 1, 0, n // 2, n - 1, min(1, n - 1), 0]
    for i in order:
        assert lazy.source.read(i, i + 1)[0].tobytes() == full[i].tobytes(), i
    if n > 2:
        assert lazy.source.read(1, n).tobytes() == full[1:].tobytes()


def assert_stacks_match(lazy: AFMImageStack, full: AFMImageStack) -> None:
    """Same frames, layers, masks and metadata."""
    assert_frames_equal(lazy.data, full.data)
    assert set(lazy.processed) == set(full.processed)
    for key, arr in full.processed.items():
        assert_frames_equal(lazy.processed[key], arr)
    assert set(lazy.masks) == set(full.masks)
    for key, arr in full.masks.items():
        assert_frames_equal(lazy.masks[key], arr)
    assert lazy.pixel_size_nm == full.pixel_size_nm
    assert lazy.channel == full.channel
    assert lazy.file_path == full.file_path
    assert lazy.frame_metadata == full.frame_metadata
    assert lazy.provenance == full.provenance
    assert lazy.state_backups == full.state_backups


def open_fds(path: Path) -> list[str]:
    """This process's open files that are ``path`` or lie under it."""
    target = str(path.resolve())
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link == target or link.startswith(target + os.sep):
            found.append(link)
    return found
