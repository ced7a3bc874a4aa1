"""Hostile and damaged bundles and TIFFs end in one ReadError naming the file.

Each file (built by :mod:`tests.formats.hostile`) is read by ``playnano.load`` in a
child process under an address-space limit: never a crash, hang, multi-GB allocation
or silently partial stack. The child's peak RSS proves memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.formats import hostile as H

CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    # name: (builder, words the one-line message must hold)
    "h5 /data virtual onto itself": (H.h5_vds_self, "virtual dataset"),
    "h5 /data virtual onto another file": (H.h5_vds_other, "virtual dataset"),
    "h5 /data external link": (H.h5_external_link, "external link"),
    "h5 /data soft link": (H.h5_soft_link, "soft link"),
    "h5 /data external storage": (H.h5_external_storage, "external files"),
    "h5 layer external link": (H.h5_layer_external_link, "external link"),
    "h5 mask virtual dataset": (H.h5_mask_vds, "virtual dataset"),
    "h5 unallocated chunked /data": (H.h5_unallocated_data, "stores 0 of"),
    "h5 unallocated contiguous /data": (H.h5_unallocated_contiguous, "stores 0"),
    "h5 unallocated layer": (H.h5_unallocated_layer, "stores 0 of"),
    "h5 partly allocated /data": (H.h5_partly_allocated, "stores 2 of"),
    "h5 frame count bomb": (H.h5_frame_count_bomb, "1024 frames"),
    "npz frame count bomb": (H.npz_frame_count_bomb, "256 frames"),
    "npz mask bomb": (H.npz_mask_bomb, "masks__m"),
    "npz header lies": (H.npz_header_lies, "'data'"),
    "npz size lies": (H.npz_size_lies, "'data'"),
    "npz json bomb": (H.npz_json_bomb, "frame_metadata_json"),
    "npz version array": (H.npz_version_array, "format version"),
    "tiff IFD cycle": (H.tiff_cycle_plain, "IFD"),
    "ImageJ IFD cycle": (H.tiff_cycle_imagej, "IFD"),
    "OME-TIFF IFD cycle": (H.tiff_cycle_ome, "IFD"),
    "BigTIFF IFD cycle": (H.tiff_cycle_bigtiff, "IFD"),
    "OME SizeX 2147483647": (H.ome_size_x_huge, "SizeX"),
    "OME SizeZ 100000000": (H.ome_size_z_huge, "SizeZ"),
    "OME SizeT beyond the pages": (H.ome_size_t_short, "SizeT"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_one_read_error_in_bounded_memory(
    tmp_path: Path, case: str
) -> None:
    build, words = CASES[case]
    path = build(tmp_path)
    result = H.load_in_child(path)
    assert result["outcome"] == "ReadError", result
    message = result["message"]
    assert "\n" not in message
    assert path.name in message
    assert words in message, message
    assert len(message) < 400, message
    assert result["maxrss_mb"] < H.MAX_RSS_MB, result
    assert result["growth_mb"] < H.MAX_GROWTH_MB, result
