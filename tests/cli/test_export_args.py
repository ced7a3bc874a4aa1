"""Every form of ``--export`` users write reaches the command the same way."""

from __future__ import annotations

from pathlib import Path

import pytest

from playnano.cli.process import (
    _parse_format_options,
    _split_formats,
    expand_export_args,
)
from playnano.errors import OptionError


@pytest.mark.parametrize(
    "argv",
    [
        ["in.asd", "--export", "tif", "npz", "hdf5"],
        ["in.asd", "--export", "tif,npz,hdf5"],
        ["in.asd", "--export", "tif", "--export", "npz", "-e", "hdf5"],
        ["in.asd", "--export=tif", "npz,hdf5"],
        ["--export", "tif", "npz", "hdf5", "--", "in.asd"],
    ],
)
def test_export_forms(argv) -> None:
    out = expand_export_args(argv)
    formats = [out[i + 1] for i, t in enumerate(out) if t in ("--export", "-e")]
    assert _split_formats(formats) == ["tif", "npz", "hdf5"]
    assert "in.asd" in out


def test_input_after_the_formats_is_given_back(tmp_path: Path) -> None:
    video = tmp_path / "video.asd"
    video.write_bytes(b"")
    out = expand_export_args(["--export", "npz", "h5", str(video), "--raw"])
    assert out == ["--export", "npz", "--export", "h5", "--raw", str(video)]


def test_option_values_are_not_taken_for_input() -> None:
    out = expand_export_args(["-o", "exports", "--export", "npz", "h5"])
    assert out == ["-o", "exports", "--export", "npz", "--export", "h5"]


def test_format_options() -> None:
    assert _parse_format_options(["gif.fps=10", "GIF.cmap=gray", "acme:x.level=2"]) == {
        "gif": {"fps": "10", "cmap": "gray"},
        "acme:x": {"level": "2"},
    }
    with pytest.raises(OptionError, match="expected FORMAT.NAME=VALUE"):
        _parse_format_options(["fps=10"])
