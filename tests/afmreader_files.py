"""Real version-0 and version-1 ``.asd`` files from AFMReader 0.0.7's sdist.

They are too large to keep in the repo (85 MB), so the tests fetch the sdist with
pip at test time, extract only the ``.asd`` files into a cache folder keyed by the
version (``$PLAYNANO_TEST_CACHE``, default ``~/.cache/playnano-test``) and reuse
them afterwards. Offline, the tests that need them skip, unless
``PLAYNANO_REQUIRE_COMPAT=1`` (CI) makes that a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

VERSION = "0.0.7"
#: file name -> (.asd version, frames per channel); checked after download.
FILES = {
    "sample_0.asd": (0, 142),
    "extra_sample.asd": (0, 64),
    "sample_1.asd": (1, 197),
}


def cache_dir() -> Path:
    """Where the extracted files live (one folder per AFMReader version)."""
    root = os.environ.get("PLAYNANO_TEST_CACHE")
    base = Path(root) if root else Path.home() / ".cache" / "playnano-test"
    return base / f"afmreader-{VERSION}"


def _fetch(dest: Path) -> str | None:
    """Download the sdist and extract the .asd files; the reason on failure."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "-m", "pip", "download", "-q", "--no-deps",
            "--no-binary", ":all:", "-d", tmp, f"afmreader=={VERSION}",
        ]  # fmt: skip
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        sdists = list(Path(tmp).glob("*.tar.gz"))
        if out.returncode != 0 or not sdists:
            last = (out.stderr.strip().splitlines() or ["no sdist"])[-1]
            return f"pip could not download afmreader=={VERSION} ({last})"
        staging = dest.with_name(dest.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        with tarfile.open(sdists[0]) as tar:
            for member in tar.getmembers():
                name = Path(member.name).name
                if name in FILES and member.isfile():
                    src = tar.extractfile(member)
                    assert src is not None
                    (staging / name).write_bytes(src.read())
        missing = sorted(set(FILES) - {p.name for p in staging.iterdir()})
        if missing:
            return f"afmreader {VERSION} sdist lacks {', '.join(missing)}"
        shutil.rmtree(dest, ignore_errors=True)
        staging.replace(dest)
    return None


def asd_files() -> Path:
    """The folder holding :data:`FILES`; skip (or fail in CI) when unavailable."""
    dest = cache_dir()
    if not all((dest / name).is_file() for name in FILES):
        reason = _fetch(dest)
        if reason is not None:
            reason = f"real v0 .asd files unavailable: {reason}"
            if os.environ.get("PLAYNANO_REQUIRE_COMPAT") == "1":
                pytest.fail(reason)
            pytest.skip(reason)
    return dest
