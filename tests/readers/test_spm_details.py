"""The Nanoscope reader in detail: each header key it reads, each default it assumes.

Files are built as the instrument writes them (a text header of ``\\Key: value``
lines, then little-endian images), each test changing the lines it is about;
the real files are covered by test_spm.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from playnano.errors import ReadError
from playnano.readers import available_channels, load

RAW = np.arange(12, dtype="<i2").reshape(3, 4) - 6
OFFSET = 4096


def image_section(
    label: str | None = '\\@2:Image Data: S [Height] "Height"',
    zscale: str | None = "\\@2:Z scale: V [Sens. Zsens] (0.0001 V/LSB) 8.0 V",
    scan: str | None = "\\Scan Size: 100 100 nm",
    at: int = OFFSET,
    extra: tuple[str, ...] = (),
) -> list[str]:
    lines = [
        "\\*Ciao image list",
        f"\\Data offset: {at}",
        f"\\Data length: {RAW.nbytes}",
        "\\Bytes/pixel: 2",
        "\\Samps/line: 4",
        "\\Number of lines: 3",
        *extra,
    ]
    lines += [x for x in (scan, label, zscale) if x is not None]
    return lines


def nanoscope(
    *images: list[str],
    scan_list: tuple[str, ...] = ("\\Scan Rate: 10",),
    sens: str = "\\@Sens. Zsens: V 2.0 nm/V",
    raws: tuple[np.ndarray, ...] = (),
) -> bytes:
    """A Nanoscope file: the header, then each image at OFFSET, OFFSET + 24, ..."""
    images = images or (image_section(),)
    header = "\r\n".join(
        [
            "\\*File list",
            "\\Version: 0x09200202",
            "\\*Ciao scan list",
            *scan_list,
            sens,
            *[line for image in images for line in image],
            "\\*File list end",
            "",
        ]
    ).encode("latin-1")
    raws = raws or tuple(RAW for _ in images)
    return header.ljust(OFFSET, b"\0") + b"".join(
        r.astype("<i2").tobytes() for r in raws
    )


def _write(tmp_path, content: bytes, name: str = "scan.spm"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


HEIGHTS_NM = np.flipud(RAW) * (8.0 / 256**2) * 2.0


def test_the_built_file_reads_as_the_instrument_defines_it(tmp_path) -> None:
    stack = load(_write(tmp_path, nanoscope()))
    np.testing.assert_array_equal(stack.data[0], HEIGHTS_NM)
    assert stack.pixel_size_nm == 25.0
    assert stack.provenance["source"]["acquisition"] == {
        "nanoscope_version": "0x09200202",
        "z_unit": "nm",
        "frame_times_from": "line rate",
        "frame_files": ["scan.spm"],
    }


def test_a_retrace_image_of_a_channel_gets_its_own_name(tmp_path) -> None:
    retrace = ("\\Line Direction: Retrace",)
    trace = ("\\Line Direction: Trace",)
    path = _write(
        tmp_path,
        nanoscope(
            image_section(extra=retrace),  # the first of its name: no suffix
            image_section(at=OFFSET + 24, extra=retrace),
            image_section(at=OFFSET + 48, extra=trace),  # trace twice: same name
            image_section(label='\\@2:Image Data: S [Phase] "Phase"', at=OFFSET + 72),
            raws=(RAW, RAW + 1, RAW + 2, RAW + 3),
        ),
    )
    assert available_channels(path) == ["Height", "Height_retrace", "Height", "Phase"]
    stack = load(path, channel="Height_retrace")
    assert stack.channel == "Height_retrace"
    np.testing.assert_array_equal(
        stack.data[0], np.flipud(RAW + 1) * (8.0 / 256**2) * 2.0
    )


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ('\\Image Data: S [Phase] "Phase"', "Phase"),  # without the @2: prefix
        ("\\@2:Image Data: S [ZSensor]", "ZSensor"),
        ("\\@2:Image Data:  Amplitude  ", "Amplitude"),
        ("\\@2:Image Data: S [ ]", "unnamed"),
        (None, "unnamed"),
    ],
)
def test_channel_names_from_the_image_label(tmp_path, label, name) -> None:
    path = _write(tmp_path, nanoscope(image_section(label=label)))
    assert available_channels(path) == [name]
    assert load(path, channel=name).channel == name


def test_a_z_scale_without_the_at_prefix(tmp_path) -> None:
    zscale = "\\Z scale: V [Sens. Zsens] (0.0001 V/LSB) 8.0 V"
    stack = load(_write(tmp_path, nanoscope(image_section(zscale=zscale))))
    np.testing.assert_array_equal(stack.data[0], HEIGHTS_NM)


def test_no_z_scale_is_refused(tmp_path) -> None:
    path = _write(tmp_path, nanoscope(image_section(zscale=None)))
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: the image has no readable Z scale (None)"


@pytest.mark.parametrize(
    ("zscale", "unit"),
    [("\\@2:Z scale: V (0.0001 V/LSB) 8.0 mV", "mV"),
     ("\\@2:Z scale: V (0.0001 V/LSB) 8.0", "V")],
)  # fmt: skip
def test_a_z_scale_without_a_sensitivity_keeps_its_unit(tmp_path, zscale, unit):
    stack = load(_write(tmp_path, nanoscope(image_section(zscale=zscale))))
    np.testing.assert_array_equal(stack.data[0], np.flipud(RAW) * (8.0 / 256**2))
    assert stack.provenance["source"]["acquisition"]["z_unit"] == unit


def test_a_sensitivity_in_micrometres_is_converted_to_nm(tmp_path) -> None:
    stack = load(_write(tmp_path, nanoscope(sens="\\@Sens. Zsens: V 2.0 ~m/V")))
    np.testing.assert_allclose(stack.data[0], HEIGHTS_NM * 1000.0, rtol=1e-15)
    assert stack.provenance["source"]["acquisition"]["z_unit"] == "nm"


@pytest.mark.parametrize(
    ("image_scan", "list_scan", "pixel_nm"),
    [
        ("\\Scan Size: 100 50 nm", "\\Scan Size: 200 200 nm", 25.0),  # the image's
        (None, "\\Scan Size: 2 2 ~m", 500.0),  # the scan list's
        ("\\Scan Size: 100 100", None, 25.0),  # no unit: nm
    ],
)
def test_the_scan_size_and_its_unit(tmp_path, image_scan, list_scan, pixel_nm):
    scan_list = ("\\Scan Rate: 10", *([list_scan] if list_scan else []))
    content = nanoscope(image_section(scan=image_scan), scan_list=scan_list)
    assert load(_write(tmp_path, content)).pixel_size_nm == pixel_nm


@pytest.mark.parametrize(
    "scan", ["\\Scan Size: 100 100 furlongs", "\\Scan Size: nm", None]
)
def test_an_unreadable_scan_size_is_refused(tmp_path, scan) -> None:
    path = _write(tmp_path, nanoscope(image_section(scan=scan)))
    text = "" if scan is None else scan.split(": ", 1)[1]
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: unreadable scan size {text!r}"


def test_an_image_one_sample_wide(tmp_path) -> None:
    section = [
        line.replace("Samps/line: 4", "Samps/line: 1").replace(
            "Number of lines: 3", "Number of lines: 12"
        )
        for line in image_section()
    ]
    stack = load(_write(tmp_path, nanoscope(section)))
    assert stack.data.shape == (1, 12, 1)
    assert stack.pixel_size_nm == 100.0


@pytest.mark.parametrize("key", ["Samps/line", "Number of lines"])
def test_an_image_without_its_size_is_refused(tmp_path, key) -> None:
    section = [line for line in image_section() if not line.startswith(f"\\{key}")]
    path = _write(tmp_path, nanoscope(section))
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: the 'Height' image has no valid size or offset"


def _folder(tmp_path, scan_list: tuple[str, ...], times=(None, None)):
    folder = tmp_path / "video"
    folder.mkdir()
    for i, t in enumerate(times, start=1):
        extra = () if t is None else (f"\\Relative frame time: {t} s",)
        (folder / f"scan.00{i}").write_bytes(nanoscope(scan_list=scan_list + extra))
    return folder


@pytest.mark.parametrize(
    ("scan_list", "times", "expected", "source"),
    [
        (("\\Scan Rate: 10",), (2.5, 4.0), [0.0, 1.5], "file"),
        (("\\Scan Rate: 10",), (2.5, None), [0.0, 0.3], "line rate"),
        ((), (None, None), [None, None], "unknown"),
        (("\\Scan Rate: 0",), (None, None), [None, None], "unknown"),
    ],
)
def test_frame_times_of_a_folder_and_where_they_came_from(
    tmp_path, scan_list, times, expected, source
) -> None:
    stack = load(_folder(tmp_path, scan_list, times))
    assert stack.get_frame_times() == pytest.approx(expected)
    acquisition = stack.provenance["source"]["acquisition"]
    assert acquisition["frame_times_from"] == source
    assert acquisition["nanoscope_version"] == "0x09200202"
    assert acquisition["z_unit"] == "nm"
    durations = [m["frame_duration_s"] for m in stack.frame_metadata]
    assert durations == ([0.3, 0.3] if scan_list == ("\\Scan Rate: 10",) else
                         [None, None])  # fmt: skip


def test_the_frame_header_of_a_file(tmp_path) -> None:
    from playnano.readers.series import FrameHeader
    from playnano.readers.spm import frame_header

    two = nanoscope(
        image_section(scan="\\Scan Size: 2 2 ~m"),
        image_section(label='\\@2:Image Data: S [Phase] "Phase"', at=OFFSET + 24),
        scan_list=("\\Scan Rate: 10", "\\Relative frame time: 4.5 s"),
    )
    assert frame_header(_write(tmp_path, two)) == FrameHeader(
        (3, 4), ("scan size 2 2 µm", "Height/Phase"), 4.5
    )
    # the scan list's size when the image has none; none at all: '?'
    listed = nanoscope(image_section(scan=None),
                       scan_list=("\\Scan Size: 100 100 nm",))  # fmt: skip
    assert frame_header(_write(tmp_path, listed, "b.spm")) == FrameHeader(
        (3, 4), ("scan size 100 100 nm", "Height"), None
    )
    bare = [line for line in image_section(scan=None)
            if not line.startswith(("\\Samps", "\\Number"))]  # fmt: skip
    assert frame_header(_write(tmp_path, nanoscope(bare), "c.spm")) == FrameHeader(
        (0, 0), ("scan size ?", "Height"), None
    )


def test_a_header_without_images(tmp_path) -> None:
    from playnano.readers.spm import frame_header

    header = b"\\*File list\r\n\\Version: 0x09200202\r\n\\*File list end\r\n"
    path = _write(tmp_path, header)
    with pytest.raises(ReadError) as err:
        frame_header(path)
    assert str(err.value) == f"{path}: the header declares no image"


def test_which_files_of_a_folder_are_frames(tmp_path) -> None:
    from playnano.readers.spm import frame_files

    folder = tmp_path / "video"
    folder.mkdir()
    good = nanoscope()
    for name in ("scan.001", "scan.002", "other.SPM", "scan.0003"):
        (folder / name).write_bytes(good)
    (folder / "notes.txt").write_bytes(good)  # a header, but not a frame's name
    (folder / "scan.003").write_bytes(b"damaged")  # a frame's name, no header
    (folder / "scan.spm").write_bytes(b"damaged")
    (folder / "scan.1234").write_bytes(b"not a Nanoscope suffix")
    (folder / "sub.004").mkdir()
    assert [f.name for f in frame_files(folder)] == [
        "other.SPM", "scan.0003", "scan.001", "scan.002", "scan.003", "scan.spm",
    ]  # fmt: skip
    for name in ("other.SPM", "scan.0003", "scan.001", "scan.002"):
        (folder / name).unlink()
    assert frame_files(folder) == []  # damaged files alone are no video


def _section(**replace: str | None) -> list[str]:
    """The image section with ``key: value`` lines replaced (None: left out)."""
    out = []
    for line in image_section():
        key = line[1:].split(":", 1)[0]
        if key in replace:
            if replace[key] is not None:
                out.append(f"\\{key}: {replace[key]}")
        else:
            out.append(line)
    return out


@pytest.mark.parametrize(
    "change",
    [{"Data offset": None}, {"Data offset": "0"}, {"Number of lines": "0"}],
)
def test_an_image_without_a_usable_offset_or_size(tmp_path, change) -> None:
    path = _write(tmp_path, nanoscope(_section(**change)))
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: the 'Height' image has no valid size or offset"


def test_an_image_one_line_high(tmp_path) -> None:
    section = _section(**{"Number of lines": "1", "Samps/line": "12"})
    stack = load(_write(tmp_path, nanoscope(section)))
    assert stack.data.shape == (1, 1, 12)
    np.testing.assert_array_equal(stack.data[0, 0], RAW.ravel() * (8.0 / 256**2) * 2)


def test_bytes_per_pixel_from_the_data_length(tmp_path) -> None:
    """No Bytes/pixel: the data length over the pixels says 4; neither: 2."""
    raw32 = (np.arange(12, dtype="<i4") - 6).reshape(3, 4) * 100_000
    header_only = nanoscope(_section(**{"Bytes/pixel": None, "Data length": "48"}))
    path = _write(tmp_path, header_only[:OFFSET] + raw32.tobytes())
    np.testing.assert_array_equal(
        load(path).data[0], np.flipud(raw32) * (8.0 / 256**4) * 2.0
    )
    bare = nanoscope(_section(**{"Bytes/pixel": None, "Data length": None}))
    np.testing.assert_array_equal(
        load(_write(tmp_path, bare, "b.spm")).data[0], HEIGHTS_NM
    )


def test_bytes_per_pixel_other_than_2_or_4(tmp_path) -> None:
    path = _write(tmp_path, nanoscope(_section(**{"Bytes/pixel": "3"})))
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == f"{path}: unsupported 3 bytes per pixel"


@pytest.mark.parametrize(
    ("sens", "too_large"),
    [("2.74e303", False),  # 65536 x 2.74e303 < 1.798e308: heights are numbers
     ("1e305", True)],
)  # fmt: skip
def test_heights_too_large_for_a_number(tmp_path, sens, too_large) -> None:
    """The Z scale gives 1 per raw unit (65536 V over 256**2); the sensitivity
    multiplies it; a raw int16 value reaches 32768 in magnitude."""
    zscale = "\\@2:Z scale: V [Sens. Zsens] (0.0001 V/LSB) 65536 V"
    content = nanoscope(image_section(zscale=zscale),
                        sens=f"\\@Sens. Zsens: V {sens} nm/V")  # fmt: skip
    path = _write(tmp_path, content)
    if not too_large:
        assert np.isfinite(load(path).data).all()
        return
    with pytest.raises(ReadError) as err:
        load(path)
    assert str(err.value) == (
        f"{path}: the 'Height' image's Z scale and sensitivity give heights too "
        "large for a number"
    )


def test_a_date_not_understood_gives_no_start_time(tmp_path) -> None:
    content = nanoscope(scan_list=("\\Scan Rate: 10", "\\Date: yesterday"))
    stack = load(_write(tmp_path, content))
    assert stack.frame_metadata[0]["start_epoch_ms"] is None


def test_a_one_digit_frame_suffix(tmp_path) -> None:
    from playnano.readers.spm import frame_files

    folder = tmp_path / "video"
    folder.mkdir()
    (folder / "scan.1").write_bytes(nanoscope())
    assert [f.name for f in frame_files(folder)] == ["scan.1"]


def test_the_image_scan_size_before_the_scan_lists(tmp_path) -> None:
    from playnano.readers.spm import frame_header

    content = nanoscope(
        image_section(scan="\\Scan Size: 2 2 ~m"),
        scan_list=("\\Scan Size: 100 100 nm",),
    )
    scan = frame_header(_write(tmp_path, content)).scan
    assert scan == ("scan size 2 2 µm", "Height")


def test_a_header_that_ends_where_it_starts(tmp_path) -> None:
    from playnano.readers.spm import frame_header

    path = _write(tmp_path, b"\\*File list end\r\n" + bytes(100))
    with pytest.raises(ReadError) as err:
        frame_header(path)
    assert str(err.value) == f"{path}: the header declares no image"


def test_only_nanoscope_files_are_claimed(tmp_path) -> None:
    from playnano.readers.spm import SpmReader

    text = tmp_path / "notes.spm"
    text.write_text("not a Nanoscope file")
    assert SpmReader().can_read(_write(tmp_path, nanoscope()))
    assert not SpmReader().can_read(text)


def test_a_file_without_the_nanoscope_signature(tmp_path) -> None:
    from playnano.readers.spm import read_header

    path = _write(tmp_path, b"\\*File lust\r\n" + nanoscope()[12:])
    with pytest.raises(ReadError) as err:
        read_header(path)
    assert str(err.value) == f"{path}: not a Nanoscope file (no '\\*File list')"
