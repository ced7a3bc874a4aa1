"""bioio reader plugin: HS-AFM videos and playnano bundles through playnano's readers.

``bioio.BioImage("video.asd")`` works for every file family playnano reads (``.asd``,
``.h5-jpk``, JPK frame folders, Nanoscope, playnano's NPZ/HDF5/OME-TIFF bundles and
any installed playnano reader plugin). Frames ``(T, Y, X)`` become bioio's ``TCZYX``
with one ``C`` per channel the file holds.
"""

from .reader import Reader
from .reader_metadata import ReaderMetadata

__version__ = "0.1.0"
__all__ = ["Reader", "ReaderMetadata"]
