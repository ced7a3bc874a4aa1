"""A folder's crate on disk: read it, write it keeping earlier intact actions,
summarise it (see :mod:`playnano.crate`)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from playnano.crate.document import (
    CRATE_NAME,
    FAILED,
    NO_LICENSE,
    PROCESS_RUN_CRATE,
    RunAction,
    crate_document,
)
from playnano.crate.people import CrateIdentity, Organization, Person
from playnano.io.atomic import TMP_PREFIX


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
        for key in ("object", "result", "softwareRequirements", "agent"):
            value = entity.get(key, [])
            refs += value if isinstance(value, list) else [value]
        for ref in refs:
            target = graph.get(ref.get("@id") if isinstance(ref, dict) else None)
            if target is not None:
                kept.append(target)
    return kept


def _earlier_organization(
    ref: Any, graph: Mapping[Any, Mapping[str, Any]]
) -> Organization | None:
    entity = graph.get(ref.get("@id") if isinstance(ref, dict) else None)
    if entity is None or entity.get("@type") != "Organization":
        return None
    oid = str(entity["@id"])
    return Organization(str(entity.get("name") or ""), None if oid[0] == "#" else oid)


def _earlier_authors(
    root: Mapping[str, Any], graph: Mapping[Any, Mapping[str, Any]]
) -> list[Person]:
    """The authors an earlier crate names, as it gave them."""
    refs = root.get("author", [])
    out = []
    for ref in refs if isinstance(refs, list) else [refs]:
        entity = graph.get(ref.get("@id") if isinstance(ref, dict) else None)
        if entity is None or entity.get("@type") != "Person":
            continue
        pid = str(entity["@id"])
        orcid = pid if pid.startswith("https://orcid.org/") else None
        org = _earlier_organization(entity.get("affiliation"), graph)
        out.append(Person(str(entity.get("name") or ""), orcid, org))
    return out


def _earlier_license(root: Mapping[str, Any]) -> str | None:
    """The licence an earlier crate states (its URL or its sentence)."""
    value = root.get("license")
    if isinstance(value, dict):
        value = value.get("@id")
    return value if isinstance(value, str) and value else None


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
    identity: CrateIdentity | None = None,
) -> Path:
    """Write ``folder/ro-crate-metadata.json`` for ``actions``; return its path.

    With ``keep_earlier`` the actions of a crate already in the folder stay when
    their outputs are all intact (see :func:`_kept_entities`), and so do its
    authors, licence and publisher where ``identity`` names none (a resumed batch
    run without ``--crate-author`` keeps the crate's); the first author named now
    is the ``agent`` of ``actions`` (a run naming nobody has none). The licence defaults to
    :data:`NO_LICENSE`. The file is written under a temporary name and renamed,
    so a reader never sees half of it.
    """
    target = Path(folder) / CRATE_NAME
    replaced = {o.path for a in actions for o in a.outputs}
    old = read_crate(folder) if keep_earlier else None
    kept = _kept_entities(old, Path(folder), replaced) if old else []
    identity = identity or CrateIdentity()
    authors: Sequence[Person] = identity.people()
    agent = authors[0] if authors else None  # who ran these: only when named now
    license, publisher = identity.license, identity.publisher
    if old is not None:
        graph = {e.get("@id"): e for e in old.get("@graph", []) if isinstance(e, dict)}
        root = graph.get("./") or {}
        authors = authors or _earlier_authors(root, graph)
        license = license or _earlier_license(root)
        publisher = publisher or _earlier_organization(root.get("publisher"), graph)
    doc = crate_document(
        [(new_action_id(), a) for a in actions],
        name=name,
        description=description,
        published=published,
        playnano_version=playnano_version,
        kept=kept,
        license=license or NO_LICENSE,
        authors=authors,
        publisher=publisher,
        agent=agent,
    )
    tmp = target.with_name(f"{TMP_PREFIX}{uuid.uuid4().hex}.json")
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
