"""``playnano info --check`` for TopoStats sets: every departure from the layout.

Checks what TopoStats' loader and AFMReader need of each frame file, and that the
index and the files agree. Frame images are read (they are small: one frame each).
"""

from __future__ import annotations

from pathlib import Path

from playnano.errors import ReadError
from playnano.formats.topostats import layout
from playnano.formats.topostats.files import dataset, find_index, read_frame, read_index


def _frame_problems(path: Path, index: dict) -> list[str]:
    from playnano.readers.guarded.hdf5 import open_hdf5

    out = []
    try:
        with open_hdf5(path) as f:
            missing = [
                k
                for k in (*layout.REQUIRED, layout.TOPOSTATS_VERSION_KEY)
                if k not in f
            ]
            out += [f"{path.name}: no {k}" for k in missing]
            # every dataset read here is checked first: a virtual or unallocated
            # one is refused in a line, not handed to HDF5 (which can crash on it)
            texts = {
                key: dataset(f, key, path, f"/{key}")
                for key in (
                    layout.FILENAME,
                    layout.IMG_PATH,
                    layout.TOPOSTATS_VERSION_KEY,
                )
                if key in f
            }
            for key, ds in texts.items():
                if ds.dtype != object:
                    out.append(f"{path.name}: {key} is not variable-length bytes")
            version = texts.get(layout.TOPOSTATS_VERSION_KEY)
            if version is not None and version[()] != layout.TOPOSTATS_VERSION.encode():
                out.append(f"{path.name}: topostats_version is {version[()]!r}")
            if "topostats_file_version" in f:
                out.append(
                    f"{path.name}: topostats_file_version makes TopoStats drop data"
                )
            parsed = layout.frame_number(path.name)
            want = layout.topostats_filename(*parsed) if parsed else None
            name = texts.get(layout.FILENAME)
            if name is not None and want and name[()] != want.encode():
                out.append(f"{path.name}: filename is not {want!r}")
    except ReadError as exc:  # the guarded opening's one line names the file
        return [str(exc)]
    except OSError as exc:
        return [f"{path.name}: not an HDF5 file ({exc})"]
    if out:
        return out
    frame = read_frame(path, (layout.IMAGE, layout.IMAGE_ORIGINAL))
    if frame[layout.IMAGE].shape != frame[layout.IMAGE_ORIGINAL].shape:
        out.append(f"{path.name}: image and image_original differ in shape")
    for key in index.get("masks") or []:
        mask = frame[layout.GRAIN_MASKS].get(key)
        if (
            mask is None
            or mask.shape != frame[layout.IMAGE].shape
            or mask.dtype != bool
        ):
            out.append(
                f"{path.name}: grain_masks/{key} is missing or not a boolean image"
            )
    return out


def check(path: Path) -> list[str]:
    """Every way the set at ``path`` (a folder, or one frame file of a set)
    departs from the layout, one line each."""
    path = Path(path)
    if path.is_file():  # one frame file: its own layout, with its set's index
        beside = find_index(path.parent)
        try:
            index = read_index(beside) if beside is not None else {}
        except ReadError:
            index = {}  # the set's check reports the index
        try:
            return _frame_problems(path, index)
        except ReadError as exc:
            return [str(exc).removeprefix(f"{path.parent}/")]
    index_path = find_index(path) if path.is_dir() else None
    if index_path is None:
        return [f"no {layout.INDEX_SUFFIX} index: not a set playnano wrote"]
    try:
        index = read_index(index_path)
    except ReadError as exc:
        return [str(exc).removeprefix(f"{index_path}: ")]
    listed = index.get("frames")
    frames: list = listed if isinstance(listed, list) else []
    names = [f.get("file") for f in frames if isinstance(f, dict)]
    out = []
    if len(names) != len(index.get("frame_metadata") or []):
        out.append("index lists a different number of frames and frame metadata")
    on_disk = sorted(p.name for p in path.glob("*" + layout.FILE_SUFFIX))
    if sorted(n for n in names if isinstance(n, str)) != on_disk:
        out.append("index frames and the folder's .topostats files differ")
    for name in names:
        if isinstance(name, str) and (path / name).is_file():
            try:
                out += _frame_problems(path / name, index)
            except ReadError as exc:
                out.append(str(exc).removeprefix(f"{path}/"))
    return out
