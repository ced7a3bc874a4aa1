"""A run's provenance crate: the fields a run adds to its record, and the crate of
a folder's records (:mod:`playnano.crate` builds the document).

``batch`` writes ``ro-crate-metadata.json`` beside its outputs at the end of every
run (also after Ctrl-C), ``process --crate`` after its run. Each output is hashed
after it is in place (while the page cache still holds it), one read of each output;
the input's digest is the one the reader recorded, so the input is not read again.
"""

from __future__ import annotations

import mimetypes
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack
    from playnano.crate import CrateIdentity, RunAction
    from playnano.run.plan import Plan
    from playnano.run.settings import RunSettings
    from playnano.run.write import ExportResult

__all__ = [
    "CrateLog",
    "action_of",
    "media_type",
    "output_files",
    "size_of",
    "source_fields",
    "write_folder_crate",
]

#: Media types of common output suffixes that :mod:`mimetypes` does not know.
_MEDIA_TYPES = {".h5": "application/x-hdf5", ".hdf5": "application/x-hdf5",
                ".npz": "application/zip", ".gwy": "application/x-gwyddion-spm"}  # fmt: skip


def media_type(exporter: Any, path: Path) -> str:
    """The output's media type: the format's declared ``media_type``, else one known
    for its suffix, else ``""``."""
    declared = getattr(exporter, "media_type", "")  # optional in the Exporter protocol
    if isinstance(declared, str) and declared:
        return declared
    suffix = path.suffix.lower()
    return _MEDIA_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or ""


def size_of(path: str | Path) -> int:
    """Bytes of a file, or of every file below a folder."""
    p = Path(path)
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size


def source_fields(stack: AFMImageStack, input_path: str | Path) -> dict[str, Any]:
    """What a record says of its input once read: reader, size, reader plugin."""
    from playnano.plugins.registry import readers

    source = stack.provenance.get("source") or {}
    reader = str(source.get("reader") or "")
    fields: dict[str, Any] = {"reader": reader, "input_bytes": size_of(input_path)}
    try:
        entry = readers().resolve(reader, check_dependencies=False)
        fields["software"] = {entry.plugin.dist: entry.plugin.version or ""}
    except Exception:  # a reader that left no name: the crate just omits it
        fields["software"] = {}
    return fields


def output_files(plan: Plan, results: Sequence[ExportResult]) -> list[dict[str, Any]]:
    """Each written output as a plain dict: path, format, SHA-256, bytes, media type,
    plugin and version; folder outputs (a PNG sequence, a store) hashed as folders
    (:func:`playnano.provenance.sha256_of`)."""
    from playnano.provenance import sha256_of

    by_format = {o.format: o for o in plan.outputs}
    files: list[dict[str, Any]] = []
    for result in results:
        output = by_format.get(result.format)
        for path in result.paths:
            entry = output.entry if output is not None else None
            files.append(
                {
                    "path": str(path),
                    "format": result.format,
                    "sha256": sha256_of(path),
                    "bytes": size_of(path),
                    "folder": Path(path).is_dir(),
                    "media_type": media_type(entry.obj if entry else None, Path(path)),
                    "plugin": entry.plugin.dist if entry else "",
                    "plugin_version": (entry.plugin.version or "") if entry else "",
                }
            )
    return files


def action_of(record: Mapping[str, Any], folder: Path) -> RunAction:
    """The crate's action for one run record (``run_one``'s, or ``process``'s)."""
    from playnano.crate import OutputRecord, RunAction

    settings = record.get("settings") or {}
    outputs = []
    software = dict(record.get("software") or {})
    for f in record.get("files") or []:
        rel = Path(os.path.relpath(f["path"], folder)).as_posix()
        outputs.append(
            OutputRecord(
                path=rel + ("/" if f.get("folder") else ""),
                format=f["format"],
                sha256=f["sha256"],
                size=int(f["bytes"]),
                media_type=f.get("media_type") or "",
                plugin=f.get("plugin") or "",
                plugin_version=f.get("plugin_version") or "",
                is_folder=bool(f.get("folder")),
            )
        )
        if f.get("plugin"):
            software.setdefault(f["plugin"], f.get("plugin_version") or "")
    options: dict[str, Any] = dict(settings.get("options") or {})
    if settings.get("shared_options"):
        options["shared"] = settings["shared_options"]
    command = record.get("command") or {}
    return RunAction(
        input=str(record["input"]),
        input_sha256=record.get("sha256"),
        input_size=record.get("input_bytes"),
        status=str(record.get("status")),
        started=str(record.get("started") or ""),
        finished=str(record.get("finished") or ""),
        steps=[(name, params) for name, params in settings.get("steps") or []],
        formats=list(settings.get("formats") or []),
        options=options,
        raw=bool(settings.get("raw")),
        channel=settings.get("channel"),
        reader=str(record.get("reader") or ""),
        software=software,
        outputs=outputs,
        error=record.get("error"),
        command=command.get("argv") if isinstance(command, Mapping) else None,
    )


def write_folder_crate(
    folder: str | Path,
    records: Iterable[Mapping[str, Any]],
    *,
    name: str,
    description: str,
    identity: CrateIdentity | None = None,
) -> Path:
    """Write ``folder``'s ``ro-crate-metadata.json`` for ``records`` (those never
    started, ``pending``/``interrupted``, are left out); earlier actions whose
    outputs are intact stay (:func:`playnano.crate.write_crate`). ``identity``
    names the crate's authors, licence and publisher."""
    from playnano.__about__ import __version__
    from playnano.crate import write_crate
    from playnano.provenance import utc_now

    root = Path(folder)
    actions = [
        action_of(r, root)
        for r in records
        if r.get("status") not in ("pending", "interrupted") and r.get("started")
    ]
    return write_crate(
        root,
        actions,
        name=name,
        description=description,
        published=utc_now(),
        playnano_version=__version__,
        identity=identity,
    )


class CrateLog:
    """One ``process`` run's record for its folder's crate.

    Create it before the run, pass :meth:`read` as the executor's ``on_read``, and
    call :meth:`write` with the plan and the results afterwards. ``identity``
    names the crate's authors, licence and publisher.
    """

    def __init__(
        self,
        input_path: str | Path | None,
        settings: RunSettings,
        command: Mapping[str, Any] | None,
        identity: CrateIdentity | None = None,
    ) -> None:
        from playnano.provenance import utc_now

        self.identity = identity
        self.input = input_path
        self.record: dict[str, Any] = {
            "input": str(input_path) if input_path is not None else "synthetic",
            "settings": settings.fingerprint(),
            "started": utc_now(),
            "command": {"argv": (command or {}).get("argv")},
        }

    def read(self, stack: AFMImageStack) -> None:
        """Note the input's digest, size and reader once it is read."""
        source = stack.provenance.get("source") or {}
        self.record["sha256"] = source.get("sha256")
        if self.input is not None:
            self.record.update(source_fields(stack, self.input))

    def write(
        self,
        plan: Plan,
        results: Sequence[ExportResult],
        stack: AFMImageStack | None = None,
    ) -> Path:
        """Hash the outputs and write the folder's crate; return its path."""
        from playnano.provenance import utc_now

        if stack is not None and "sha256" not in self.record:
            self.read(stack)  # a stack given in memory: no read to note
        files = output_files(plan, results)
        errors = [f"{r.format}: {r.error}" for r in results if r.error is not None]
        status = "ok" if not errors else ("partial" if files else "failed")
        self.record.update(
            files=files,
            status=status,
            error="; ".join(errors) or None,
            finished=utc_now(),
        )
        return write_folder_crate(
            plan.folder,
            [self.record],
            name="playnano outputs",
            description="Files written by playnano process runs",
            identity=self.identity,
        )
