"""Damaged values our readers parse themselves are refused in the readers' own words.

Each file here holds one value of the wrong kind where a reader parses it (a flag
that is an array, a tag that holds no value or bytes, a number that is not one); the
refusal must be one line naming the file and the value, at ``load`` and at
``playnano info``, not the safety net's "is corrupt or not understood (TypeError:
...)". Files are real: written with h5py or tifffile, then byte-edited.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import pytest
from click.testing import CliRunner

from playnano.cli import cli
from playnano.errors import ReadError
from playnano.readers import load
from tests.readers.test_h5jpk import _write_scan


def _refusals(path: Path) -> tuple[str, str]:
    """The one-line message of ``load(path)`` and ``playnano info path``'s error."""
    with pytest.raises(ReadError) as err:
        load(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: "), message
    res = CliRunner().invoke(cli, ["info", str(path)])
    assert res.exit_code == 1, res.output
    [line] = res.output.strip().splitlines()
    return message, line


def _same_cause(path: Path, expected: str) -> None:
    message, line = _refusals(path)
    assert message == f"{path}: {expected}"
    assert line.endswith(message), line


@pytest.mark.parametrize("value", [[1, 2, 3], []])
def test_h5jpk_retrace_array_is_not_a_flag(tmp_path, value):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    with h5py.File(path, "a") as f:
        f["Measurement_000/Channel_000"].attrs["retrace"] = value
    _same_cause(
        path,
        f"attribute retrace of Measurement_000/Channel_000 is an array of "
        f"{len(value)} values, not a flag",
    )


def test_h5jpk_interlace_array_is_not_a_flag(tmp_path):
    path = tmp_path / "scan.h5-jpk"
    _write_scan(path)
    key = "environment.fast-imaging.feed-forward-parameters.yaxis.interlace"
    with h5py.File(path, "a") as f:
        f["Measurement_000"].attrs[key] = [b"true", b"false"]
    message, _ = _refusals(path)
    assert message == (
        f"{path}: attribute {key} of Measurement_000 is an array of 2 values, "
        "not a flag"
    )
