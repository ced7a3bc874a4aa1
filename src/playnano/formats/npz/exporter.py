"""NPZ bundle exporter: data, processed layers, masks, metadata and provenance.

The layout is :mod:`playnano.formats.npz.layout`. Each member is compressed and
written straight into the zip, one at a time.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.formats.bundle import bundle_contents
from playnano.formats.npz import layout
from playnano.plugins import Capabilities, Option, hookimpl

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


class NpzExporter:
    """Write a stack as a compressed NumPy ``.npz`` bundle."""

    name = "npz"
    aliases: tuple[str, ...] = ()
    suffix = layout.SUFFIX
    description = (
        "NumPy zip bundle: data, processed layers, masks, frame metadata, provenance"
    )
    capabilities = Capabilities(
        supports_raw=True,
        supports_processed_layers=True,
        supports_masks=True,
        supports_provenance=True,
        supports_timestamps=True,
        lossy=False,
        streaming=True,
    )
    options = (
        Option(
            "compress_level",
            "int",
            1,
            "zlib level 0-9 (0 stores uncompressed; higher is smaller and slower)",
            minimum=0,
            maximum=9,
        ),
    )
    requires: tuple[str, ...] = ()
    install_hint = ""

    def export(
        self,
        stack: AFMImageStack,
        path: Path,
        *,
        raw: bool = False,
        compress_level: int = 1,
    ) -> list[Path]:
        """Write ``stack`` to ``path`` as an NPZ bundle; return ``[path]``."""
        contents = bundle_contents(stack, raw)
        method = zipfile.ZIP_DEFLATED if compress_level > 0 else zipfile.ZIP_STORED
        with zipfile.ZipFile(
            path, "w", compression=method, compresslevel=compress_level or None
        ) as zf:
            for key, arr in layout.members(stack, contents):
                # force_zip64: member sizes are unknown until written (>4 GiB safe)
                name = f"{key}{layout.MEMBER_SUFFIX}"
                with zf.open(name, "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, arr, allow_pickle=False)
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the NPZ exporter."""
    register(NpzExporter())
