"""Write outputs under a temporary name in the destination folder, then rename.

A crash, an exception or Ctrl-C while writing leaves no partial file behind, and an
existing file is replaced only when the caller says so.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playnano.errors import ExportError, OutputExistsError

TMP_PREFIX = ".playnano-partial-"


def refuse_existing(path: Path, overwrite: bool) -> None:
    """Raise :class:`OutputExistsError` if ``path`` exists and ``overwrite`` is false."""
    if path.exists() and not overwrite:
        raise OutputExistsError(
            f"{path} already exists; pass overwrite=True (CLI: --overwrite) to replace it"
        )


@contextmanager
def staging_dir(dest_dir: Path) -> Iterator[Path]:
    """A fresh hidden folder inside ``dest_dir``, removed with its content on exit."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX, dir=dest_dir))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def commit_outputs(
    written: list[Path], staging: Path, dest_dir: Path, overwrite: bool
) -> list[Path]:
    """Move files written in ``staging`` to ``dest_dir``; return their final paths."""
    finals: list[tuple[Path, Path]] = []
    for p in written:
        p = Path(p)
        try:
            rel = p.resolve().relative_to(staging.resolve())
        except ValueError:
            raise ExportError(
                f"the exporter wrote {p} outside its target folder"
            ) from None
        if not p.exists():
            raise ExportError(f"the exporter reported {p.name} but did not write it")
        final = dest_dir / rel
        refuse_existing(final, overwrite)
        finals.append((p, final))
    for src, final in finals:
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.is_dir() and not final.is_symlink():
            shutil.rmtree(final)  # only reached with overwrite=True
        os.replace(src, final)
    return [f for _, f in finals]
