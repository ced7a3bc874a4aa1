"""Run playnano 0.5.0's own save and load functions; used by test_playnano_050.py.

Runs under the python of an environment with ``playnano==0.5.0`` (not ours)::

    python driver_050.py write IN_DIR OUT_DIR
        Build a 0.5.0 AFMImageStack from IN_DIR (data.npy, processed__<key>.npy,
        masks__<key>.npy, stack.json with pixel_size_nm, channel, frame_metadata,
        provenance, state_backups) and write OUT_DIR/old.npz, old.h5 and
        old.ome.tif with 0.5.0's save_npz_bundle, save_h5_bundle and
        save_ome_tiff_stack.

    python driver_050.py read OUT_DIR FILE [FILE ...]
        Load each FILE with 0.5.0's loader for its suffix and dump what it got to
        OUT_DIR/<file name>/: data.npy, processed__<key>.npy, masks__<key>.npy and
        meta.json (pixel_size_nm, channel, timestamps, processed and mask keys,
        frame_metadata, provenance, state_backups, dtype).

    python driver_050.py process IN_DIR STEPS_FILE OUT_DIR
        Build a 0.5.0 AFMImageStack from IN_DIR/data.npy (and stack.json), run
        0.5.0's ProcessingPipeline with the steps of STEPS_FILE (a 0.5.0 YAML
        processing file, parsed by 0.5.0) and save OUT_DIR/data.npy and
        OUT_DIR/steps.json (each step's name and 0.5.0's metadata).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np


def write(in_dir: Path, out_dir: Path) -> None:
    """Write the three formats with playnano 0.5.0 from the stack in ``in_dir``."""
    from playnano.afm_stack import AFMImageStack
    from playnano.io.export_data import (
        save_h5_bundle,
        save_npz_bundle,
        save_ome_tiff_stack,
    )

    spec = json.loads((in_dir / "stack.json").read_text())
    stack = AFMImageStack(
        np.load(in_dir / "data.npy"),
        spec["pixel_size_nm"],
        spec["channel"],
        in_dir / "source.asd",
        spec["frame_metadata"],
    )
    for f in sorted(in_dir.glob("processed__*.npy")):
        stack.processed[f.stem.split("__", 1)[1]] = np.load(f)
    for f in sorted(in_dir.glob("masks__*.npy")):
        stack.masks[f.stem.split("__", 1)[1]] = np.load(f)
    stack.provenance = spec["provenance"]
    stack.state_backups = spec["state_backups"]
    out_dir.mkdir(parents=True, exist_ok=True)
    save_npz_bundle(out_dir / "old.npz", stack)
    save_h5_bundle(out_dir / "old.h5", stack)
    save_ome_tiff_stack(out_dir / "old.ome.tif", stack)


def read(out_dir: Path, files: list[Path]) -> None:
    """Load ``files`` with playnano 0.5.0's loaders and dump what they returned."""
    from playnano.io.data_loaders import (
        load_h5_bundle,
        load_npz_bundle,
        load_ome_tiff_stack,
    )

    for path in files:
        name = path.name.lower()
        if name.endswith(".npz"):
            stack = load_npz_bundle(path)
        elif name.endswith(".h5"):
            stack = load_h5_bundle(path)
        else:
            stack = load_ome_tiff_stack(path)
        dump = out_dir / path.name
        dump.mkdir(parents=True, exist_ok=True)
        np.save(dump / "data.npy", stack.data)
        for key, arr in stack.processed.items():
            np.save(dump / f"processed__{key}.npy", arr)
        for key, arr in stack.masks.items():
            np.save(dump / f"masks__{key}.npy", arr)
        meta = {
            "pixel_size_nm": float(stack.pixel_size_nm),
            "channel": stack.channel,
            "timestamps": [md.get("timestamp") for md in stack.frame_metadata],
            "processed": list(stack.processed),
            "masks": list(stack.masks),
            "frame_metadata": stack.frame_metadata,
            "provenance": stack.provenance,
            "state_backups": stack.state_backups,
            "dtype": str(stack.data.dtype),
        }
        (dump / "meta.json").write_text(json.dumps(meta, default=str))


def process(in_dir: Path, steps_file: Path, out_dir: Path) -> None:
    """Run 0.5.0's pipeline with the steps of ``steps_file`` on IN_DIR's data."""
    from playnano.cli.utils import parse_processing_file

    from playnano.afm_stack import AFMImageStack
    from playnano.processing.pipeline import ProcessingPipeline

    spec = json.loads((in_dir / "stack.json").read_text())
    data = np.load(in_dir / "data.npy")
    stack = AFMImageStack(
        data,
        spec["pixel_size_nm"],
        spec["channel"],
        in_dir / "source.asd",
        spec["frame_metadata"],
    )
    pipeline = ProcessingPipeline(stack)
    for name, kwargs in parse_processing_file(str(steps_file)):
        pipeline.add_filter(name, **kwargs)
    out = pipeline.run()
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / "data.npy", out)
    steps = [
        {"name": rec.get("name"), "metadata": rec.get("metadata")}
        for rec in stack.provenance["processing"]["steps"]
    ]
    (out_dir / "steps.json").write_text(json.dumps(steps, default=_plain))


def _plain(obj: object) -> object:
    """JSON form of numpy values in 0.5.0's step metadata."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


def main(argv: list[str]) -> int:
    """Dispatch ``write``, ``read`` or ``process``."""
    if len(argv) >= 3 and argv[0] == "write":
        write(Path(argv[1]), Path(argv[2]))
        return 0
    if len(argv) >= 3 and argv[0] == "read":
        read(Path(argv[1]), [Path(a) for a in argv[2:]])
        return 0
    if len(argv) == 4 and argv[0] == "process":
        process(Path(argv[1]), Path(argv[2]), Path(argv[3]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
