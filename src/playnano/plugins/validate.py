"""Checks of what a plugin declares, run when it registers.

Each raises ``ValueError`` saying what is wrong; the registry records the message as
the plugin's error ("invalid format: suffix must look like '.ext'; got 'noDot'").
"""

from __future__ import annotations

import inspect
import re
from typing import Any


def _check_common(obj: Any, label: str) -> None:
    from playnano.plugins.exporter import NAME_RE

    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError(f"{label} name must be a lower-case token; got {name!r}")
    aliases = getattr(obj, "aliases", ())
    if not isinstance(aliases, (tuple, list)) or not all(
        isinstance(a, str) and NAME_RE.match(a.lower()) for a in aliases
    ):
        raise ValueError(f"{label} {name!r}: aliases must be a tuple of tokens")
    desc = getattr(obj, "description", None)
    if not isinstance(desc, str) or not desc.strip() or "\n" in desc.strip():
        raise ValueError(f"{label} {name!r}: description must be one non-empty line")
    requires = getattr(obj, "requires", ())
    if not isinstance(requires, (tuple, list)) or not all(
        isinstance(r, str) for r in requires
    ):
        raise ValueError(f"{label} {name!r}: requires must be a tuple of module names")


def validate_exporter(obj: Any) -> None:
    """Check an exporter's declarations; raise ``ValueError`` saying what is wrong."""
    from playnano.plugins.exporter import Capabilities
    from playnano.plugins.options import Option

    _check_common(obj, "exporter")
    suffix = getattr(obj, "suffix", None)
    # "_frames" too: a folder output named <base>_frames
    if not isinstance(suffix, str) or not re.match(
        r"^(\.[A-Za-z0-9_-]+)+$|^_[A-Za-z0-9_-]+$", suffix
    ):
        raise ValueError(
            f"exporter {obj.name!r}: suffix must look like '.ext'; got {suffix!r}"
        )
    if not isinstance(getattr(obj, "media_type", ""), str):
        raise ValueError(f"exporter {obj.name!r}: media_type must be a string")
    if not isinstance(getattr(obj, "capabilities", None), Capabilities):
        raise ValueError(f"exporter {obj.name!r}: capabilities must be a Capabilities")
    options = getattr(obj, "options", None)
    if not isinstance(options, (tuple, list)) or not all(
        isinstance(o, Option) for o in options
    ):
        raise ValueError(f"exporter {obj.name!r}: options must be a tuple of Option")
    export = getattr(obj, "export", None)
    if not callable(export):
        raise ValueError(f"exporter {obj.name!r} has no export() method")
    params = inspect.signature(export).parameters
    if "raw" not in params:
        raise ValueError(f"exporter {obj.name!r}: export() must accept raw=")


def validate_reader(obj: Any) -> None:
    """Check a reader's declarations; raise ``ValueError`` saying what is wrong.

    Every declaration of :class:`~playnano.plugins.reader.Reader` must be there
    (a :class:`~playnano.plugins.reader.ReaderBase` subclass has them all), each
    ``supports_*`` flag a bool, a declared door implemented (not inherited from
    the base's default), and a door a subclass implements declared.
    """
    from playnano.plugins.reader import DOORS, ReaderBase

    _check_common(obj, "reader")
    suffixes = getattr(obj, "suffixes", None)
    if not isinstance(suffixes, (tuple, list)) or not all(
        isinstance(s, str) and s.startswith(".") for s in suffixes
    ):
        raise ValueError(
            f"reader {obj.name!r}: suffixes must be a tuple like ('.asd',)"
        )
    hint = "subclass playnano.plugins.ReaderBase for the defaults"
    flags = (*DOORS, "supports_skip_damaged", "reads_folders")
    for flag in flags:
        if not isinstance(getattr(obj, flag, None), bool):
            raise ValueError(
                f"reader {obj.name!r}: {flag} must be declared True or False ({hint})"
            )
    content = getattr(obj, "content_suffixes", None)
    if not isinstance(content, (tuple, list)) or not all(
        isinstance(s, str) for s in content
    ):
        raise ValueError(
            f"reader {obj.name!r}: content_suffixes must be a tuple ({hint})"
        )
    for method in ("read", "can_read", *DOORS.values()):
        if not callable(getattr(obj, method, None)):
            raise ValueError(f"reader {obj.name!r} has no {method}() method ({hint})")
    if isinstance(obj, ReaderBase) and type(obj).read is ReaderBase.read:
        raise ValueError(f"reader {obj.name!r} does not implement read()")
    for flag, door in DOORS.items():
        inherited = getattr(type(obj), door, None) is getattr(ReaderBase, door)
        if getattr(obj, flag) and inherited:
            raise ValueError(
                f"reader {obj.name!r} declares {flag} but does not implement {door}()"
            )
        if isinstance(obj, ReaderBase) and not getattr(obj, flag) and not inherited:
            raise ValueError(
                f"reader {obj.name!r} implements {door}() but does not declare "
                f"{flag} = True"
            )


def validate_filter(obj: Any) -> None:
    """Check a filter declaration; raise ``ValueError`` saying what is wrong."""
    _check_common(obj, "filter")
    if not callable(getattr(obj, "func", None)):
        raise ValueError(f"filter {obj.name!r} has no callable func")
