"""Validate an RO-Crate with roc-validator offline, as CI has no network.

roc-validator fetches the RO-Crate JSON-LD context over HTTP and keeps an HTTP
cache (requests-cache, SQLite). Offline, it answers only from that cache, so the
cache is seeded with the context document that the ``rocrate`` package ships
(``rocrate/data/ro-crate.jsonld``) under the context's URL; then
``rocrate-validator validate --offline --cache-path CACHE`` runs without a
network. ``docs/provenance.rst`` gives the same steps for users.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from playnano.crate import CONTEXT

PROFILE = "process-run-crate-0.5"


def seed_cache(cache: Path, urls: tuple[str, ...] = (CONTEXT,)) -> Path:
    """An HTTP cache at ``cache`` (``.sqlite`` is added) holding the context."""
    from importlib.resources import files

    import requests
    import requests_cache
    import urllib3

    body = (files("rocrate") / "data" / "ro-crate.jsonld").read_bytes()
    session = requests_cache.CachedSession(
        cache_name=str(cache), backend="sqlite", expire_after=-1
    )
    for url in urls:
        response = requests.Response()
        response.status_code = 200
        response.url = url
        response.headers.update({"Content-Type": "application/ld+json"})
        response.raw = urllib3.HTTPResponse(
            body=io.BytesIO(body),
            headers=dict(response.headers),
            status=200,
            preload_content=False,
            request_url=url,
        )
        response._content = body
        response.request = requests.Request("GET", url).prepare()
        session.cache.save_response(response)
    session.close()
    return cache


def validate(folder: Path, cache: Path, severity: str = "required") -> dict[str, Any]:
    """roc-validator's JSON report on the crate in ``folder`` (offline)."""
    exe = Path(sys.executable).with_name("rocrate-validator")
    cmd = [str(exe if exe.exists() else shutil.which("rocrate-validator"))]
    proc = subprocess.run(
        [*cmd, "-y", "--disable-color", "validate", "--offline",
         "--cache-path", str(cache), "-p", PROFILE, "-l", severity,
         "--no-paging", "-f", "json", str(folder)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    out = proc.stdout
    start = out.find("{")
    if start < 0:
        raise AssertionError(f"roc-validator printed no report: {out}{proc.stderr}")
    report: dict[str, Any] = json.loads(out[start : out.rfind("}") + 1])
    report["_stderr"] = proc.stderr
    return report


def issues(report: dict[str, Any]) -> list[str]:
    """The report's issues as one line each."""
    return [
        f"{i.get('severity')}: {i.get('message')} ({i.get('violatingEntity')})"
        for i in report.get("issues", [])
    ]


def crate_graph(folder: Path) -> dict[str, dict[str, Any]]:
    """The entities of ``folder``'s crate by ``@id``."""
    from playnano.crate import CRATE_NAME

    doc = json.loads((folder / CRATE_NAME).read_text(encoding="utf-8"))
    return {e["@id"]: e for e in doc["@graph"]}


def refs(value: object) -> list[str]:
    """The ``@id`` of each reference in a property's value (one or a list)."""
    items = value if isinstance(value, list) else [value]
    return [i["@id"] for i in items if isinstance(i, dict)]


def run_playnano(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m playnano ARGS`` in ``cwd`` as a user runs it (``env`` added to
    this environment)."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "playnano", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
