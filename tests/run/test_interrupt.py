"""Ctrl-C during ``playnano process``: exit 130 within 3 s and nothing left.

For every installed format alone and all of them together, read in memory and a
block at a time. The process is started with SIGINT at its default, as a terminal
starts it, and interrupted while the format is being written (all formats: once one
is in place and the next is being written, so what was finished is removed too).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from playnano.plugins.registry import exporters

#: Every format installed here (third-party ones too), as ``--export all`` sees them.
INSTALLED = [e for e in exporters().entries() if e.status() == "ok"]
CASES = {e.name: [e] for e in INSTALLED} | {"all": INSTALLED}


def _writing(out: Path, formats: list) -> bool:
    """The run is writing what the case interrupts.

    One format: its output is in the staging folder. Several: one of them is in
    place already and another is being written.
    """
    try:
        staged = [p.name for p in out.glob(".playnano-partial-*/*")]
    except FileNotFoundError:  # a staging folder went while it was listed: look again
        return False
    if len(formats) == 1:
        return any(name.endswith(formats[0].obj.suffix) for name in staged)
    placed = [p for p in out.glob("*") if not p.name.startswith(".")]
    return bool(placed and staged)


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 300-frame 512 x 512 float32 HDF5 bundle (300 MB): every format is busy."""
    from playnano.afm_stack import AFMImageStack
    from playnano.io.export_data import export_stack
    from playnano.synthetic import synthetic_hsafm

    st = synthetic_hsafm(n_frames=30, size_px=512)
    data = np.tile(st.data.astype(np.float32), (10, 1, 1))
    meta = [dict(st.frame_metadata[i % 30], timestamp=i * 0.1) for i in range(300)]
    stack = AFMImageStack(data, 1.0, st.channel, None, meta)
    path = tmp_path_factory.mktemp("interrupt") / "video.h5"
    export_stack(stack, path, "h5", options={"compress_level": 0})
    return path


@pytest.mark.slow
@pytest.mark.parametrize("path", ["--in-memory", "--blocks"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_ctrl_c_exits_130_at_once_and_leaves_nothing(
    video: Path, tmp_path: Path, case: str, path: str
) -> None:
    formats = CASES[case]
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "playnano", "process", str(video), path,
           "-o", str(out), "-e", *(e.name for e in formats)]  # fmt: skip
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # as a terminal starts it (a shell that ran pytest in the background may
        # have left SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 180
    while not _writing(out, formats):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, f"{case} was never written"
        time.sleep(0.002)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    waited = time.monotonic() - sent
    assert proc.returncode == 130, err
    assert err.strip() == "playnano: error: interrupted; no partial output was kept"
    assert waited < 3, f"took {waited:.1f} s to stop"
    assert not out.exists() or list(out.iterdir()) == []
