"""RO-Crate records of runs: which software, with which parameters, turned which
inputs (by SHA-256) into which outputs.

A run's output folder gets ``ro-crate-metadata.json``, an `RO-Crate 1.1
<https://w3id.org/ro/crate/1.1>`_ that follows the `Process Run Crate 0.5
<https://w3id.org/ro/wfrun/process/0.5>`_ profile, the form data repositories
(Zenodo, InvenioRDM, WorkflowHub) read. Each input becomes one ``CreateAction``:

- ``instrument``: playnano (with its version) and, as its ``softwareRequirements``,
  every plugin that read or wrote a file of the action, with versions;
- ``object``: the input file (``#input-…``: inputs live outside the crate, so they
  are named by path as given, SHA-256 and size), then one ``PropertyValue`` per
  setting (each step in the CLI's ``name:param=value`` syntax, the formats and
  their options, channel, raw);
- ``result``: each output inside the folder by relative path, with its SHA-256,
  size, format and media type (a folder output, such as a PNG sequence or an
  OME-Zarr store, is a ``Dataset`` whose SHA-256 is
  :func:`playnano.provenance.sha256_of`'s folder digest);
- ``startTime``, ``endTime``, ``actionStatus`` (completed or failed) and, for a
  failed or partly failed input, ``error`` (its one-line message).

The crate describes the files that are in the folder: writing it again (a second
``process --crate`` into the same folder, a resumed batch) keeps earlier actions
whose outputs are all still there and unchanged, and drops those whose outputs were
replaced or removed. Only JSON is built here; nothing is imported beyond the
standard library.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

CRATE_NAME = "ro-crate-metadata.json"
CONTEXT = "https://w3id.org/ro/crate/1.1/context"
RO_CRATE = "https://w3id.org/ro/crate/1.1"
PROCESS_RUN_CRATE = "https://w3id.org/ro/wfrun/process/0.5"
COMPLETED = "http://schema.org/CompletedActionStatus"
FAILED = "http://schema.org/FailedActionStatus"
PLAYNANO_ID = "#playnano"
#: The data's owner decides its terms; playnano cannot know them.
NO_LICENSE = "Not stated by playnano: the terms of use are set by the owner of the data"

#: Temporary-name prefix of outputs being written (the crate's own staging file).
_TMP_PREFIX = ".playnano-partial-"


@dataclass(frozen=True)
class OutputRecord:
    """One file or folder an action wrote, as the crate lists it.

    ``path`` is relative to the crate's folder (POSIX separators); ``format`` is
    the format's name (``h5``), ``plugin``/``plugin_version`` the distribution that
    provides it; ``media_type`` may be empty when the format declares none.
    """

    path: str
    format: str
    sha256: str
    size: int
    media_type: str = ""
    plugin: str = ""
    plugin_version: str = ""
    is_folder: bool = False


@dataclass(frozen=True)
class RunAction:
    """One input turned into its outputs, as plain values.

    Parameters
    ----------
    input : str
        The input as the user gave it.
    input_sha256, input_size : str, int
        Digest and size (bytes) of the input (a folder: its folder digest and the
        total size of its files); ``None`` when it could not be read at all.
    status : str
        ``ok``, ``partial`` (some formats failed), ``failed`` or ``skipped``
        (done by an earlier run whose record this is).
    started, finished : str
        ISO 8601 times with milliseconds and a ``+00:00`` offset
        (:func:`playnano.provenance.utc_now`).
    steps : sequence of (name, params)
        The processing steps in order.
    formats : sequence of str
        The formats requested.
    options : mapping
        Per-format options, and ``shared`` for options given to every format.
    reader : str
        The reader plugin's name (empty when the input was never read).
    software : mapping of str to str
        Distribution name to version for every plugin the action used (reader,
        steps, formats).
    outputs : sequence of OutputRecord
    error : str, optional
    command : str, optional
        The command line, when the action came from one.
    """

    input: str
    input_sha256: str | None
    input_size: int | None
    status: str
    started: str
    finished: str
    steps: Sequence[tuple[str, Mapping[str, Any]]] = ()
    formats: Sequence[str] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    raw: bool = False
    channel: str | None = None
    reader: str = ""
    software: Mapping[str, str] = field(default_factory=dict)
    outputs: Sequence[OutputRecord] = ()
    error: str | None = None
    command: str | None = None


def step_text(name: str, params: Mapping[str, Any]) -> str:
    """A step in the CLI's syntax: ``gaussian_filter:sigma=2``."""
    if not params:
        return name
    return name + ":" + ",".join(f"{k}={_plain(v)}" for k, v in params.items())


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_plain(v) for v in value) + "]"
    return str(value)


def _ref(ids: Sequence[str]) -> Any:
    """One ``{"@id"}`` or a list of them (RO-Crate prefers single values)."""
    refs = [{"@id": i} for i in ids]
    return refs[0] if len(refs) == 1 else refs


def _input_id(action: RunAction) -> str:
    key = f"{action.input}\0{action.input_sha256 or ''}".encode()
    return "#input-" + hashlib.sha256(key).hexdigest()[:16]


def _software_id(dist: str, version: str) -> str:
    return f"#software-{dist}-{version}" if version else f"#software-{dist}"


def _property(action_id: str, n: int, name: str, value: Any) -> dict[str, Any]:
    return {
        "@id": f"{action_id}-param-{n}",
        "@type": "PropertyValue",
        "name": name,
        "value": value
        if isinstance(value, (str, int, float, bool))
        else json.dumps(value),
    }


def action_entities(
    action: RunAction, action_id: str, playnano_version: str
) -> list[dict[str, Any]]:
    """The JSON-LD entities of one action: itself, its input, settings and software.

    Output files are not included (several actions may list the same folder's
    files; :func:`crate_document` adds each once).
    """
    entities: list[dict[str, Any]] = []
    objects: list[str] = []
    if action.input_sha256 is not None or action.input_size is not None:
        in_id = _input_id(action)
        entity: dict[str, Any] = {
            "@id": in_id,
            "@type": "File",
            "name": action.input,
            "description": "Input, outside the crate (named by the path given)",
        }
        if action.input_sha256:
            entity["sha256"] = action.input_sha256
        if action.input_size is not None:
            entity["contentSize"] = str(action.input_size)
        entities.append(entity)
        objects.append(in_id)
    params: list[tuple[str, Any]] = [
        (f"step {i}: {name}", step_text(name, p))
        for i, (name, p) in enumerate(action.steps, 1)
    ]
    params.append(("formats", " ".join(action.formats)))
    params += [(f"options: {k}", dict(v)) for k, v in action.options.items() if v]
    if action.channel:
        params.append(("channel", action.channel))
    params.append(("raw", bool(action.raw)))
    for n, (name, value) in enumerate(params, 1):
        entities.append(_property(action_id, n, name, value))
        objects.append(f"{action_id}-param-{n}")
    requirements = [
        _software_id(d, v)
        for d, v in sorted(action.software.items())
        if d != "playnano"
    ]
    main: dict[str, Any] = {
        "@id": action_id,
        "@type": "CreateAction",
        "name": f"playnano: {action.input}",
        "description": action.command
        or f"Read {action.input}, ran {len(action.steps)} step(s), wrote "
        + (", ".join(action.formats) or "nothing"),
        "instrument": {"@id": PLAYNANO_ID},
        "object": _ref(objects),
        "startTime": action.started,
        "endTime": action.finished,
        "actionStatus": FAILED if action.status in ("failed", "partial") else COMPLETED,
    }
    if action.outputs:
        main["result"] = _ref([o.path for o in action.outputs])
    if action.error and main["actionStatus"] == FAILED:
        main["error"] = action.error
    if action.status == "skipped":
        main["description"] += " (outputs kept from an earlier run)"
    if requirements:
        main["softwareRequirements"] = _ref(requirements)
    entities.insert(0, main)
    for dist, version in sorted(action.software.items()):
        if dist == "playnano":
            continue
        entities.append(
            {
                "@id": _software_id(dist, version),
                "@type": "SoftwareApplication",
                "name": dist,
                "softwareVersion": version or "unknown",
            }
        )
    return entities


def output_entity(out: OutputRecord) -> dict[str, Any]:
    """The data entity of one output (a ``File``, or a ``Dataset`` for a folder)."""
    entity: dict[str, Any] = {
        "@id": out.path,
        "@type": "Dataset" if out.is_folder else "File",
        "name": PurePosixPath(out.path.rstrip("/")).name,
        "sha256": out.sha256,
        "contentSize": str(out.size),
        "description": f"playnano {out.format} output"
        + (f" ({out.plugin} {out.plugin_version})" if out.plugin else ""),
    }
    if out.media_type:
        entity["encodingFormat"] = out.media_type
    return entity


def crate_document(
    actions: Iterable[tuple[str, RunAction]],
    *,
    name: str,
    description: str,
    published: str,
    playnano_version: str,
    kept: Sequence[dict[str, Any]] = (),
    license: str = NO_LICENSE,
) -> dict[str, Any]:
    """The whole ``ro-crate-metadata.json`` document for ``(id, action)`` pairs.

    ``kept`` are entities of earlier actions carried over unchanged (see
    :func:`write_crate`); their outputs must be among ``kept`` too. ``license``
    is an SPDX URL (``https://spdx.org/licenses/CC-BY-4.0``) or, as RO-Crate
    allows, a sentence on how the data may be used.
    """
    graph: dict[str, dict[str, Any]] = {}

    def add(entity: dict[str, Any]) -> None:
        graph.setdefault(entity["@id"], entity)

    action_ids: list[str] = []
    parts: list[str] = []
    for action_id, action in actions:
        action_ids.append(action_id)
        for entity in action_entities(action, action_id, playnano_version):
            add(entity)
        for out in action.outputs:
            graph[out.path] = output_entity(out)  # the newest bytes win
            parts.append(out.path)
    for entity in kept:
        add(entity)
        types = entity.get("@type")
        if types == "CreateAction":
            action_ids.append(entity["@id"])
        elif types in ("File", "Dataset") and not entity["@id"].startswith("#"):
            parts.append(entity["@id"])
    root: dict[str, Any] = {
        "@id": "./",
        "@type": "Dataset",
        "name": name,
        "description": description,
        "datePublished": published,
        "license": {"@id": license} if license.startswith("http") else license,
        "conformsTo": {"@id": PROCESS_RUN_CRATE},
        "mentions": _ref(list(dict.fromkeys(action_ids))),
    }
    if parts:
        root["hasPart"] = _ref(list(dict.fromkeys(parts)))
    head = [
        {
            "@id": CRATE_NAME,
            "@type": "CreativeWork",
            "conformsTo": {"@id": RO_CRATE},
            "about": {"@id": "./"},
        },
        root,
        {
            "@id": PROCESS_RUN_CRATE,
            "@type": "CreativeWork",
            "name": "Process Run Crate",
            "version": "0.5",
        },
        {
            "@id": PLAYNANO_ID,
            "@type": "SoftwareApplication",
            "name": "playnano",
            "softwareVersion": playnano_version,
            "description": "Reads high-speed AFM videos, processes them and "
            "exports them to open formats",
        },
    ]
    return {"@context": CONTEXT, "@graph": head + list(graph.values())}


def _kept_entities(
    old: Mapping[str, Any], folder: Path, replaced: set[str]
) -> list[dict[str, Any]]:
    """Entities of an earlier crate's actions whose outputs are all still intact.

    An output counts as intact when it is not being replaced now and its size on
    disk still matches the recorded one (the digest is not recomputed: that would
    read every earlier output again).
    """
    graph = {e.get("@id"): e for e in old.get("@graph", []) if isinstance(e, dict)}
    kept: list[dict[str, Any]] = []
    for entity in graph.values():
        if entity.get("@type") != "CreateAction":
            continue
        results = entity.get("result", [])
        results = results if isinstance(results, list) else [results]
        paths = [r.get("@id") for r in results if isinstance(r, dict)]
        if any(p in replaced or not _intact(folder, graph.get(p)) for p in paths):
            continue
        kept.append(entity)
        refs = []
        for key in ("object", "result", "softwareRequirements"):
            value = entity.get(key, [])
            refs += value if isinstance(value, list) else [value]
        for ref in refs:
            target = graph.get(ref.get("@id") if isinstance(ref, dict) else None)
            if target is not None:
                kept.append(target)
    return kept


def _intact(folder: Path, entity: Mapping[str, Any] | None) -> bool:
    if entity is None:
        return False
    path = folder / str(entity["@id"])
    try:
        if path.is_dir():
            size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        else:
            size = path.stat().st_size
    except OSError:
        return False
    return str(size) == str(entity.get("contentSize"))


def read_crate(folder: str | Path) -> dict[str, Any] | None:
    """The crate document in ``folder``, or ``None`` when there is none or it is
    not a JSON object."""
    try:
        doc = json.loads((Path(folder) / CRATE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def new_action_id() -> str:
    """A fresh identifier for an action (unique across runs into one folder)."""
    return f"#run-{uuid.uuid4().hex[:12]}"


def write_crate(
    folder: str | Path,
    actions: Sequence[RunAction],
    *,
    name: str,
    description: str,
    published: str,
    playnano_version: str,
    keep_earlier: bool = True,
    license: str = NO_LICENSE,
) -> Path:
    """Write ``folder/ro-crate-metadata.json`` for ``actions``; return its path.

    With ``keep_earlier`` the actions of a crate already in the folder stay when
    their outputs are all intact (see :func:`_kept_entities`). The file is written
    under a temporary name and renamed, so a reader never sees half of it.
    """
    target = Path(folder) / CRATE_NAME
    replaced = {o.path for a in actions for o in a.outputs}
    old = read_crate(folder) if keep_earlier else None
    kept = _kept_entities(old, Path(folder), replaced) if old else []
    doc = crate_document(
        [(new_action_id(), a) for a in actions],
        name=name,
        description=description,
        published=published,
        playnano_version=playnano_version,
        kept=kept,
        license=license,
    )
    tmp = target.with_name(f"{_TMP_PREFIX}{uuid.uuid4().hex}.json")
    try:
        with open(tmp, "x", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=1, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def crate_summary(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a crate says in brief: software, actions by status, inputs, outputs."""
    graph = [e for e in doc.get("@graph", []) if isinstance(e, dict)]
    actions = [e for e in graph if e.get("@type") == "CreateAction"]
    software = {
        str(e.get("name")): str(e.get("softwareVersion") or e.get("version") or "")
        for e in graph
        if e.get("@type") == "SoftwareApplication"
    }
    failed = [a for a in actions if a.get("actionStatus") == FAILED]
    outputs = [
        e for e in graph if e.get("@type") in ("File", "Dataset") and e["@id"] != "./"
        and not str(e["@id"]).startswith("#")
    ]  # fmt: skip
    inputs = [e for e in graph if str(e.get("@id", "")).startswith("#input-")]
    times = sorted(str(a.get("startTime", "")) for a in actions) or [""]
    ends = sorted(str(a.get("endTime", "")) for a in actions) or [""]
    return {
        "profile": PROCESS_RUN_CRATE,
        "software": software,
        "actions": len(actions),
        "failed": len(failed),
        "errors": [str(a.get("error")) for a in failed if a.get("error")],
        "inputs": len(inputs),
        "outputs": len(outputs),
        "started": times[0],
        "finished": ends[-1],
    }
