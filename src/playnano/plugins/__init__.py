"""The plugin core: hook specifications, declarations and the registry.

Nothing here names a format: the builtin exporters and readers register through the
package's own entry points exactly as third-party plugins do.
"""

from playnano.plugins.exporter import Capabilities, Exporter, Option
from playnano.plugins.hookspecs import hookimpl, hookspec
from playnano.plugins.reader import Reader, ReaderBase

__all__ = [
    "Capabilities",
    "Exporter",
    "Option",
    "Reader",
    "ReaderBase",
    "hookimpl",
    "hookspec",
]
