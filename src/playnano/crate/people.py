"""Who ran the runs a crate records, and on what terms its files may be used.

``--crate-author`` and ``--crate-license`` (or ``$PLAYNANO_CRATE_AUTHOR`` and
``$PLAYNANO_CRATE_LICENSE``) give them; a crate then names its authors (the
first is the ``agent`` of each run it records) and its licence, as RO-Crate asks
of a crate a repository is to publish. Only the standard library is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CrateIdentity",
    "Organization",
    "Person",
    "license_entity",
    "license_url",
    "parse_organization",
    "parse_person",
]

_ORCID = re.compile(r"^(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])/?$")
_NAMED = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<orcid>[^<>]+)>$")
_SPDX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]*$")
SPDX_BASE = "https://spdx.org/licenses/"


def _local_id(kind: str, name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"#{kind}-{slug or 'unnamed'}"


@dataclass(frozen=True)
class Organization:
    """A lab or institution: a name and, optionally, its URL (a ROR id)."""

    name: str
    url: str | None = None

    @property
    def id(self) -> str:
        """The entity's ``@id``: its URL, else a local ``#organization-…`` name."""
        return self.url or _local_id("organization", self.name)

    def entity(self) -> dict[str, Any]:
        """The ``Organization`` entity of the crate's graph."""
        entity: dict[str, Any] = {"@id": self.id, "@type": "Organization"}
        if self.name:
            entity["name"] = self.name
        if self.url:
            entity["url"] = self.url
        return entity


@dataclass(frozen=True)
class Person:
    """An author: a name, an ORCID iD (``https://orcid.org/…``), or both, and the
    organization they work for, when known."""

    name: str
    orcid: str | None = None
    affiliation: Organization | None = None

    @property
    def id(self) -> str:
        """The entity's ``@id``: the ORCID iD, else a local ``#person-…`` name."""
        return self.orcid or _local_id("person", self.name)

    def entity(self) -> dict[str, Any]:
        """The ``Person`` entity of the crate's graph."""
        entity: dict[str, Any] = {"@id": self.id, "@type": "Person"}
        if self.name:
            entity["name"] = self.name
        if self.affiliation is not None:
            entity["affiliation"] = {"@id": self.affiliation.id}
        return entity


@dataclass(frozen=True)
class CrateIdentity:
    """Who ran the runs a crate records and on what terms its files may be used.

    ``authors`` (the first is the ``agent`` of each new run), ``license`` (a URL;
    None: not stated) and ``publisher`` (the authors' organization unless they
    name their own).
    """

    authors: tuple[Person, ...] = ()
    license: str | None = None
    publisher: Organization | None = None

    def people(self) -> tuple[Person, ...]:
        """The authors, each affiliated with the publisher unless given another."""
        org = self.publisher
        return tuple(
            Person(a.name, a.orcid, a.affiliation or org) for a in self.authors
        )


def _orcid_checks(digits: str) -> bool:
    """ISO 7064 11,2, the check character of every ORCID iD."""
    total = 0
    for ch in digits[:-1]:
        total = (total + int(ch)) * 2
    check = (12 - total % 11) % 11
    return digits[-1] == ("X" if check == 10 else str(check))


def _orcid(text: str) -> str:
    found = _ORCID.match(text.strip())
    if found is None:
        raise ValueError(
            f"{text.strip()!r} is not an ORCID iD (0000-0000-0000-0000, or its "
            "https://orcid.org/ URL)"
        )
    digits = found.group(1).replace("-", "")
    if not _orcid_checks(digits):
        raise ValueError(
            f"{found.group(1)} is not a valid ORCID iD (its check digit is wrong; "
            "a digit may be mistyped)"
        )
    return f"https://orcid.org/{found.group(1)}"


def parse_person(text: str) -> Person:
    """``"Name"``, ``"Name <ORCID iD>"`` or an ORCID iD alone, as a :class:`Person`.

    Raises
    ------
    ValueError
        An empty text, or an ORCID iD that is malformed or fails its check digit.
    """
    text = text.strip()
    if not text:
        raise ValueError("an author needs a name or an ORCID iD")
    named = _NAMED.match(text)
    if named:
        return Person(named.group("name").strip(), _orcid(named.group("orcid")))
    if _ORCID.match(text) or re.fullmatch(r"[\d-]+X?", text):
        return Person("", _orcid(text))
    return Person(text)


def parse_organization(text: str) -> Organization:
    """``"Name"`` or ``"Name <URL>"`` (a ROR id, ``https://ror.org/…``, say).

    Raises
    ------
    ValueError
        An empty name, or a URL that is not http(s).
    """
    text = text.strip()
    named = _NAMED.match(text)
    name, url = (
        (named.group("name").strip(), named.group("orcid").strip())
        if (named)
        else (text, None)
    )
    if not name:
        raise ValueError("an organization needs a name")
    if url is not None and not re.match(r"^https?://\S+$", url):
        raise ValueError(f"{url!r} is not a URL (such as https://ror.org/052gg0110)")
    return Organization(name, url)


def license_url(text: str) -> str:
    """A licence as its URL: an SPDX identifier (``CC-BY-4.0``) becomes its
    ``https://spdx.org/licenses/`` page; an http(s) URL is kept.

    Raises
    ------
    ValueError
        Anything else (a licence is named so that a machine can tell which).
    """
    text = text.strip()
    if re.match(r"^https?://\S+$", text):
        return text
    if _SPDX.match(text):
        return SPDX_BASE + text
    raise ValueError(
        f"{text!r} is not an SPDX licence identifier (such as CC-BY-4.0) or a URL"
    )


def license_entity(url: str) -> dict[str, Any]:
    """The ``CreativeWork`` entity of a licence URL (named by its SPDX id)."""
    name = url[len(SPDX_BASE) :] if url.startswith(SPDX_BASE) else url
    return {"@id": url, "@type": "CreativeWork", "name": name}
