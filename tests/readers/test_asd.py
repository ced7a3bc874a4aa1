"""The .asd reader: real v1 files against playnano 0.5.0, synthetic v0/v1/v2 files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from playnano.errors import ChannelError, ReadError
from playnano.readers import available_channels, load
from playnano.readers.asd import AsdReader, kind_name
from playnano.testing import ReaderConformance

REAL = [
    ("asd/asd_sample_0.asd", "TP", "playnano_TP"),
    ("asd/202110200146.asd", "TP", "playnano_TP"),
    ("asd/202110200146.asd", "PH", "afmreader_PH"),
]


@pytest.mark.parametrize(("name", "channel", "key"), REAL)
def test_real_file_matches_playnano_050_exactly(
    afm_data, reference, check_reference, name, channel, key
):
    stack = load(afm_data / name, channel=channel)
    assert stack.channel == channel
    check_reference(stack, reference[name][key])  # bit for bit, offset included


@pytest.mark.parametrize("name", ["asd/asd_sample_0.asd", "asd/202110200146.asd"])
def test_real_file_timing_matches_playnano_050(afm_data, reference, name):
    ref = reference[name]["playnano_TP"]
    stack = load(afm_data / name)  # channel=None reads TP
    assert stack.channel == "TP"
    meta = stack.frame_metadata
    assert stack.get_frame_times() == ref["timestamps_s"]
    assert [m["frame_duration_s"] for m in meta] == ref["frame_duration_s"]
    assert [m["start_epoch_ms"] for m in meta] == ref["start_epoch_ms"]
    assert {m["line_rate"] for m in meta} == {ref["line_rate"]}
    assert {m["frame_pixel_size_nm"] for m in meta} == {ref["pixel_size_nm"]}
    assert {m["scan_direction"] for m in meta} == {None}
    if "frame_means" in ref:
        means = np.round(stack.data.mean(axis=(1, 2)), 6).tolist()
        assert means == ref["frame_means"]
    acq = stack.provenance["source"]["acquisition"]
    assert acq["asd_file_version"] == ref["acquisition"]["asd_file_version"]
    assert acq["asd_scan_direction_raw"] == ref["acquisition"]["asd_scan_direction_raw"]


def test_channels_and_provenance(afm_data, reference):
    path = afm_data / "asd/202110200146.asd"
    assert available_channels(path) == reference["asd/202110200146.asd"]["channels"]
    source = load(path, channel="ph").provenance["source"]  # any case
    assert source["file"] == path.name
    assert source["sha256"] == reference["asd/202110200146.asd"]["sha256"]
    assert (source["reader"], source["channel"]) == ("asd", "PH")


def test_wrong_channel_lists_the_channels(afm_data):
    with pytest.raises(ChannelError) as err:
        load(path := afm_data / "asd/202110200146.asd", channel="ER")
    assert str(err.value) == f"{path}: no channel 'ER'; it has TP, PH"


@pytest.mark.parametrize(
    ("n_bytes", "message"),
    [
        (
            100_000,
            "file ends after 100000 bytes; the header declares "
            "1 channel(s) of 32 frames of 200x200 int16 data after a 174-byte header "
            "(needs 2561198 bytes)",
        ),
        (
            120,
            "file ends after 120 bytes or its .asd v1 header is "
            "corrupt (no valid image geometry)",
        ),
        (2, "file ends after 2 bytes; not an .asd file"),
    ],
)
def test_truncated_file_is_a_clear_error(afm_data, copy_truncated, n_bytes, message):
    cut = copy_truncated(afm_data / "asd/asd_sample_0.asd", n_bytes)
    with pytest.raises(ReadError) as err:
        load(cut)
    assert str(err.value) == f"{cut}: {message}"


# --------------------------------------------------------------- synthetic files
# Header layouts written from the format descriptions (libasd's header.hpp for
# versions 1 and 2 and one reading of version 0, AFMReader's asd.py for the other).
V1_HEAD = "<iiiiiiiiiiiiiiii?iiiiiiiiifffi12xiiiffffff"
V0_LIBASD = "<ihhiiiiiiiiifffii?iihBBBBBiff12xiiii"
V0_AFMREADER = "<i2s2siiiiihhhhfffIi?ihhBBBBBBff12xiiih"
FRAME_HEADER = "<ihhhhff?bhii"  # 32 bytes
DATE = (2020, 1, 2, 3, 4, 5)
V0_PAD = 88  # the "comment offset" of real v0 files: zero bytes before the comment


def _frames_bytes(channels: dict[str, np.ndarray]) -> bytes:
    out = b""
    for levels in channels.values():
        for i, frame in enumerate(levels):
            head = (i + 1, frame.max(), frame.min(), 0, 0, 0.0, 0.0, False, 0, 0, 0, 0)
            out += struct.pack(FRAME_HEADER, *head)
            out += frame.astype("<i2").tobytes()
    return out


def build_asd(
    version: int,
    channels: dict[str, np.ndarray],
    *,
    layout: str = "libasd",
    ad_range: int = 0x3,
    frame_time_ms: float = 250.0,
    scan_nm: tuple[int, int] = (60, 40),
) -> bytes:
    """Bytes of an .asd file holding ``channels`` (name -> int16 (n, y, x))."""
    kinds = [int.from_bytes(k.encode(), "little") for k in channels] + [0]
    n, ny, nx = next(iter(channels.values())).shape
    name, comment = b"tester", b"hi"
    if version in (1, 2):
        fields = (
            version, 0, 32, 932, len(name), len(comment), kinds[0], kinds[1],
            n, n, 1, 7, nx, ny, *scan_nm, True, 1, *DATE, 2, 3,
            frame_time_ms, 1.5, 2.5, 0, 2, ad_range, 12,
            100.0, 100.0, 5.0, 5.0, 12.5, 2.0,
        )  # fmt: skip
        head = struct.pack(V1_HEAD, *fields) + name + comment
        if version == 2:  # colour-map extras, including 2 anchor points per colour
            head += struct.pack("<iiidiiiii", n, 0, 0, 0.0, 255, 0, 2, 2, 2)
            head += struct.pack("<12i", *range(12))
    elif layout == "libasd":
        fields = (
            0, kinds[0], kinds[1], 0, 32, len(name), V0_PAD, len(comment),
            nx, ny, *scan_nm, frame_time_ms, 12.5, 2.0, ad_range, 12, True, 1, 0,
            DATE[0], *DATE[1:], 3, 100.0, 100.0, n, n, 2, 7,
        )  # fmt: skip
        head = struct.pack(V0_LIBASD, *fields) + name
        head += struct.pack("<ffi", 1.5, 2.5, 1)
    else:
        codes = [k.encode() for k in channels] + [b"\0\0"]
        fields = (
            0, codes[0], codes[1], 0, 32, len(name), V0_PAD, len(comment),
            nx, ny, *scan_nm, frame_time_ms, 12.5, 2.0, ad_range, 12, True, 1, 0,
            DATE[0], *DATE[1:], 3, 100.0, 100.0, n, n, 2, 7,
        )  # fmt: skip
        head = struct.pack(V0_AFMREADER, *fields) + name
        head += struct.pack("<ffi", 1.5, 2.5, 1)
    length_at = 8 if version == 0 else 4  # the header-length field
    head = head[:length_at] + struct.pack("<i", len(head)) + head[length_at + 4 :]
    if version == 0:  # as in real v0 files: the header length leaves these out
        head += b"\0" * V0_PAD + comment
    return head + _frames_bytes(channels)


def _levels(seed: int, n: int = 3, ny: int = 4, nx: int = 5) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 4096, (n, ny, nx)).astype(np.int16)


CASES = [
    pytest.param(0, "libasd", id="v0-libasd"),
    pytest.param(0, "afmreader", id="v0-afmreader"),
    pytest.param(1, "", id="v1"),
    pytest.param(2, "", id="v2"),
]


@pytest.mark.parametrize(("version", "layout"), CASES)
def test_synthetic_two_channel_file(tmp_path, version, layout):
    tp, ph = _levels(1), _levels(2)
    path = tmp_path / "video.asd"
    path.write_bytes(build_asd(version, {"TP": tp, "PH": ph}, layout=layout))

    assert AsdReader().channels(path) == ["TP", "PH"]
    stack = load(path)
    assert (stack.channel, stack.data.shape) == ("TP", (3, 4, 5))
    # unipolar 9.99 V, 12 bits; TP scale = gain 2.0 x extension 12.5 nm/V
    np.testing.assert_allclose(stack.data, -tp * 9.99 / 4096 * 25.0, rtol=1e-12)
    assert stack.pixel_size_nm == 60 / 5
    assert stack.get_frame_times() == [0.0, 0.25, 0.5]
    meta = stack.frame_metadata[1]
    assert meta["frame_duration_s"] == 0.25
    assert meta["line_rate"] == 4 / 0.25
    # header date 2020-01-02 03:04:05 UTC is the end: frame 0 starts 0.75 s earlier
    assert stack.frame_metadata[0]["start_epoch_ms"] == 1577934245000 - 750
    assert meta["start_epoch_ms"] == 1577934245000 - 500
    assert stack.provenance["source"]["acquisition"]["asd_file_version"] == version

    phase = load(path, channel="PH")  # PH scale = -phase sensitivity (2.5)
    np.testing.assert_allclose(phase.data, ph * 9.99 / 4096 * 2.5, rtol=1e-12)


def test_bipolar_range(tmp_path):
    tp = _levels(3)
    path = tmp_path / "bipolar.asd"
    path.write_bytes(build_asd(1, {"TP": tp}, ad_range=0x00020000))
    expected = (2.5 - 2 * tp.astype(float) * 2.5 / 4096) * 25.0
    np.testing.assert_allclose(load(path).data, expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            {"ad_range": 0x7},
            "unknown ADC range code 0x00000007 in the header",
        ),
        (
            {"version": 3},
            "unknown .asd version 3 (versions 0, 1, 2 are read)",
        ),
    ],
)
def test_unreadable_header_values(tmp_path, patch, message):
    patch = dict(patch)  # the parameter is shared by every run of this test
    version = patch.pop("version", 1)
    raw = bytearray(build_asd(1, {"TP": _levels(4)}, **patch))
    raw[:4] = struct.pack("<i", version)
    path = tmp_path / "video.asd"
    path.write_bytes(bytes(raw))
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: {message}"


def test_kind_names():
    assert [kind_name(c) for c in (0x5054, 0x5245, 0x4850)] == ["TP", "ER", "PH"]
    assert kind_name(0x0102) == "0x0102"


def test_can_read_checks_suffix_and_version(tmp_path, afm_data):
    reader = AsdReader()
    assert reader.can_read(afm_data / "asd/asd_sample_0.asd")
    other = tmp_path / "x.asd"
    other.write_bytes(struct.pack("<i", 9) + b"\0" * 8)
    assert not reader.can_read(other)
    assert not reader.can_read(Path(tmp_path))


class TestAsdReaderConformance(ReaderConformance):
    """Every door of the .asd reader: the real files (versions 0 and 1, two
    channels) and a generated version-2 file; hostile copies of the small ones."""

    reader_name = "asd"

    @pytest.fixture
    def samples(self, afm_data: Path, tmp_path: Path) -> list[Path]:
        path = tmp_path / "v2.asd"
        path.write_bytes(build_asd(2, {"TP": _levels(1), "PH": _levels(2)}))
        asd = afm_data / "asd"
        return [asd / "202110200146.asd", path, asd / "asd_sample_0.asd"]

    @pytest.fixture
    def hostile_samples(self, samples: list[Path]) -> list[Path]:
        return samples[:2]
