"""Annotated MP4 video exporter plugin for playnano.

Installing the package makes ``mp4`` available to ``playnano.export``,
``export_bundles`` and ``playnano process --export mp4``; nothing here imports
imageio-ffmpeg, matplotlib or Pillow until a video is written.
"""

__version__ = "0.1.0"
