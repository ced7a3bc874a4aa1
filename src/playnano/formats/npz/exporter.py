"""NPZ bundle exporter: data, processed layers, masks, metadata and provenance.

The layout is :mod:`playnano.formats.npz.layout`. Members are standard zip deflate
(``np.load``, ``unzip`` and playnano 0.5.0 read them), streamed frame by frame and
compressed on every core in independent blocks by :mod:`playnano.formats.npz.zipstream`; the
file is the same whatever the thread count.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from playnano.formats.bundle import bundle_contents, same_array
from playnano.formats.npz import layout
from playnano.formats.npz.zipstream import ZipWriter
from playnano.lazy import is_lazy
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
        members = [
            (f"{key}{layout.MEMBER_SUFFIX}", arr)
            for key, arr in layout.members(stack, contents)
        ]
        # ``data`` is usually the last layer: compress it once, store it twice
        frames: list[tuple[str, Any]] = []
        copies: dict[str, str] = {}
        for name, arr in members:
            if arr.ndim == 3:
                same = next((n for n, a in frames if same_array(a, arr)), None)
                if same is None:
                    frames.append((name, arr))
                else:
                    copies[name] = same
        # a lazy stack's layers are walked together, once (the first member is
        # streamed into the file, the others beside it until their turn); arrays
        # in memory are written one after another, to the same bytes
        together = len(frames) > 1 and any(is_lazy(a) for _, a in frames)
        spill = path.with_name(f".{path.name}.spill")
        spilled: dict[str, Any] = {}
        try:
            with open(path, "w+b") as fh:  # read too: a repeated array is copied
                zw = ZipWriter(fh)
                if together:
                    spilled = zw.add_together(frames, compress_level, spill)
                for name, arr in members:
                    if name in copies:
                        zw.add_copy(name, copies[name])
                    elif name in spilled:
                        zw.add_spilled(name, spilled.pop(name))
                    elif not (together and name == frames[0][0]):
                        zw.add_array(name, arr, compress_level)
                zw.close()
        finally:
            for left in spilled.values():
                left.path.unlink(missing_ok=True)
        return [path]


@hookimpl
def register_exporters(register: Any) -> None:
    """Register the NPZ exporter."""
    register(NpzExporter())
