"""Open playnano's exports with AFMReader 0.0.7; used by test_afmreader.py.

Runs under the python of an environment with ``afmreader==0.0.7`` (not ours)::

    python driver_afmreader.py gwy FILE.gwy TITLE OUT.npz
        ``AFMReader.gwy.load_gwy(FILE, TITLE)``; also the channel titles AFMReader
        finds (``gwy_get_channels``).
    python driver_afmreader.py topostats FILE.topostats OUT.npz
        ``AFMReader.topostats.load_topostats(FILE)``: every array and the scalars.

OUT.npz holds ``image`` and ``pixel_to_nm``; OUT.json the rest.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> int:
    """Load one file the way an AFMReader user does and dump what comes back."""
    from loguru import logger

    logger.remove()  # AFMReader logs every component at DEBUG
    kind, path, *rest = argv
    if kind == "gwy":
        from AFMReader.gwy import gwy_get_channels, gwy_read_object, load_gwy

        title, out = rest
        image, px = load_gwy(Path(path), title)
        tree: dict = {}
        with open(path, "rb") as fh:
            fh.read(4)
            gwy_read_object(fh, tree)
        extra = {"titles": sorted(gwy_get_channels(tree), key=str)}
    else:
        from AFMReader.topostats import load_topostats

        (out,) = rest
        data = load_topostats(Path(path))
        image, px = data["image"], data["pixel_to_nm_scaling"]
        np.save(Path(out).with_suffix(".original.npy"), data["image_original"])
        masks = data.get("grain_masks") or {}
        np.savez(Path(out).with_suffix(".masks.npz"), **masks)
        extra = {
            "keys": sorted(data),
            "img_path": str(data["img_path"]),
            "img_path_type": type(data["img_path"]).__name__,
            "filename": data["filename"],
            "topostats_version": str(data["topostats_version"]),
            "playnano": data.get("playnano"),
        }
    np.savez(out, image=np.asarray(image), pixel_to_nm=np.float64(px))
    Path(out).with_suffix(".json").write_text(json.dumps(extra))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
