"""Load playnano bundles (NPZ, HDF5) and OME-TIFF stacks back into an AFMImageStack.

playnano 0.5.0's documented names; each format's reader lives with its layout and exporter
in :mod:`playnano.formats`. NPZ and HDF5 bundles come back bit for bit: data, every
processed layer and mask in their own dtype, frame metadata, provenance and state
backups. OME-TIFF stacks come back with their data, pixel size, timestamps, channel
and provenance.

Files written by playnano 0.5.0 load too. Its NPZ files store strings as pickled
object arrays; those are decoded by reading the pickle's opcodes, never by unpickling,
so a crafted file cannot run code. Anything missing or malformed raises
:class:`~playnano.errors.ReadError` naming the file.
"""

from __future__ import annotations

from playnano.formats.h5.reader import load_h5_bundle
from playnano.formats.npz.reader import load_npz_bundle
from playnano.formats.ometiff.reader import load_ome_tiff_stack

__all__ = ["load_h5_bundle", "load_npz_bundle", "load_ome_tiff_stack"]
