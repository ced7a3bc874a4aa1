"""The crate document: its constants, the plain records of a run, and the
JSON-LD entities built from them (see :mod:`playnano.crate`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from playnano.crate.people import Organization, Person, license_entity

CRATE_NAME = "ro-crate-metadata.json"
CONTEXT = "https://w3id.org/ro/crate/1.1/context"
RO_CRATE = "https://w3id.org/ro/crate/1.1"
PROCESS_RUN_CRATE = "https://w3id.org/ro/wfrun/process/0.5"
COMPLETED = "http://schema.org/CompletedActionStatus"
FAILED = "http://schema.org/FailedActionStatus"
PLAYNANO_ID = "#playnano"
#: The data's owner decides its terms; playnano cannot know them.
NO_LICENSE = "Not stated by playnano: the terms of use are set by the owner of the data"


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
    authors: Sequence[Person] = (),
    publisher: Organization | None = None,
    agent: Person | None = None,
) -> dict[str, Any]:
    """The whole ``ro-crate-metadata.json`` document for ``(id, action)`` pairs.

    ``kept`` are entities of earlier actions carried over unchanged (see
    :func:`write_crate`); their outputs must be among ``kept`` too. ``license``
    is an SPDX URL (``https://spdx.org/licenses/CC-BY-4.0``; it gets an entity of
    its own) or, as RO-Crate allows, a sentence on how the data may be used.
    ``authors`` are the crate's authors and ``publisher`` the organization
    publishing it; ``agent`` (one of ``authors``) ran each of ``actions``.
    """
    graph: dict[str, dict[str, Any]] = {}

    def add(entity: dict[str, Any]) -> None:
        graph.setdefault(entity["@id"], entity)

    action_ids: list[str] = []
    parts: list[str] = []
    for action_id, action in actions:
        action_ids.append(action_id)
        entities = action_entities(action, action_id, playnano_version)
        if agent is not None:
            entities[0]["agent"] = {"@id": agent.id}
        for entity in entities:
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
    if authors:
        root["author"] = _ref(list(dict.fromkeys(a.id for a in authors)))
    people = [a.entity() for a in authors]
    people += [a.affiliation.entity() for a in authors if a.affiliation]
    if publisher is not None:
        root["publisher"] = {"@id": publisher.id}
        people.append(publisher.entity())
    if license.startswith("http"):
        people.append(license_entity(license))
    for entity in people:  # the latest word on a person or licence wins
        graph[entity["@id"]] = entity
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
