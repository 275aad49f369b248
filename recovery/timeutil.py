"""Business time: timestamps stored in UTC, business dates in the service's time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app

UTC = dt.UTC


def business_tz() -> ZoneInfo:
    """The configured business time zone (RECOVERY_TZ)."""
    return ZoneInfo(current_app.config["RECOVERY_TZ"])


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return dt.datetime.now(UTC)


def today() -> dt.date:
    """Today's business date."""
    return now().astimezone(business_tz()).date()


def business_date(instant: dt.datetime) -> dt.date:
    """The business date an instant falls on."""
    return instant.astimezone(business_tz()).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight of a business date, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(), tzinfo=business_tz()).astimezone(UTC)
