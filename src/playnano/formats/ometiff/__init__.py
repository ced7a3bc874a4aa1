"""The OME-TIFF stack: :mod:`.layout`, :mod:`.exporter` and :mod:`.reader`."""
