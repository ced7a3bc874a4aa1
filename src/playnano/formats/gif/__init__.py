"""The annotated GIF: :mod:`.exporter` (colours and annotations from :mod:`playnano.render`)."""
