"""napari-playnano: open, process and export HS-AFM videos with playnano in napari.

Nothing heavy is imported here; napari imports the reader, writer and widget modules
named in ``napari.yaml`` when they are first used.
"""

__version__ = "0.1.0"
