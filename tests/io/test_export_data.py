"""The documented export API: save_* shortcuts and export_bundles."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack
from playnano.errors import OutputExistsError, UnknownFormatError
from playnano.io.export_data import (
    export_bundles,
    save_h5_bundle,
    save_npz_bundle,
    save_ome_tiff_stack,
)
from playnano.io.loaders import load_h5_bundle, load_npz_bundle, load_ome_tiff_stack
from playnano.testing import make_sample_stack

SAVERS: dict[str, tuple[Callable[..., list[Path]], Callable[..., AFMImageStack]]] = {
    ".ome.tif": (save_ome_tiff_stack, load_ome_tiff_stack),
    ".npz": (save_npz_bundle, load_npz_bundle),
    ".h5": (save_h5_bundle, load_h5_bundle),
}


def dropped_frame_stack() -> AFMImageStack:
    """A processed stack whose frame 1 was dropped after the raw snapshot."""
    stack = make_sample_stack(masks=False)
    stack.state_backups["frame_metadata_before_edit"] = copy.deepcopy(
        stack.frame_metadata
    )
    keep = [0, 2, 3]
    stack.data = stack.data[keep]
    stack.frame_metadata = [stack.frame_metadata[i] for i in keep]
    stack.processed["step_1_remove_plane"] = stack.data
    stack.masks["step_2_mask_threshold"] = stack.data > 1.0
    return stack


@pytest.mark.parametrize("suffix", list(SAVERS))
def test_save_functions_write_the_suffix(tmp_path: Path, suffix: str) -> None:
    save, load = SAVERS[suffix]
    stack = make_sample_stack()
    [path] = save(tmp_path / "exports" / "stack_filtered", stack)
    assert path == tmp_path / "exports" / f"stack_filtered{suffix}"
    np.testing.assert_array_equal(load(path).data, stack.data)
    assert stack.provenance["exports"][-1]["file"] == path.name
    [again] = save(str(tmp_path / f"named{suffix}"), stack)
    assert again.name == f"named{suffix}"


@pytest.mark.parametrize("suffix", list(SAVERS))
def test_raw_export_is_the_snapshot_with_its_own_metadata(
    tmp_path: Path, suffix: str
) -> None:
    save, load = SAVERS[suffix]
    stack = dropped_frame_stack()
    [path] = save(tmp_path / "raw", stack, raw=True)
    back = load(path)
    np.testing.assert_array_equal(back.data, stack.processed["raw"])
    assert back.frame_metadata == stack.state_backups["frame_metadata_before_edit"]
    assert back.processed == {} and back.masks == {}
    assert stack.provenance["exports"][-1]["raw"] is True


@pytest.mark.parametrize("suffix", list(SAVERS))
def test_processed_export_keeps_the_edited_frames(tmp_path: Path, suffix: str) -> None:
    save, load = SAVERS[suffix]
    stack = dropped_frame_stack()
    [path] = save(tmp_path / "f", stack)
    back = load(path)
    assert back.data.shape[0] == 3
    assert back.get_frame_times() == [0.0, 0.5, 0.75]


def test_export_bundles_names_and_aliases(tmp_path: Path) -> None:
    stack = make_sample_stack()
    paths = export_bundles(
        stack, tmp_path, "test_stack", ["tif", "npz", "hdf5", "ome-tiff", "H5"]
    )
    names = ["test_stack_filtered.ome.tif", "test_stack_filtered.npz"]
    names.append("test_stack_filtered.h5")
    assert [p.name for p in paths] == names
    assert sorted(tmp_path.iterdir()) == sorted(paths)
    assert [r["format"] for r in stack.provenance["exports"]] == ["tif", "npz", "h5"]


def test_raw_and_unprocessed_exports_have_no_suffix(tmp_path: Path) -> None:
    stack = make_sample_stack()
    raw = export_bundles(stack, tmp_path / "raw", "s", ["npz"], raw=True)
    assert [p.name for p in raw] == ["s.npz"]
    plain = make_sample_stack(processed=False)
    out = export_bundles(plain, tmp_path / "plain", "s", ["tiff", "h5"])
    assert [p.name for p in out] == ["s.ome.tif", "s.h5"]


def test_unknown_format_fails_before_anything_is_written(tmp_path: Path) -> None:
    with pytest.raises(UnknownFormatError, match="'tfi'.*did you mean tif"):
        export_bundles(make_sample_stack(), tmp_path / "out", "s", ["npz", "tfi"])
    assert not (tmp_path / "out").exists()


def test_existing_outputs_are_not_overwritten(tmp_path: Path) -> None:
    stack = make_sample_stack()
    target = tmp_path / "s_filtered.npz"
    target.write_bytes(b"a user's file")
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        export_bundles(stack, tmp_path, "s", ["npz", "h5"])
    assert target.read_bytes() == b"a user's file"
    # refused before any work, as playnano process refuses it: nothing written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s_filtered.npz"]
    assert not stack.provenance.get("exports")
    paths = export_bundles(stack, tmp_path, "s", ["npz", "h5"], overwrite=True)
    assert load_npz_bundle(paths[0]).data.shape == stack.data.shape
