"""playnano-example: CSV export and import for playnano, one row per pixel.

Nothing is imported here: playnano imports ``playnano_example.exporter`` and
``playnano_example.reader`` through their entry points, only when it needs them.
"""
