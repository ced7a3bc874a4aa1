"""Sample bundles for the bundle readers' conformance tests (one recipe, three formats)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from playnano.io.export_data import export_stack
from playnano.testing import make_sample_stack


def bundle_samples(folder: Path, fmt: str) -> list[Path]:
    """A full bundle (layers, masks, float64) and a raw one-frame int16 one."""
    full = export_stack(make_sample_stack(), folder / "full", fmt)[0]
    small = make_sample_stack(1, (5, 6), np.int16, processed=False, masks=False)
    return [full, export_stack(small, folder / "raw", fmt, raw=True)[0]]
