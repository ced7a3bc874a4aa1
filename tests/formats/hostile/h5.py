"""Hostile HDF5 bundles: links, virtual and external storage, unallocated data."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import numpy as np


def _h5_bundle_parts(f: Any, n_frames: int) -> None:
    """Everything but /data: what a bundle needs besides its frames."""
    meta = [{"timestamp": float(i)} for i in range(n_frames)]
    f.create_dataset("frame_metadata_json", data=np.bytes_(json.dumps(meta).encode()))
    f.create_dataset("provenance_json", data=np.bytes_(b"{}"))
    f.create_dataset("timestamps", data=np.arange(n_frames, dtype=np.float64))
    f.attrs["pixel_size_nm"] = 1.0
    f.attrs["channel"] = "height_trace"
    f.attrs["playnano_format_version"] = 1


def _h5_good_frames(f: Any, name: str = "data", n_frames: int = 2) -> None:
    f.create_dataset(name, data=np.ones((n_frames, 4, 4)), chunks=(1, 4, 4))


def h5_vds_self(folder: Path) -> Path:
    """/data is a virtual dataset mapping onto itself (crashed HDF5)."""
    import h5py

    path = folder / "vds_self.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        vlayout = h5py.VirtualLayout(shape=(2, 4, 4), dtype="f8")
        vlayout[:] = h5py.VirtualSource(".", "data", shape=(2, 4, 4))
        f.create_virtual_dataset("data", vlayout)
    return path


def _other_file(folder: Path) -> Path:
    import h5py

    other = folder / "other.h5"
    with h5py.File(other, "w") as g:
        g.create_dataset("frames", data=np.full((2, 4, 4), 7.0))
    return other


def h5_vds_other(folder: Path) -> Path:
    """/data is a virtual dataset onto another file's frames."""
    import h5py

    _other_file(folder)
    path = folder / "vds_other.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        vlayout = h5py.VirtualLayout(shape=(2, 4, 4), dtype="f8")
        vlayout[:] = h5py.VirtualSource("other.h5", "frames", shape=(2, 4, 4))
        f.create_virtual_dataset("data", vlayout)
    return path


def h5_external_link(folder: Path) -> Path:
    """/data is an external link to another file."""
    import h5py

    _other_file(folder)
    path = folder / "external_link.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        f["data"] = h5py.ExternalLink("other.h5", "/frames")
    return path


def h5_soft_link(folder: Path) -> Path:
    """/data is a soft link to a dataset outside the bundle layout."""
    import h5py

    path = folder / "soft_link.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f, "elsewhere")
        f["data"] = h5py.SoftLink("/elsewhere")
    return path


def h5_external_storage(folder: Path) -> Path:
    """/data keeps its bytes in a raw file beside the bundle."""
    import h5py

    raw = folder / "frames.bin"
    raw.write_bytes(np.full((2, 4, 4), 7.0).tobytes())
    path = folder / "external_storage.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        f.create_dataset(
            "data", shape=(2, 4, 4), dtype="f8", external=[(str(raw), 0, 256)]
        )
    return path


def h5_layer_external_link(folder: Path) -> Path:
    """A processed layer is an external link; a mask a virtual dataset."""
    import h5py

    _other_file(folder)
    path = folder / "layer_link.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f)
        f.create_group("processed")["x"] = h5py.ExternalLink("other.h5", "/frames")
    return path


def h5_mask_vds(folder: Path) -> Path:
    """A mask is a virtual dataset onto another file."""
    import h5py

    _other_file(folder)
    path = folder / "mask_vds.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f)
        vlayout = h5py.VirtualLayout(shape=(2, 4, 4), dtype="f8")
        vlayout[:] = h5py.VirtualSource("other.h5", "frames", shape=(2, 4, 4))
        f.create_group("masks").create_virtual_dataset("m", vlayout)
    return path


def h5_unallocated_data(folder: Path) -> Path:
    """/data declares 3 GiB in chunks none of which is stored."""
    import h5py

    path = folder / "unallocated_data.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 96)
        f.create_dataset(
            "data", shape=(96, 2048, 2048), dtype="f8", chunks=(1, 2048, 2048)
        )
    return path


def h5_unallocated_contiguous(folder: Path) -> Path:
    """/data declares 3 GiB of contiguous storage that was never allocated."""
    import h5py

    path = folder / "unallocated_contiguous.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 96)
        f.create_dataset("data", shape=(96, 2048, 2048), dtype="f8")
    return path


def h5_unallocated_layer(folder: Path) -> Path:
    """A processed layer declares 1 GiB that is not stored (loaded as zeros)."""
    import h5py

    path = folder / "unallocated_layer.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f)
        f.create_group("processed").create_dataset(
            "x", shape=(32, 2048, 2048), dtype="f8", chunks=(1, 2048, 2048)
        )
    return path


def h5_partly_allocated(folder: Path) -> Path:
    """/data has 3 frames declared and only 2 stored (frame 3 would read as zeros)."""
    import h5py

    path = folder / "partly_allocated.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 3)
        ds = f.create_dataset("data", shape=(3, 4, 4), dtype="f8", chunks=(1, 4, 4))
        ds[:2] = 1.0
    return path


def h5_frame_count_bomb(folder: Path) -> Path:
    """/data holds 2 GiB of stored zeros (2 MB on disk); frame metadata lists 2."""
    import h5py

    path = folder / "frame_count_bomb.h5"
    chunk = zlib.compress(bytes(512 * 512 * 8), 9)
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        ds = f.create_dataset(
            "data",
            shape=(1024, 512, 512),
            dtype="f8",
            chunks=(1, 512, 512),
            compression="gzip",
        )
        for i in range(1024):
            ds.id.write_direct_chunk((i, 0, 0), chunk)
    return path


def h5_version_array(folder: Path) -> Path:
    """The ``playnano_format_version`` attribute is a 100-element array."""
    import h5py

    path = folder / "version_array.h5"
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        _h5_good_frames(f)
        f.attrs["playnano_format_version"] = np.arange(100)
    return path


def h5_json_bomb(folder: Path) -> Path:
    """/frame_metadata_json is one 64 MiB string stored as 64 kB of deflate."""
    import h5py

    path = folder / "json_bomb.h5"
    n = 64 << 20
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 2)
        del f["frame_metadata_json"]
        ds = f.create_dataset(
            "frame_metadata_json",
            shape=(1,),
            dtype=f"S{n}",
            chunks=(1,),
            compression="gzip",
        )
        ds.id.write_direct_chunk((0,), zlib.compress(bytes(n), 1))
        _h5_good_frames(f)
    return path


def h5_sparse_mask(folder: Path) -> Path:
    """Not hostile: 68 MiB of mostly-False mask stored ~800 times smaller, as ours are."""
    import h5py

    path = folder / "sparse_mask.h5"
    frame = np.zeros((1024, 1024), bool)
    frame[100:140, 200:260] = True
    shuffle_gzip = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
    with h5py.File(path, "w") as f:
        _h5_bundle_parts(f, 68)
        for name in ("data", "masks/m"):
            ds = f.create_dataset(
                name, shape=(68, 1024, 1024), dtype=bool if "m" in name else "u1",
                chunks=(1, 1024, 1024), **shuffle_gzip,
            )  # fmt: skip
            ds[0] = frame
            chunk = ds.id.read_direct_chunk((0, 0, 0))[1]
            for i in range(1, 68):
                ds.id.write_direct_chunk((i, 0, 0), chunk)
    return path


def h5jpk_huge_unallocated(folder: Path, *, chunked: bool = True) -> Path:
    """A .h5-jpk scan whose channel declares 10**9 frames (24 GB) and stores none."""
    import h5py

    from tests.readers.test_h5jpk import _write_scan

    path = folder / ("unallocated.h5-jpk" if chunked else "unallocated_flat.h5-jpk")
    _write_scan(path, times=False)
    with h5py.File(path, "a") as f:
        channel = f["Measurement_000/Channel_000"]
        del channel["Height"]
        chunks = {"chunks": (6, 1)} if chunked else {}
        channel.create_dataset("Height", shape=(6, 10**9), dtype="<i4", **chunks)
    return path
