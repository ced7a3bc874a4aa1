"""The plugin core: hook specifications, the contracts and the registry.

The contracts: :class:`Exporter` (an output format), :class:`Reader` (an input
file family) and :class:`FilterSpec` (a processing step), with their options.
Nothing here names a format, reader or step: the builtins register through the
package's own entry points exactly as third-party plugins do.
"""

from playnano.plugins.exporter import Capabilities, Exporter, Option
from playnano.plugins.hookspecs import hookimpl, hookspec
from playnano.plugins.reader import Reader, ReaderBase
from playnano.plugins.step import FilterSpec

__all__ = [
    "Capabilities",
    "Exporter",
    "FilterSpec",
    "Option",
    "Reader",
    "ReaderBase",
    "hookimpl",
    "hookspec",
]
