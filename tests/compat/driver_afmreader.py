"""Read ``.asd`` files with AFMReader 0.0.7; used by test_afmreader_asd.py.

Runs under the python of an environment with ``afmreader==0.0.7`` (not ours)::

    python driver_afmreader.py OUT_DIR CHANNEL FILE [FILE ...]
        Load CHANNEL of each FILE with ``AFMReader.asd.load_asd`` and write
        OUT_DIR/<file name>.npy (the frames as AFMReader returns them) and
        OUT_DIR/<file name>.json (pixel size, frame count, file version).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def main(argv: list[str]) -> int:
    """Dump AFMReader's reading of every file named on the command line."""
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    from AFMReader import asd
    from loguru import logger

    logger.remove()  # AFMReader logs every header field at INFO
    out, channel = Path(argv[0]), argv[1]
    out.mkdir(parents=True, exist_ok=True)
    for name in argv[2:]:
        path = Path(name)
        frames, pixel_nm, header = asd.load_asd(path, channel)
        np.save(out / f"{path.name}.npy", np.asarray(frames))
        meta = {"pixel_size_nm": float(pixel_nm), "num_frames": header["num_frames"]}
        (out / f"{path.name}.json").write_text(json.dumps(meta))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
