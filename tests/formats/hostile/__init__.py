"""Hostile and damaged bundles and TIFFs, each built by a small function, and a runner.

Every builder (in :mod:`.h5`, :mod:`.npz`, :mod:`.tiff`) writes one file into a
folder and returns its path; the files are tiny (a few kB) but claim gigabytes,
point outside themselves or loop. :func:`load_in_child` reads one in a fresh
interpreter under an address-space limit, so a regression ends in a failed test
instead of a crash, a hang or an exhausted machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

#: Peak resident memory a hostile file may cost, interpreter and imports included.
MAX_RSS_MB = 300
#: ...and beyond what the interpreter held after importing playnano and its readers.
MAX_GROWTH_MB = 64
#: A child still running after this long is hung (a hang detector, not a timing).
HANG_S = 20
_AS_LIMIT = 3 << 30  # bytes of address space the child may map

_CHILD = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))

    out = {{}}
    try:
        import h5py, numpy, tifffile
        import playnano
        from playnano.lazy import peak_rss  # VmHWM: this process's own peak

        def peak_mb():
            return peak_rss() / 2**20

        from playnano.errors import ReadError
        base = peak_mb()
        try:
            stack = playnano.load(sys.argv[1])
            out["outcome"] = "loaded"
            out["shape"] = list(stack.data.shape)
        except ReadError as exc:
            out["outcome"] = "ReadError"
            out["message"] = str(exc)
        out["growth_mb"] = peak_mb() - base
        out["maxrss_mb"] = peak_mb()
    except BaseException as exc:
        out["outcome"] = type(exc).__name__
        out["message"] = str(exc)[:2000]
    print("RESULT " + json.dumps(out))
    """
)


def load_in_child(path: Path) -> dict[str, Any]:
    """``playnano.load(path)`` in a child process: outcome, message, peak RSS."""
    code = _CHILD.format(limit=_AS_LIMIT)
    try:
        proc = subprocess.run(
            [sys.executable, "-W", "error", "-c", code, str(path)],
            capture_output=True,
            text=True,
            timeout=HANG_S,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": f"hang (> {HANG_S} s)"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {
            "outcome": f"exit {proc.returncode}",
            "message": proc.stderr.strip()[-2000:],
        }
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    return result
