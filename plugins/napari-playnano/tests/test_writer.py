"""napari's "Save layers" through playnano's exporters (``viewer.layers.save``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from napari_playnano._writer import write_by_suffix

import playnano


@pytest.fixture
def viewer(make_napari_viewer, afm: Path):
    v = make_napari_viewer()
    v.open(str(afm / "h5-jpk" / "sample_0.h5-jpk"), plugin="napari-playnano")
    return v


@pytest.mark.parametrize("name", ["v.npz", "v.h5", "v.ome.tif", "v.csv"])
def test_save_layers_writes_every_installed_format(
    viewer, afm: Path, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    written = viewer.layers.save(str(out), plugin="napari-playnano")
    assert [Path(p) for p in written] == [out]
    back = playnano.load(out)
    source = playnano.load(afm / "h5-jpk" / "sample_0.h5-jpk")
    np.testing.assert_array_equal(back.data, source.data)
    assert back.pixel_size_nm == source.pixel_size_nm
    if not name.endswith(".csv"):  # the CSV has no provenance
        command = back.provenance["command"]
        assert command["origin"] == "napari" and command["via"] == "save layers"
        assert back.frame_metadata == source.frame_metadata


def test_save_as_gif_is_the_gif_exporters_file(viewer, tmp_path: Path) -> None:
    out = tmp_path / "v.gif"
    viewer.layers.save(str(out), plugin="napari-playnano")
    stack = viewer.layers[0].metadata["playnano"]["stack"]
    [again] = playnano.export(stack, tmp_path / "again.gif")
    assert out.read_bytes() == again.read_bytes()


def test_an_edited_layer_is_written_with_its_own_scale(tmp_path: Path) -> None:
    data = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    attrs = {"name": "edited", "scale": (0.25, 2.0, 2.0), "metadata": {}}
    [path] = write_by_suffix(str(tmp_path / "e.npz"), data, attrs)
    back = playnano.load(path)
    np.testing.assert_array_equal(back.data, data)
    assert back.data.dtype == np.float32
    assert back.pixel_size_nm == 2.0
    assert back.get_frame_times() == [0.0, 0.25]


def test_an_existing_file_is_not_replaced(viewer, tmp_path: Path) -> None:
    out = tmp_path / "v.npz"
    out.write_bytes(b"mine")
    data, attrs = viewer.layers[0].data, viewer.layers[0]._get_state()
    assert write_by_suffix(str(out), data, attrs) == []
    assert out.read_bytes() == b"mine"
    assert [p.name for p in tmp_path.iterdir()] == ["v.npz"]


def test_save_dialog_offers_every_installed_format(viewer) -> None:
    from napari.plugins._npe2 import file_extensions_string_for_layers

    from playnano.plugins.registry import exporters

    text, _ = file_extensions_string_for_layers([viewer.layers[0]])
    for entry in exporters().entries():
        if not entry.obj.suffix.startswith("."):
            # a folder named by a suffix (png's "<base>_frames"): napari's dialog
            # matches file extensions only; the dock widget offers it instead
            assert f"*{entry.obj.suffix}" not in text
            continue
        assert f"*{entry.obj.suffix}" in text, (entry.name, text)
    assert "(csv)" in text  # the example plugin's writer, by name
