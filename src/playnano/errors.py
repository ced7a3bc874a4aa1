"""Exception classes: every error a user can cause derives from PlaynanoError.

The CLI turns a ``PlaynanoError`` into one line on stderr and a non-zero exit; any
other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class PlaynanoError(Exception):
    """Base class of the errors a user can act on."""

    exit_code = 1


class StackError(PlaynanoError, ValueError):
    """An AFMImageStack was given data or metadata it cannot hold."""


class PluginError(PlaynanoError):
    """A plugin could not be loaded, registered or used."""


class PluginLoadError(PluginError):
    """A plugin failed to import or register (fatal under PLAYNANO_STRICT_PLUGINS)."""


class UnknownFormatError(PluginError, LookupError):
    """No installed plugin provides the requested name."""


class AmbiguousFormatError(PluginError, LookupError):
    """Two third-party plugins claim one name; the user must pick with ``dist:name``."""


class MissingDependencyError(PluginError):
    """The requested plugin needs an optional package that is not installed."""


class OptionError(PlaynanoError, ValueError):
    """An exporter, reader or filter option is unknown or has a bad value."""


class OutputExistsError(PlaynanoError, FileExistsError):
    """An output file exists and ``overwrite`` was not given."""


class ExportError(PlaynanoError):
    """A format could not be written."""


class OutputPathError(ExportError):
    """The output folder or file name cannot be used (checked before any work)."""


class DiskFullError(ExportError):
    """A write failed for lack of space or a file size limit; the export stopped.

    ``per_file`` is True for a file size limit (``EFBIG``: the limit is on each
    file, so smaller outputs still fit), False for a full disk or quota, which
    stops every other output too.
    """

    def __init__(self, message: str, *, per_file: bool = False) -> None:
        super().__init__(message)
        self.per_file = per_file


class ReadError(PlaynanoError, ValueError):
    """An input file is missing, truncated, corrupt or not understood."""


class ChannelError(ReadError):
    """The requested channel is not in the file."""


class ProcessingError(PlaynanoError, ValueError):
    """A processing step is unknown, misconfigured or failed."""


class EngineError(PlaynanoError):
    """A batch's Dask engine cannot run: its scheduler cannot be reached, or a local
    cluster cannot start."""


class PlaynanoWarning(UserWarning):
    """Base class of the warnings playnano emits."""


class ExportWarning(PlaynanoWarning):
    """An export left out or converted something the format cannot hold as it is."""
