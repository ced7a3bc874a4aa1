"""TopoStats' ``.topostats`` layout as playnano writes it: one file per frame.

An export is a folder ``<base>_topostats/`` holding, for each frame ``i``,
``<base>_<i>.topostats`` (TopoStats names the frames of a split video
``<name>_<i>``), and the index ``<base>.playnano.json``. Each frame file is an HDF5
file with the datasets TopoStats 2.4.2 writes and its loader reads::

    image                   the frame as exported, heights in nm (own dtype)
    image_original          the frame before processing (the raw frame); the
                            exported frame when there is no raw frame to match
    pixel_to_nm_scaling     float64, nm per pixel
    filename                the frame's name: the file name without ``.topostats``
                            and with dots as ``_`` (bytes); TopoStats names its
                            outputs from it and cuts it at its last dot
    img_path                the instrument file the frame came from (bytes)
    topostats_version       "2", what TopoStats 2.4.2 itself writes (bytes)
    grain_masks/<key>       each mask of the frame, boolean (not with raw=True)
    playnano                JSON (bytes): format version, frame index, frame
                            metadata, the index file's name

TopoStats reads ``image_original`` when it processes (``topostats process`` and
``filter`` flatten it again) and ``image`` when it starts from grains
(``topostats grains``); it ignores ``grain_masks`` and ``playnano`` in files of its
current version, and the index entirely. AFMReader's ``load_topostats`` returns
every dataset. The index holds what only a video has: the frame order, times and
metadata, the channel, the masks and the provenance. Only this module knows these
names; it imports nothing heavy.
"""

from __future__ import annotations

import re

#: The export's folder suffix: ``<base>[_filtered]_topostats``.
FOLDER_SUFFIX = "_topostats"
FILE_SUFFIX = ".topostats"
INDEX_SUFFIX = ".playnano.json"
#: Written in every index and frame record; refused when newer than this.
FORMAT_VERSION = 1
VERSION_FIELD = "playnano_format_version"
FORMAT_NAME = "playnano-topostats"

IMAGE = "image"
IMAGE_ORIGINAL = "image_original"
PIXEL_TO_NM = "pixel_to_nm_scaling"
FILENAME = "filename"
IMG_PATH = "img_path"
#: TopoStats 2.4 renamed ``topostats_file_version`` (<= 0.3) to this key; its
#: writer stores its release number, "2" for 2.4.2 (TopoStats ``__release__``).
TOPOSTATS_VERSION_KEY = "topostats_version"
TOPOSTATS_VERSION = "2"
GRAIN_MASKS = "grain_masks"
PLAYNANO = "playnano"
#: Datasets every frame file has (TopoStats' loader needs them).
REQUIRED = (IMAGE, IMAGE_ORIGINAL, PIXEL_TO_NM, FILENAME, IMG_PATH)

_FRAME = re.compile(r"^(?P<stem>.*)_(?P<index>\d+)\.topostats$", re.IGNORECASE)


def frame_name(stem: str, index: int) -> str:
    """``<stem>_<index>.topostats``: TopoStats' name for frame ``index``."""
    return f"{stem}_{index}{FILE_SUFFIX}"


def topostats_filename(stem: str, index: int) -> str:
    """The ``filename`` of frame ``index``: TopoStats saves ``<filename>.topostats``
    and puts plots in a folder ``<filename>``, so it has no dot to cut at and is
    not the frame file's own name (that would be a folder and a file at once)."""
    return f"{stem}_{index}".replace(".", "_")


def index_name(stem: str) -> str:
    """``<stem>.playnano.json``: the set's index."""
    return f"{stem}{INDEX_SUFFIX}"


def frame_number(name: str) -> tuple[str, int] | None:
    """``(stem, index)`` of a frame file name, or ``None``."""
    m = _FRAME.match(name)
    return (m["stem"], int(m["index"])) if m else None
