"""Every door of the zarr reader passes playnano's reader conformance kit."""

from __future__ import annotations

from pathlib import Path

import playnano
import pytest
from playnano.testing import ReaderConformance, make_sample_stack


class TestZarrReaderConformance(ReaderConformance):
    """A store playnano-zarr writes (layers, masks) and a raw one of uint16 frames."""

    reader_name = "zarr"

    @pytest.fixture
    def samples(self, tmp_path: Path) -> list[Path]:
        full = playnano.export(make_sample_stack(), tmp_path / "full", "zarr")[0]
        small = make_sample_stack(3, (5, 6), "uint16", processed=False, masks=False)
        raw = playnano.export(small, tmp_path / "raw", "zarr", raw=True)[0]
        return [full, raw]
