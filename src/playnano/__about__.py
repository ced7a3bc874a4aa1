"""Version of the playnano package (read by the build backend)."""

__version__ = "0.6.0.dev0"
