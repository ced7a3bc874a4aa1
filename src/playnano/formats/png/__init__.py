"""The image sequence (``<base>_frames/``): :mod:`.exporter`, PNG frames or 16-bit TIFF heights."""
