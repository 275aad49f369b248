"""Loss tests: cheap password hashing (user creation is not what they test)."""

from __future__ import annotations

import pytest

from tests.web.data import cheap_password_hashing


@pytest.fixture(autouse=True)
def _cheap_passwords(monkeypatch):
    cheap_password_hashing(monkeypatch)
