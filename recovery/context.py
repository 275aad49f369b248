"""What a service reads besides its session: the business time zone, the policy in force and the clock.

An application gives it from its config to every request, command and job (`timeutil` and `policy` read the
app's when no context is active). A script or a Dask worker without an application gives its own:

    with using(Context(tz=ZoneInfo("Asia/Shanghai"), policy=tomllib.load(f))):
        frame = penalties_as_of(session, day)       # a plain SQLAlchemy session; no Flask app anywhere

The context is held in a context variable, so it is the calling thread's (or task's) own, and a service keeps
its signature: what used to come from `current_app` comes from here first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Context:
    """tz: the business time zone; policy: the raw policy (a TOML document's sections, as `RECOVERY_POLICY`
    holds them; a section left out is its documented default); clock: the current instant, timezone-aware."""

    tz: ZoneInfo
    policy: Mapping[str, Any] = field(default_factory=dict)
    clock: Callable[[], dt.datetime] = _utc_now
    # Sections already validated, by name (policy.section fills it; the dataclass stays frozen for its fields).
    loaded: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


_active: ContextVar[Context | None] = ContextVar("recovery_context", default=None)


def active() -> Context | None:
    """The context in force in this thread or task, None where the application's config applies."""
    return _active.get()


@contextmanager
def using(context: Context) -> Iterator[Context]:
    """Run the block with `context` in force; the one before it is restored after, even on an error."""
    token = _active.set(context)
    try:
        yield context
    finally:
        _active.reset(token)
