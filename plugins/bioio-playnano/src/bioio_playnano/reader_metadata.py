"""What bioio needs to know about the plugin before importing the reader."""

from __future__ import annotations

import bioio_base.reader_metadata


class ReaderMetadata(bioio_base.reader_metadata.ReaderMetadata):
    """Suffixes of every builtin playnano reader (installed reader plugins work too)."""

    @staticmethod
    def get_supported_extensions() -> list[str]:
        """Suffixes bioio routes to this plugin by name.

        Folders and Nanoscope's numbered files (``.001``) have none: bioio finds
        the plugin by asking it, or pass ``reader=bioio_playnano.Reader``.
        """
        from playnano.plugins.registry import readers

        suffixes = set()
        for entry in readers().entries():
            suffixes.update(s.lstrip(".") for s in entry.obj.suffixes)
        return sorted(suffixes)

    @staticmethod
    def get_reader() -> type[bioio_base.reader.Reader]:
        """The reader class."""
        from .reader import Reader

        return Reader
