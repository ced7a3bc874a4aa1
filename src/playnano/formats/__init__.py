"""playnano's own file formats, one package per format: NPZ, HDF5 and OME-TIFF.

Each package holds the format's ``layout`` (names and the rules both sides share,
no heavy imports), its ``exporter`` and its ``reader`` plugin modules, registered
through the ``playnano.exporters`` and ``playnano.readers`` entry points like any
third-party plugin. :mod:`playnano.io.export_data` and :mod:`playnano.io.loaders`
keep the seed's public function names.
"""
