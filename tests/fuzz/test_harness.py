"""The fuzz harness itself: edits, recipes of real seeds and structure-aware finds."""

from __future__ import annotations

import json
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz import corpus, mutate, seeds


def test_byte_ops_apply_in_order() -> None:
    ops = [
        {"op": "put", "at": 1, "hex": "ffee"},
        {"op": "ins", "at": 0, "hex": "01"},
        {"op": "del", "at": 4, "n": 2},
        {"op": "cut", "size": 5},
    ]
    assert mutate.apply(b"abcdefgh", ops) == b"\x01a\xff\xeef"


def test_a_real_seed_recipe_replays_its_edits(afm_data: Path, tmp_path: Path) -> None:
    entry = tmp_path / "corpus" / "asd-test.json"
    entry.parent.mkdir()
    ops = [{"op": "put", "at": 4, "hex": "00000000"}, {"op": "cut", "size": 300}]
    recipe = {"seed": "real:asd/202110200146.asd", "member": None, "ops": ops}
    entry.write_text(json.dumps(recipe))
    case = corpus.materialise(entry, tmp_path / "work")
    original = (afm_data / "asd" / "202110200146.asd").read_bytes()
    assert case is not None and case.name == "asd-test.asd"
    assert case.read_bytes() == original[:4] + b"\0" * 4 + original[8:300]


def test_a_folder_recipe_edits_one_frame(afm_data: Path, tmp_path: Path) -> None:
    entry = tmp_path / "jpk-test.json"
    member = "save-2023.02.16-12.08.49.026.jpk"
    recipe = {"seed": "real:jpk_folder/streptavidin_hs", "member": member}
    entry.write_text(json.dumps({**recipe, "ops": [{"op": "cut", "size": 100}]}))
    case = corpus.materialise(entry, tmp_path / "work")
    assert case is not None and case.is_dir()
    frames = {p.name: p.read_bytes() for p in case.iterdir()}
    source = afm_data / "jpk_folder" / "streptavidin_hs"
    assert sorted(frames) == sorted(p.name for p in source.iterdir())
    for name, data in frames.items():
        full = (source / name).read_bytes()
        assert data == (full[:100] if name == member else full)


def test_tiff_ifd_walk_finds_every_page(tmp_path: Path) -> None:
    import tifffile

    path = tmp_path / "t.tif"
    tifffile.imwrite(path, np.zeros((3, 4, 5), np.uint8), photometric="minisblack")
    with tifffile.TiffFile(path) as tif:
        offsets = [page.offset for page in tif.pages]
    order, ifds = mutate.tiff_ifds(path.read_bytes())
    assert order == "<" and [at for at, _ in ifds] == offsets


def test_ome_size_edit_changes_the_size_tifffile_sees(tmp_path: Path) -> None:
    import tifffile

    src = tmp_path / "s.ome.tif"
    tifffile.imwrite(src, np.zeros((2, 4, 5), np.uint8), ome=True)
    data = src.read_bytes()
    with tifffile.TiffFile(src) as tif:
        before = tif.pages[0].description
    for seed in range(40):
        ops = mutate.ome_xml(data, random.Random(seed))
        out = mutate.apply(data, ops)
        if out != data:
            with tifffile.TiffFile(_write(tmp_path / f"o{seed}.ome.tif", out)) as tif:
                xml = tif.pages[0].description
            assert xml != before
            return
    pytest.fail("no OME size was edited in 40 tries")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_asd_edits_stay_in_the_headers() -> None:
    header = struct.pack("<ii", 1, 120) + b"\x11" * 112
    data = header + b"\x22" * 1000
    for seed in range(50):
        [op] = mutate.asd(data, random.Random(seed))
        assert op["at"] < 120 + 32


def test_generated_seeds_cover_every_family(tmp_path: Path) -> None:
    made, problems = seeds.generated_seeds(tmp_path)
    assert not problems
    families = {s.family for s in made}
    assert families == {
        "asd",
        "h5",
        "h5-jpk",
        "jpk",
        "nanoscope",
        "npz",
        "ome-tiff",
        "tiff",
    }
    assert all(s.path.stat().st_size < corpus.MAX_BYTES for s in made)
