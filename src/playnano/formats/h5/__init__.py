"""The HDF5 bundle: :mod:`.layout`, :mod:`.exporter` and :mod:`.reader`."""
