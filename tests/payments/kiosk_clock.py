"""The kiosk tests' clock: the morning after their fixed day, so that a payment of that day is a recent one."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

PAID = "2026-03-10T09:15:00+08:00"


@pytest.fixture(autouse=True)
def the_next_morning():
    """These tests tell the kiosks' days apart by date: the clock reads the morning after 2026-03-10, so that a
    payment of that day is a recent one, as a kiosk posts."""
    with time_machine.travel(dt.datetime(2026, 3, 11, 12, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=True):
        yield
