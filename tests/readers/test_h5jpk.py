"""The .h5-jpk reader: the real file against playnano 0.5.0, synthetic edge cases."""

from __future__ import annotations

import re

import h5py
import numpy as np
import pytest

from playnano.errors import ChannelError, ReadError
from playnano.readers import ReadWarning, available_channels, load
from playnano.testing import ReaderConformance

NAME = "h5-jpk/sample_0.h5-jpk"


@pytest.fixture
def ref(reference):
    return reference[NAME]["playnano_height_trace"]


def test_real_file_matches_playnano_050(afm_data, ref, check_reference):
    stack = load(afm_data / NAME)
    assert stack.channel == "height_trace"
    # Same operations in the same order as 0.5.0 (raw * multiplier + offset, then
    # m -> nm); the tolerance only allows for a different summation order.
    check_reference(stack, ref, rtol=1e-12)
    means = np.round(stack.data.mean(axis=(1, 2)), 6).tolist()
    assert means == ref["frame_means"]


def test_real_frame_times_come_from_the_file(afm_data, ref):
    stack = load(afm_data / NAME)
    meta = stack.frame_metadata
    # the file's own start times, not AFMReader's line-rate guess (0, 3.2, 6.4, 9.6)
    assert stack.get_frame_times() == ref["timestamps_s"] == [0.0, 3.275, 6.55, 9.825]
    assert [m["frame_duration_s"] for m in meta] == ref["frame_duration_s"]
    assert [m["start_epoch_ms"] for m in meta] == ref["start_epoch_ms"]
    assert {m["line_rate"] for m in meta} == {ref["line_rate"]}
    assert {m["scan_direction"] for m in meta} == {ref["scan_direction"]}
    acq = stack.provenance["source"]["acquisition"]
    assert acq["bidirectional"] == ref["acquisition"]["bidirectional"]
    assert acq["frame_times_from"] == "file"


def test_channels_and_case_insensitive_choice(afm_data, reference):
    names = available_channels(afm_data / NAME)
    assert sorted(n.lower() for n in names) == sorted(reference[NAME]["channels"])
    assert "measuredHeight_trace" in names  # the file's own spelling is kept
    stack = load(afm_data / NAME, channel="measuredheight_trace")
    assert stack.channel == "measuredHeight_trace"
    assert stack.provenance["source"]["sha256"] == reference[NAME]["sha256"]


def test_wrong_channel_lists_the_channels(afm_data):
    with pytest.raises(ChannelError) as err:
        load(path := afm_data / NAME, channel="topography")
    message = str(err.value)
    assert message.startswith(f"{path}: no channel 'topography'; it has ")
    assert "height_trace" in message and "phase_retrace" in message
    assert "\n" not in message


@pytest.mark.parametrize("n_bytes", [3000, 1_000_000])
def test_truncated_file(afm_data, copy_truncated, n_bytes):
    cut = copy_truncated(afm_data / NAME, n_bytes)
    with pytest.raises(
        ReadError, match=rf"^{re.escape(str(cut))}: HDF5 file is truncated"
    ):
        load(cut)


def test_not_hdf5(tmp_path):
    path = tmp_path / "fake.h5-jpk"
    path.write_bytes(b"not hdf5 at all")
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: not an HDF5 file (no HDF5 signature)"


def _write_scan(path, *, times=False, n_values=6):
    raw = np.arange(n_values * 2, dtype=np.int32).reshape(n_values, 2)
    with h5py.File(path, "w") as f:
        m = f.create_group("Measurement_000")
        m.attrs.update(
            {
                "position-pattern.grid.ilength": 3,
                "position-pattern.grid.jlength": 2,
                "position-pattern.grid.ulength": 3e-9,
                "timing-settings.scanRate": 4.0,
                "motion": b"bottomUp",
                "environment.fast-imaging.feed-forward-parameters.yaxis.interlace": (
                    b"true"
                ),
            }
        )
        c = m.create_group("Channel_000")
        c.attrs.update(
            {
                "channel.name": b"height",
                "retrace": b"false",
                "net-encoder.scaling.multiplier": 2e-9,
                "net-encoder.scaling.offset": 1e-9,
                "net-encoder.scaling.unit.unit": b"m",
            }
        )
        c["Height"] = raw
        c["thumbnail"] = np.zeros((4, 1), np.int32)
        if times:
            m["meta-data/start-times"] = np.array([[1000], [1500]], np.int64)
            m["meta-data/end-times"] = np.array([[1400], [1900]], np.int64)
    return raw


def test_synthetic_scan_without_frame_times_uses_the_line_rate(tmp_path):
    path = tmp_path / "scan.h5-jpk"
    raw = _write_scan(path)
    stack = load(path)
    expected = (raw.T.reshape(2, 2, 3) * 2e-9 + 1e-9)[:, ::-1, :] * 1e9
    np.testing.assert_allclose(stack.data, expected, rtol=1e-12)
    assert stack.pixel_size_nm == pytest.approx(1.0)
    # 2 lines at 4 lines/s, interlaced: 0.25 s per frame
    assert stack.get_frame_times() == [0.0, 0.25]
    assert stack.frame_metadata[0]["scan_direction"] == "bottomUp"
    assert stack.frame_metadata[0]["start_epoch_ms"] is None
    assert stack.provenance["source"]["acquisition"]["frame_times_from"] == "line rate"


def test_synthetic_scan_with_frame_times(tmp_path):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path, times=True)
    stack = load(path)
    assert stack.get_frame_times() == [0.0, 0.5]
    assert [m["frame_duration_s"] for m in stack.frame_metadata] == [0.4, 0.4]
    assert [m["start_epoch_ms"] for m in stack.frame_metadata] == [1000, 1500]


def test_grid_that_does_not_match_the_data(tmp_path):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path, n_values=5)
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == (
        f"{path}: channel 'height_trace' holds 5 values per frame; "
        "the scan grid declares 3x2"
    )


def test_second_measurement_is_reported(tmp_path):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    with h5py.File(path, "a") as f:
        f.copy("Measurement_000", "Measurement_001")
    with pytest.warns(
        ReadWarning, match="2 measurements; reading only Measurement_000"
    ):
        assert load(path).data.shape == (2, 2, 3)


class TestH5JpkReaderConformance(ReaderConformance):
    """Every door of the .h5-jpk reader on the real file and a generated scan."""

    reader_name = "h5-jpk"

    @pytest.fixture
    def samples(self, afm_data, tmp_path_factory):
        path = tmp_path_factory.mktemp("h5jpk") / "scan.h5-jpk"
        _write_scan(path, times=True)
        return [afm_data / "h5-jpk" / "sample_0.h5-jpk", path]
