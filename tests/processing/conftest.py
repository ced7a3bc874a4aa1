"""Fixtures for the processing tests."""

from __future__ import annotations

import numpy as np
import pytest

from playnano.afm_stack import AFMImageStack


@pytest.fixture
def make_stack():
    """Build an AFMImageStack from an array with per-frame timestamps."""

    def make(data: np.ndarray) -> AFMImageStack:
        md = [{"timestamp": 0.5 * i} for i in range(data.shape[0])]
        return AFMImageStack(data, 1.0, "height", None, frame_metadata=md)

    return make
