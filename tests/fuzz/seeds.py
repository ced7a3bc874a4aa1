"""Seeds for every reader family: real instrument files and generated files.

Real seeds are read from ``$PLAYNANO_TEST_DATA/afm`` at run time (never copied into
the repository); a case made from one is saved as a recipe (seed id + edits). Generated
seeds are small files written here by playnano's own exporters and by the byte builders
of the reader tests; a case made from one is saved as the whole (small) file.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """``$PLAYNANO_TEST_DATA/afm``, default ``../shared/data/afm`` beside the repo."""
    root = Path(os.environ.get("PLAYNANO_TEST_DATA", REPO.parent / "shared" / "data"))
    return root / "afm"


@dataclass(frozen=True)
class Seed:
    """One seed: a file, or a folder whose ``member`` file is the one mutated."""

    id: str  # "real:<path under afm/>" or "gen:<name>"
    family: str
    path: Path
    member: str | None = None  # for folder seeds: the frame file mutated

    @property
    def real(self) -> bool:
        return self.id.startswith("real")

    @property
    def target(self) -> Path:
        """The file the mutations edit."""
        return self.path / self.member if self.member else self.path


# (id under afm/, family, member for folders)
REAL = (
    ("asd/asd_sample_0.asd", "asd", None),
    ("asd/202110200146.asd", "asd", None),
    ("h5-jpk/sample_0.h5-jpk", "h5-jpk", None),
    ("jpk_folder/streptavidin_hs", "jpk", "save-2023.02.16-12.08.49.026.jpk"),
    ("jpk_folder/streptavidin_hs/save-2023.02.16-12.08.46.436.jpk", "jpk", None),
    ("spm/old_bruker.002", "nanoscope", None),
    ("spm/bruker_data_header.001", "nanoscope", None),
)
#: A real folder seed built from copies: the Nanoscope frame twice, as a video.
SPM_FOLDER = "spm/old_bruker.002*2"


def real_seed(seed_id: str, work: Path) -> Seed | None:
    """The real seed ``seed_id`` ("real:<path>"), or None when the data is absent."""
    rel = seed_id.removeprefix("real:")
    root = data_root()
    if rel == SPM_FOLDER:
        src = root / "spm" / "old_bruker.002"
        if not src.is_file():
            return None
        folder = work / "spm_video"
        if not folder.is_dir():
            folder.mkdir(parents=True)
            for name in ("scan.001", "scan.002"):
                os.symlink(src, folder / name)
        return Seed(seed_id, "nanoscope", folder, "scan.002")
    for path, family, member in REAL:
        if path == rel and (root / path).exists():
            return Seed(seed_id, family, root / path, member)
    return None


def real_seeds(work: Path) -> list[Seed]:
    """Every real seed present on this machine."""
    ids = [f"real:{p}" for p, _, _ in REAL] + [f"real:{SPM_FOLDER}"]
    return [s for s in (real_seed(i, work) for i in ids) if s is not None]


# ------------------------------------------------------------------ generated
def _bundles(out: Path) -> list[tuple[str, str, Path]]:
    import playnano
    from playnano.testing import make_sample_stack

    stack = make_sample_stack(n_frames=3, shape=(8, 11))
    made = []
    for family, fmt, name in (
        ("npz", "npz", "bundle.npz"),
        ("h5", "h5", "bundle.h5"),
        ("ome-tiff", "ome-tif", "bundle.ome.tif"),
    ):
        [path] = playnano.export(stack, out / name, fmt)
        made.append((f"gen:{name}", family, path))
    # the same NPZ stored, not deflated, so byte edits reach the .npy headers
    stored = out / "bundle-stored.npz"
    with zipfile.ZipFile(made[0][2]) as src, zipfile.ZipFile(stored, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    made.append(("gen:bundle-stored.npz", "npz", stored))
    return made


def _tiffs(out: Path) -> list[tuple[str, str, Path]]:
    import tifffile

    data = np.arange(3 * 6 * 7, dtype=np.int16).reshape(3, 6, 7)
    plain, imagej = out / "plain.tif", out / "imagej.tif"
    tifffile.imwrite(
        plain, data, photometric="minisblack", resolution=(2.0, 2.0), resolutionunit=5
    )
    tifffile.imwrite(
        imagej,
        data.astype(np.float32),
        imagej=True,
        resolution=(0.5, 0.5),
        metadata={"unit": "nm", "finterval": 0.25, "axes": "TYX"},
    )
    return [("gen:plain.tif", "tiff", plain), ("gen:imagej.tif", "tiff", imagej)]


def _asd(out: Path) -> list[tuple[str, str, Path]]:
    from tests.readers.test_asd import build_asd

    rng = np.random.default_rng(0)
    levels = rng.integers(0, 4096, (2, 4, 5)).astype(np.int16)
    made = []
    for name, version, layout, chans in (
        ("v0-libasd.asd", 0, "libasd", {"TP": levels}),
        ("v0-afmreader.asd", 0, "afmreader", {"TP": levels, "ER": levels[::-1]}),
        ("v1.asd", 1, "libasd", {"TP": levels, "PH": levels}),
        ("v2.asd", 2, "libasd", {"TP": levels}),
    ):
        path = out / name
        path.write_bytes(build_asd(version, chans, layout=layout))
        made.append((f"gen:{name}", "asd", path))
    return made


def _instrument(out: Path) -> list[tuple[str, str, Path]]:
    from tests.readers.test_h5jpk import _write_scan
    from tests.readers.test_jpk_folder import _write_jpk
    from tests.readers.test_spm import nanoscope_v9

    made = []
    path = out / "scan.h5-jpk"
    _write_scan(path, times=True)
    made.append(("gen:scan.h5-jpk", "h5-jpk", path))
    path = out / "frame.jpk"
    _write_jpk(path, np.arange(30, dtype=np.int32).reshape(5, 6))
    made.append(("gen:frame.jpk", "jpk", path))
    path = out / "frame_v9.spm"
    raw = np.arange(12, dtype=np.int32).reshape(3, 4) * 1000
    path.write_bytes(nanoscope_v9(raw, 2.5))
    made.append(("gen:frame_v9.spm", "nanoscope", path))
    return made


BUILDERS: tuple[Callable[[Path], list[tuple[str, str, Path]]], ...] = (
    _bundles,
    _tiffs,
    _asd,
    _instrument,
)


def generated_seeds(out: Path) -> tuple[list[Seed], list[str]]:
    """Write the generated seeds into ``out``; also return why any builder failed."""
    out.mkdir(parents=True, exist_ok=True)
    seeds, problems = [], []
    for build in BUILDERS:
        try:
            seeds += [Seed(i, fam, p) for i, fam, p in build(out)]
        except Exception as exc:  # (report it, fuzz the rest)
            problems.append(f"{build.__name__}: {type(exc).__name__}: {exc}")
    return seeds, problems


def materialise(seed: Seed, data: bytes, case_dir: Path, name: str) -> Path:
    """Write a case: the mutated bytes under the seed's name (or in a folder copy)."""
    if case_dir.exists():
        shutil.rmtree(case_dir)
    case_dir.mkdir(parents=True)
    suffix = (
        "".join(seed.target.suffixes[-2:])
        if seed.target.name.endswith((".ome.tif", ".ome.tiff"))
        else seed.target.suffix
    )
    if seed.member is None:
        path = case_dir / f"{name}{suffix}"
        path.write_bytes(data)
        return path
    folder = case_dir / name
    folder.mkdir()
    for frame in sorted(seed.path.iterdir()):
        if frame.name != seed.member:
            os.symlink(frame.resolve(), folder / frame.name)
    (folder / seed.member).write_bytes(data)
    return folder
