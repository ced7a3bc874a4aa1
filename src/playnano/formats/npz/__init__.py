"""The NPZ bundle: :mod:`.layout`, :mod:`.exporter` and :mod:`.reader`."""
