"""OME-Zarr exporter and reader plugins for playnano.

Installing the package makes ``zarr`` (alias ``ome-zarr``) available to
``playnano.export``, ``export_bundles`` and ``playnano.load``; nothing here imports
zarr until a store is written or read.
"""

__version__ = "0.2.0"
