"""TopoStats .topostats files: :mod:`.layout`, :mod:`.exporter`, :mod:`.reader`, :mod:`.check`."""
