"""The Exporter protocol: what a format plugin declares and does."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from playnano.plugins.options import Option

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")


@dataclass(frozen=True)
class Capabilities:
    """What a format can hold; the core checks these before calling an exporter."""

    supports_raw: bool = True
    supports_processed_layers: bool = False
    supports_masks: bool = False
    supports_provenance: bool = False
    supports_timestamps: bool = False
    lossy: bool = False
    streaming: bool = False

    def labels(self) -> list[str]:
        """Short labels of the true flags, for tables."""
        names = {
            "supports_raw": "raw",
            "supports_processed_layers": "layers",
            "supports_masks": "masks",
            "supports_provenance": "provenance",
            "supports_timestamps": "timestamps",
            "lossy": "lossy",
            "streaming": "streaming",
        }
        return [label for key, label in names.items() if getattr(self, key)]

    def as_dict(self) -> dict[str, bool]:
        """The flags as a plain dict."""
        return asdict(self)


@runtime_checkable
class Exporter(Protocol):
    """A format that writes an :class:`~playnano.afm_stack.AFMImageStack` to disk.

    Attributes
    ----------
    name : str
        The token users type (``--export NAME``); lower case.
    aliases : tuple of str
        Other accepted tokens (``hdf5`` for ``h5``).
    suffix : str
        Default file suffix, compound ones allowed (``.ome.tif``).
    description : str
        One line.
    capabilities : Capabilities
        What the format holds.
    options : tuple of Option
        Keyword options ``export`` accepts, with types, defaults and help.
    requires : tuple of str
        Importable modules the exporter needs; checked without importing them.
    install_hint : str
        What to install when one of ``requires`` is missing.

    Notes
    -----
    Optional: ``media_type`` (str), the written file's media type
    (``image/tiff``; a folder output: its files' type), which provenance crates
    record as ``encodingFormat``; without it the suffix's usual type is used.
    """

    name: str
    aliases: tuple[str, ...]
    suffix: str
    description: str
    capabilities: Capabilities
    options: tuple[Option, ...]
    requires: tuple[str, ...]
    install_hint: str

    def export(
        self, stack: AFMImageStack, path: Path, *, raw: bool = False, **options: Any
    ) -> list[Path]:
        """Write one output for ``stack`` at ``path``; return the paths written."""
        ...
