"""Real ``.asd`` files (versions 0 and 1) against AFMReader 0.0.7, frame for frame.

``PLAYNANO_AFMREADER_PYTHON`` names a python with ``afmreader==0.0.7`` installed
(the nox ``compat`` session creates one; AFMReader is never a dependency of ours).
Without it these tests skip, unless ``PLAYNANO_REQUIRE_COMPAT=1`` makes that a
failure. ``driver_afmreader.py`` runs there. The files come from AFMReader's own
sdist (``tests/afmreader_files.py``).

The comparison is exact. AFMReader converts levels to heights with the same
formula and operation order as we do (``(V - 2 * level * V / 2**12) * k`` for
these bipolar files), so the frame-to-frame "offset" the format leaves to the
reader (the ADC zero, a constant per channel, and each frame's 32-byte frame
header, which both readers skip) needs no allowance: equal bytes give equal floats.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from playnano.readers import load
from tests.afmreader_files import FILES, asd_files

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).with_name("driver_afmreader.py")


@pytest.fixture(scope="module")
def afmreader_python() -> str:
    """The python of the AFMReader 0.0.7 environment, checked to be 0.0.7."""
    python = os.environ.get("PLAYNANO_AFMREADER_PYTHON")
    if python:
        python = os.path.abspath(python)  # the driver runs in another folder
    if not python:
        reason = (
            "PLAYNANO_AFMREADER_PYTHON is not set (a python with afmreader==0.0.7; "
            "`nox -s compat` sets it)"
        )
        if os.environ.get("PLAYNANO_REQUIRE_COMPAT") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    code = "import importlib.metadata as m; print(m.version('afmreader'))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if out.returncode != 0 or out.stdout.strip() != "0.0.7":
        pytest.fail(f"{python} does not have afmreader 0.0.7: {out.stderr}")
    return python


@pytest.fixture(scope="module")
def read_by_afmreader(afmreader_python: str, tmp_path_factory) -> Path:
    """AFMReader's TP frames of every file, dumped by the driver."""
    files = asd_files()
    out = tmp_path_factory.mktemp("afmreader")
    run = subprocess.run(
        [
            afmreader_python,
            str(DRIVER),
            str(out),
            "TP",
            *(str(files / n) for n in FILES),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=out,
    )
    assert run.returncode == 0, f"AFMReader driver failed:\n{run.stderr[-3000:]}"
    return out


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_frame_matches_afmreader(read_by_afmreader: Path, name: str) -> None:
    version, n = FILES[name]
    ours = load(asd_files() / name)
    theirs = np.load(read_by_afmreader / f"{name}.npy")
    meta = json.loads((read_by_afmreader / f"{name}.json").read_text())
    assert ours.provenance["source"]["acquisition"]["asd_file_version"] == version
    assert ours.data.shape == theirs.shape == (n, *theirs.shape[1:])
    assert meta["num_frames"] == n
    assert ours.pixel_size_nm == meta["pixel_size_nm"]
    for i in range(n):
        np.testing.assert_array_equal(ours.data[i], theirs[i], err_msg=f"frame {i}")
