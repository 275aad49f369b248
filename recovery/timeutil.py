"""Business time: timestamps stored in UTC, business dates in the service's time zone."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import current_app

from recovery import context
from recovery.errors import Invalid

UTC = dt.UTC
# A month as YYYY-MM, 1970 to 2199 (the assessment's, the agents' commission's and the reports' periods).
MONTH = re.compile(r"^(19[7-9][0-9]|2[01][0-9][0-9])-(0[1-9]|1[0-2])\Z")


def business_tz() -> ZoneInfo:
    """The business time zone: the active context's (recovery.context), else the app's RECOVERY_TZ."""
    given = context.active()
    return given.tz if given is not None else ZoneInfo(current_app.config["RECOVERY_TZ"])


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC (the active context's clock where one is in force)."""
    given = context.active()
    return dt.datetime.now(UTC) if given is None else given.clock().astimezone(UTC)


def today() -> dt.date:
    """Today's business date."""
    return now().astimezone(business_tz()).date()


def business_date(instant: dt.datetime) -> dt.date:
    """The business date an instant falls on."""
    return instant.astimezone(business_tz()).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight of a business date, as a UTC instant."""
    return dt.datetime.combine(day, dt.time(), tzinfo=business_tz()).astimezone(UTC)


def check_month(month: str) -> str:
    """The month as YYYY-MM, or Invalid."""
    if not MONTH.match(month or ""):
        raise Invalid(f"a month is written YYYY-MM (1970 to 2199), not {month!r}", code="bad_month")
    return month


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-03' -> (1 March, 31 March)."""
    year, m = (int(p) for p in month.split("-"))
    return dt.date(year, m, 1), dt.date(year, m, calendar.monthrange(year, m)[1])
