"""NPZ bundle exporter: data, processed layers, masks, metadata and provenance.

The layout is :mod:`playnano.formats.npz.layout`. Members are standard zip deflate
(``np.load``, ``unzip`` and playnano 0.5.0 read them), streamed frame by frame and
compressed on every core in independent blocks by :mod:`playnano.formats.npz.zipstream`; the
file is the same whatever the thread count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from playnano.formats.bundle import bundle_contents, same_array
from playnano.formats.npz import layout
from playnano.formats.npz.zipstream import ZipWriter
from playnano.plugins import Capabilities, Option, hookimpl

if TYPE_CHECKING:
    from playnano.afm_stack import AFMImageStack


class NpzExporter:
    """Write a stack as a compressed NumPy ``.npz`` bundle."""

    name = "npz"
    aliases: tuple[str, ...] = ()
    suffix = layout.SUFFIX
    media_type = "application/zip"
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
            "deflate level 0-9 (0 stores uncompressed; higher is smaller and slower)",
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
        written: list[tuple[np.ndarray, str]] = []
        with open(path, "w+b") as fh:  # read too: a repeated array is copied back
            zw = ZipWriter(fh)
            for key, arr in layout.members(stack, contents):
                name = f"{key}{layout.MEMBER_SUFFIX}"
                # ``data`` is usually the last layer: compress it once, store it twice
                same = next((n for a, n in written if same_array(a, arr)), None)
                if same is not None:
                    zw.add_copy(name, same)
                    continue
                zw.add_array(name, arr, compress_level)
                if arr.ndim == 3:
                    written.append((arr, name))
            zw.close()
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the NPZ exporter."""
    register(NpzExporter())
