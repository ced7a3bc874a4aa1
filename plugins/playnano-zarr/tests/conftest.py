"""Fixtures: the real instrument files, found as the core's tests find them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def afm() -> Path:
    """``$PLAYNANO_TEST_DATA/afm`` (default ``../shared/data/afm`` beside the repo).

    Skips with the reason when absent; with ``PLAYNANO_REQUIRE_DATA=1`` (CI) fails.
    """
    env = os.environ.get("PLAYNANO_TEST_DATA")
    root = (Path(env) if env else REPO.parent / "shared" / "data") / "afm"
    if not root.is_dir():
        reason = f"real AFM data not found at {root} (set PLAYNANO_TEST_DATA)"
        if os.environ.get("PLAYNANO_REQUIRE_DATA") == "1":
            pytest.fail(f"{reason}; PLAYNANO_REQUIRE_DATA=1 requires it", False)
        pytest.skip(reason)
    return root
