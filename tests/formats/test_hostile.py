"""Hostile and damaged bundles and TIFFs end in one ReadError naming the file.

Each file (built by :mod:`tests.formats.hostile`) is opened through every door
(``read``, ``read_lazy`` with every frame read, ``inspect``, ``channels``,
``check``) in a forked child under an address-space limit
(:mod:`playnano.testing.children`): never a crash, hang, multi-GB allocation or
silently partial stack, and ``read`` says what is wrong in the words listed. The
child's peak RSS proves memory stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from playnano.testing import children
from playnano.testing.children import DOORS
from tests.formats import hostile as H
from tests.formats.hostile import h5, npz, tiff

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(),
    reason="a child's peak memory is read from /proc/self/status (Linux only)",
)

CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    # name: (builder, words the one-line message must hold)
    "h5 /data virtual onto itself": (h5.h5_vds_self, "virtual dataset"),
    "h5 /data virtual onto another file": (h5.h5_vds_other, "virtual dataset"),
    "h5 /data external link": (h5.h5_external_link, "external link"),
    "h5 /data soft link": (h5.h5_soft_link, "soft link"),
    "h5 /data external storage": (h5.h5_external_storage, "external files"),
    "h5 layer external link": (h5.h5_layer_external_link, "external link"),
    "h5 mask virtual dataset": (h5.h5_mask_vds, "virtual dataset"),
    "h5 unallocated chunked /data": (h5.h5_unallocated_data, "stores 0 of"),
    "h5 unallocated contiguous /data": (h5.h5_unallocated_contiguous, "stores 0"),
    "h5 unallocated layer": (h5.h5_unallocated_layer, "stores 0 of"),
    "h5 partly allocated /data": (h5.h5_partly_allocated, "stores 2 of"),
    "h5 frame count bomb": (h5.h5_frame_count_bomb, "1024 frames"),
    "h5 version array": (h5.h5_version_array, "format version"),
    "h5 JSON bomb": (h5.h5_json_bomb, "frame_metadata_json holds"),
    "npz frame count bomb": (npz.npz_frame_count_bomb, "256 frames"),
    "npz mask bomb": (npz.npz_mask_bomb, "mask 'm'"),
    "npz header lies": (npz.npz_header_lies, "'data'"),
    "npz size lies": (npz.npz_size_lies, "'data'"),
    "npz json bomb": (npz.npz_json_bomb, "frame_metadata_json"),
    "npz version array": (npz.npz_version_array, "format version"),
    "tiff IFD cycle": (tiff.tiff_cycle_plain, "IFD"),
    "tiff one-page IFD cycle": (tiff.tiff_cycle_early, "IFD"),
    "ImageJ IFD cycle": (tiff.tiff_cycle_imagej, "IFD"),
    "OME-TIFF IFD cycle": (tiff.tiff_cycle_ome, "IFD"),
    "BigTIFF IFD cycle": (tiff.tiff_cycle_bigtiff, "IFD"),
    "TIFF pages claiming 17 GB": (tiff.tiff_huge_page, "page 0 declares 65535 x 65535"),
    "OME SizeX 2147483647": (tiff.ome_size_x_huge, "SizeX"),
    "OME SizeZ 100000000": (tiff.ome_size_z_huge, "SizeZ"),
    "OME SizeT beyond the pages": (tiff.ome_size_t_short, "SizeT"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_file_is_one_read_error_at_every_door(
    tmp_path: Path, case: str
) -> None:
    build, words = CASES[case]
    path = build(tmp_path)
    children.preload()
    outcome = children.run_doors(path, list(DOORS))
    assert children.verdict(path, outcome, children.input_bytes(path)) is None
    assert outcome.rss_growth < H.MAX_GROWTH_MB << 20, outcome
    result = outcome.result
    assert result["door"] == "read" and result["type"] == "ReadError", result
    message = result["message"]
    assert message.startswith(f"{path}: ") and len(message) < 400, message
    assert words in message, message
    opened = result["doors"]  # check reports problems; no other door opens it
    assert set(opened) <= {"check"}, f"a door opened the file: {opened}"
    assert opened.get("check", {"problems": 1})["problems"] >= 1, opened


def test_a_bundle_whose_mask_compresses_800_times_still_loads(tmp_path: Path) -> None:
    """The storage checks keep no inflation limit for bundles: masks compress so."""
    result = H.load_in_child(h5.h5_sparse_mask(tmp_path))
    assert result["outcome"] == "loaded", result
    assert result["shape"] == [68, 1024, 1024]
