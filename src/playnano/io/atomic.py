"""Write outputs under a temporary name in the destination folder, then rename.

A crash, an exception or Ctrl-C while writing leaves no partial file behind, and an
existing output is replaced only when the caller says so (a folder only by a folder
store the exporter wrote, never by a file).

Staging folders are named ``.playnano-partial-<host>-<pid>-<random>``: an export that
was killed (SIGKILL, power loss) cannot remove its own, so the next export into the
same folder removes those whose writer process no longer runs on this host.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playnano.errors import (
    ExportError,
    ExportWarning,
    OutputExistsError,
    OutputPathError,
)
from playnano.io.guard import describe_oserror

TMP_PREFIX = ".playnano-partial-"
_STAGING = re.compile(re.escape(TMP_PREFIX) + r"(?P<host>.+)-(?P<pid>\d+)-[^-]*$")
#: Longest file name (bytes) most file systems accept.
NAME_MAX = 255


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"


def refuse_existing(path: Path, overwrite: bool) -> None:
    """Refuse to replace an existing output unless ``overwrite``.

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``overwrite`` is false.
    """
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputExistsError(
            f"{path} already exists; pass overwrite=True (CLI: --overwrite) to replace it"
        )


def _is_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def check_output_folder(folder: str | Path, names: Iterable[str] = ()) -> None:
    """Check, before any work, that files ``names`` can be written in ``folder``.

    The folder may be missing (it is created, with its parents); the deepest part
    that exists must be a folder we can write in. Nothing is left behind.

    Raises
    ------
    OutputPathError
        If a name is too long, ``folder`` or a parent is a file, or the folder
        cannot be written in.
    """
    folder = Path(folder)
    for name in names:
        size = len(os.fsencode(name))
        if size > NAME_MAX:
            raise OutputPathError(
                f"output name {name[:40]}... is {size} bytes long; file names can "
                f"have at most {NAME_MAX} (choose a shorter output name)"
            )
    existing = folder
    while not existing.exists() and not existing.is_symlink():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        what = "the output folder" if existing == folder else "a parent folder"
        raise OutputPathError(f"{existing}: {what} is a file, not a folder")
    try:  # os.access says yes to root even on a read-only mount; really try
        fd, probe = tempfile.mkstemp(prefix=".playnano-probe-", dir=existing)
    except OSError as exc:
        raise OutputPathError(
            f"{existing}: cannot write in this folder ({describe_oserror(exc)})"
        ) from None
    os.close(fd)
    os.unlink(probe)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by someone else
    return True


def remove_stale_staging(dest_dir: Path) -> list[Path]:
    """Remove staging folders in ``dest_dir`` left by dead writers on this host."""
    removed: list[Path] = []
    host = _host()
    try:
        candidates = list(dest_dir.glob(f"{TMP_PREFIX}*"))
    except OSError:
        return removed
    for p in candidates:
        m = _STAGING.match(p.name)
        if not m or m["host"] != host or not p.is_dir() or p.is_symlink():
            continue
        pid = int(m["pid"])
        if pid == os.getpid() or _pid_alive(pid):
            continue
        shutil.rmtree(p, ignore_errors=True)
        if not p.exists():
            removed.append(p)
    if removed:
        names = ", ".join(p.name for p in removed)
        warnings.warn(
            f"removed {len(removed)} staging folder(s) in {dest_dir} left by an "
            f"export that was killed: {names}",
            ExportWarning,
            stacklevel=3,
        )
    return removed


@contextmanager
def staging_dir(dest_dir: Path) -> Iterator[Path]:
    """A fresh hidden folder inside ``dest_dir``, removed with its content on exit."""
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(dest_dir)
        tmp = Path(
            tempfile.mkdtemp(
                prefix=f"{TMP_PREFIX}{_host()}-{os.getpid()}-", dir=dest_dir
            )
        )
    except OSError as exc:
        raise OutputPathError(f"{dest_dir}: {describe_oserror(exc)}") from None
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
        if _is_folder(final) and not _is_folder(p):
            raise OutputExistsError(
                f"{final} is a folder; an export replaces a file, or a folder store "
                "it wrote itself (such as .ome.zarr), never a folder with a file"
            )
        finals.append((p, final))
    for src, final in finals:
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            if _is_folder(final):  # a folder store replaced by its new version
                shutil.rmtree(final)
            os.replace(src, final)
        except OSError as exc:
            if exc.errno in (errno.EISDIR, errno.ENOTEMPTY):
                raise OutputExistsError(
                    f"{final} is a folder; an export replaces files only"
                ) from None
            raise ExportError(f"{final}: {describe_oserror(exc)}") from None
    return [f for _, f in finals]
