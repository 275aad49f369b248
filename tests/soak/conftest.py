"""The soak runs: long fuzzing and repeated crashes, skipped unless RECOVERY_SOAK=1 (see README.md here)."""

from __future__ import annotations

import os

import pytest

ENABLED = os.environ.get("RECOVERY_SOAK") == "1"


def rounds(default: int) -> int:
    """How many rounds or examples a soak test runs: RECOVERY_SOAK_ROUNDS, else its default."""
    return int(os.environ.get("RECOVERY_SOAK_ROUNDS", default))


def pytest_collection_modifyitems(config, items):
    skip = pytest.mark.skip(reason="soak run: set RECOVERY_SOAK=1 (tests/soak/README.md)")
    for item in items:
        if item.get_closest_marker("soak") and not ENABLED:
            item.add_marker(skip)
