"""Open playnano's ``.topostats`` files with TopoStats 2.4.2; used by test_topostats.py.

Runs under the python of an environment with ``topostats==2.4.2`` (not ours)::

    python driver_topostats.py load OUT_DIR FILE [FILE ...]
        TopoStats' loader (``topostats.io.LoadScans(...).get_data()``) on the
        files; OUT_DIR/<name>.npy is each image it will process and
        OUT_DIR/loaded.json its pixel size and filename.
    python driver_topostats.py process FOLDER OUT_DIR
        ``topostats process`` over FOLDER's ``.topostats`` files (filter, grains
        and grain statistics; the tracing stages and plots off, grain thresholds
        for HS-AFM frames of a few nm), then prints the image statistics as JSON.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np


def load(out: Path, files: list[str]) -> None:
    """TopoStats' loader on ``files``; dump what it would process."""
    import topostats
    from topostats.io import LoadScans, read_yaml

    config = read_yaml(resources.files(topostats) / "default_config.yaml")
    scans = LoadScans([Path(f) for f in files], config)
    scans.get_data()
    found = {}
    for key, obj in scans.img_dict.items():
        np.save(out / f"{key}.npy", np.asarray(obj.image_original))
        found[key] = {
            "pixel_to_nm_scaling": float(obj.pixel_to_nm_scaling),
            "filename": obj.filename,
            "image_is_none": obj.image is None,
            "flattened": np.asarray(obj.image).tolist()
            if obj.image is not None
            else None,
        }
    (out / "loaded.json").write_text(json.dumps(found))


def process(folder: Path, out: Path) -> None:
    """One real ``topostats process`` run over ``folder``."""
    import topostats
    import yaml
    from topostats.io import read_yaml

    config = read_yaml(resources.files(topostats) / "default_config.yaml")
    config["grains"]["threshold_std_dev"] = [-10, 0.5]
    config["grains"]["area_thresholds"] = [[None, None], [5, None]]
    config["grains"]["remove_edge_intersecting_grains"] = False
    config["plotting"]["run"] = False
    for stage in (
        "disordered_tracing",
        "nodestats",
        "ordered_tracing",
        "splining",
        "curvature",
    ):
        config[stage]["run"] = False
    cfg = out / "config.yaml"
    out.mkdir(parents=True, exist_ok=True)
    cfg.write_text(yaml.safe_dump(config))
    exe = Path(sys.executable).with_name("topostats")
    args = [str(exe), "-c", str(cfg), "-b", str(folder), "-o", str(out / "results")]
    args += ["-f", ".topostats", "-j", "2", "process"]
    run = subprocess.run(args, capture_output=True, text=True, timeout=900)
    if run.returncode != 0:
        sys.stderr.write(run.stdout[-3000:] + run.stderr[-5000:])
        raise SystemExit(run.returncode)
    with open(out / "results" / "image_statistics.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    written = sorted(
        p.name for p in (out / "results" / "processed").glob("*.topostats")
    )
    print(json.dumps({"image_statistics": rows, "topostats_files": written}))


def main(argv: list[str]) -> int:
    """Run one of the two commands."""
    if argv[0] == "load":
        load(Path(argv[1]), argv[2:])
    else:
        process(Path(argv[1]), Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
