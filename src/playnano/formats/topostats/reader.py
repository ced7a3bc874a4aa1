"""The TopoStats reader: playnano's ``.topostats`` sets, and TopoStats' own files.

A folder playnano wrote (its ``<base>.playnano.json`` index beside the frame files)
comes back whole and bit for bit: the exported frames, the raw frames as the
``raw`` layer (when ``image_original`` holds them), every mask, frame metadata,
pixel size, channel and provenance.

Any other ``.topostats`` file (TopoStats' own), or a folder of them, is read as
frames of one channel: ``image`` (TopoStats' flattened image; the default when every
file has it) or ``image_original``, files in the order of the number ending their
names. All must have one size and one ``pixel_to_nm_scaling``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.errors import ReadError
from playnano.formats import _reading
from playnano.formats.topostats import layout
from playnano.formats.topostats.files import (
    find_index,
    frame_files,
    read_frame,
    read_index,
)
from playnano.plugins import ReaderBase, hookimpl
from playnano.readers.common import pick_channel, set_source_details

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def read_set(folder: Path, index_path: Path) -> AFMImageStack:
    """A set playnano wrote, from its index and frame files."""
    doc = read_index(index_path)
    frames = doc.get("frames")
    if not isinstance(frames, list) or not frames:
        raise ReadError(f"{index_path}: lists no frames")
    with_raw = doc.get("image_original") == "raw" and not doc.get("raw")
    keys = (layout.IMAGE, layout.IMAGE_ORIGINAL) if with_raw else (layout.IMAGE,)
    images, originals = [], []
    masks: dict[str, list[np.ndarray]] = {str(k): [] for k in doc.get("masks") or []}
    for entry in frames:
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or Path(name).name != name:
            raise ReadError(f"{index_path}: frame entry {entry!r} names no file here")
        frame = read_frame(_reading.existing(folder / name), keys)
        images.append(frame[layout.IMAGE])
        if with_raw:
            originals.append(frame[layout.IMAGE_ORIGINAL])
        for key, arrs in masks.items():
            if key not in frame[layout.GRAIN_MASKS]:
                raise ReadError(f"{folder / name}: mask {key!r} is missing")
            arrs.append(frame[layout.GRAIN_MASKS][key])
    shapes = {a.shape for a in images}
    if len(shapes) != 1:
        raise ReadError(f"{folder}: frames differ in size ({sorted(shapes)})")
    data = np.stack(images).astype(str(doc.get("dtype", "float64")), copy=False)
    layers = {"raw": np.stack(originals)} if with_raw else {}
    return _reading.build_stack(
        folder,
        data,
        doc.get("pixel_size_nm"),
        str(doc.get("channel")),
        doc.get("frame_metadata"),
        doc.get("provenance"),
        state_backups=doc.get("state_backups") or None,
        layers=layers,
        masks={k: np.stack(v).astype(bool) for k, v in masks.items()},
    )


def read_foreign(path: Path, files: list[Path], channel: str | None) -> AFMImageStack:
    """Frames of TopoStats' own files: ``image`` or ``image_original``."""
    from playnano.afm_stack import AFMImageStack

    options = [layout.IMAGE, layout.IMAGE_ORIGINAL]
    key = pick_channel(path, channel, options, layout.IMAGE)
    frames = [read_frame(f, (key,)) for f in files]
    sizes = {float(np.asarray(fr[layout.PIXEL_TO_NM])) for fr in frames}
    shapes = {fr[key].shape for fr in frames}
    if len(sizes) != 1 or len(shapes) != 1:
        raise ReadError(
            f"{path}: the files differ in size or pixel_to_nm_scaling; read them one at a time"
        )
    data = np.stack([fr[key] for fr in frames]).astype(np.float64, copy=False)
    stack = AFMImageStack(data, sizes.pop(), key, path, None)
    set_source_details(stack, files=[f.name for f in files])
    return stack


class TopostatsReader(ReaderBase):
    """Reads ``.topostats`` files and folders (playnano's sets, TopoStats' files)."""

    name = "topostats"
    aliases = ()
    suffixes = (layout.FILE_SUFFIX,)
    reads_folders = True
    supports_channels = True
    supports_check = True
    description = "TopoStats .topostats: playnano's frame sets in full; others' images"
    requires = ("h5py",)
    install_hint = "pip install h5py"

    def can_read(self, path: Path) -> bool:
        """A ``.topostats`` HDF5 file, or a folder holding some."""
        path = Path(path)
        if path.is_dir():
            return bool(frame_files(path))
        return (
            path.is_file()
            and self.has_suffix(path)
            and _reading.starts_with(path, HDF5_MAGIC)
        )

    def channels(self, path: Path) -> list[str]:
        """The set's channel, or TopoStats' two images."""
        path = Path(path)
        index = find_index(path) if path.is_dir() else None
        if index is not None:
            return [str(read_index(index).get("channel"))]
        return [layout.IMAGE, layout.IMAGE_ORIGINAL]

    def read(self, path: Path, channel: str | None = None) -> AFMImageStack:
        """Read a folder (a set, or TopoStats' files) or one ``.topostats`` file."""
        path = Path(path)
        if not path.exists():
            raise ReadError(f"{path}: no such file or folder")
        index = find_index(path) if path.is_dir() else None
        if index is None:
            files = frame_files(path) if path.is_dir() else [path]
            if not files:
                raise ReadError(f"{path}: holds no .topostats files")
            return read_foreign(path, files, channel)
        stack = read_set(path, index)
        if channel is not None:
            pick_channel(path, channel, [stack.channel], stack.channel)
        previous = stack.provenance.get("source") or {}
        stack.provenance["source"] = {"previous_source": previous} if previous else {}
        return stack

    def check(self, path: Path) -> list[str]:
        """Problems against playnano's TopoStats layout, one line each."""
        from playnano.formats.topostats.check import check

        return check(Path(path))


@hookimpl
def register_readers(register: Any) -> None:
    """Register the TopoStats reader."""
    register(TopostatsReader())
