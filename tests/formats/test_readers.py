"""Bundle readers: one entry point per format, suffix routing and a round trip."""

from __future__ import annotations

import numpy as np
import pytest

from playnano.errors import ChannelError
from playnano.plugins.registry import readers
from playnano.readers import load, reader_for

BUNDLES = [
    ("npz-bundle", ".npz", ()),
    ("h5-bundle", ".h5", ("h5py",)),
    ("ome-tiff", ".ome.tif", ("tifffile",)),
]
PLUGINS = {
    "npz-bundle": ("npz_bundle", "playnano.formats.npz.reader"),
    "h5-bundle": ("h5_bundle", "playnano.formats.h5.reader"),
    "ome-tiff": ("ome_tiff", "playnano.formats.ometiff.reader"),
}


@pytest.mark.parametrize(("name", "suffix", "requires"), BUNDLES)
def test_registered_with_suffix_and_requirements(name, suffix, requires):
    entry = readers().resolve(name)
    assert entry.plugin.builtin
    assert (entry.plugin.name, entry.plugin.target) == PLUGINS[name]
    assert suffix in entry.obj.suffixes
    assert tuple(entry.obj.requires) == requires
    assert not entry.obj.reads_folders


@pytest.mark.parametrize(("name", "suffix", "requires"), BUNDLES)
def test_suffix_routes_to_the_bundle_reader(tmp_path, name, suffix, requires):
    path = tmp_path / f"video{suffix.upper()}"
    path.write_bytes(b"placeholder")
    assert reader_for(path).name == name
    assert not reader_for(path).obj.can_read(path)  # wrong file signature


@pytest.mark.parametrize(
    ("fmt", "suffix"), [("npz", "npz"), ("h5", "h5"), ("tif", "ome.tif")]
)
def test_round_trip_through_load(afm_data, tmp_path, fmt, suffix):
    import playnano

    original = load(afm_data / "asd/202110200146.asd")
    written = playnano.export(original, tmp_path / f"video.{suffix}", fmt)
    stack = load(written[0])
    np.testing.assert_array_equal(stack.data, original.data)
    assert stack.get_frame_times() == original.get_frame_times()
    source = stack.provenance["source"]
    assert source["file"] == written[0].name
    assert source["previous_source"]["file"] == "202110200146.asd"
    with pytest.raises(ChannelError) as err:
        load(written[0], channel="PH")
    assert str(err.value) == f"{written[0]}: no channel 'PH'; it has TP"
